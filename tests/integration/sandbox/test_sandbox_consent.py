"""Consent: new contacts only, the append-only log, derived status, the 48-hour cooling-off."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sandbox_helpers import SMS_OPT_IN, create_contact, post

from sandbox import SandboxServer

CONSENT_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")


def consent(
    status: str = "subscribed", source: str = "webform", channel: str = "sms", **extra: str
) -> dict[str, str]:
    body = {"channel": channel, "status": status, "source": source, "timestamp": "2026-01-15T10:30:00Z"}
    if channel == "sms" and status == "subscribed":
        body["consent_text"] = "I agree to receive SMS marketing messages."
    return {**body, **extra}


def test_create_new_contact_with_consent_records_event(nomi: httpx.Client) -> None:
    data = create_contact(nomi, **SMS_OPT_IN)

    assert data["sms_consent_status"] == "subscribed"
    assert data["consent_events"] == [{"channel": "sms", "status": "subscribed", "source": "webform"}]


def test_create_existing_contact_ignores_consent(sandbox: SandboxServer, nomi: httpx.Client) -> None:
    create_contact(nomi)

    data = create_contact(nomi, **SMS_OPT_IN)

    assert "consent_events" not in data
    assert sandbox.state.consent_log == []


def test_create_consent_without_source_answers_400(nomi: httpx.Client) -> None:
    fields = {k: v for k, v in SMS_OPT_IN.items() if k != "sms_consent[source]"}

    response = post(nomi, "/contacts/create", {"phone": "4155552671", **fields})

    assert response.status_code == 400
    assert "source" in response.json()["message"]


def test_create_sms_opt_in_without_consent_text_answers_400(nomi: httpx.Client) -> None:
    fields = {k: v for k, v in SMS_OPT_IN.items() if k != "sms_consent[consent_text]"}

    response = post(nomi, "/contacts/create", {"phone": "4155552671", **fields})

    assert response.status_code == 400


def test_record_consent_json_answers_documented_fields(nomi: httpx.Client) -> None:
    create_contact(nomi)

    response = nomi.post("/contacts/1/consent", json=consent(ip_address="192.0.2.1", user_agent="UA"))

    body = response.json()
    assert response.status_code == 200
    assert body["message"] == "Consent recorded successfully"
    assert body["data"]["consent_event_id"] == 1
    assert body["data"]["event_timestamp"] == "2026-01-15T10:30:00+00:00"
    assert CONSENT_TIME.match(body["data"]["created_at"])


@pytest.mark.parametrize("missing", ["channel", "status", "source", "timestamp"])
def test_record_consent_missing_required_field_answers_400(nomi: httpx.Client, missing: str) -> None:
    create_contact(nomi)
    body = consent()
    del body[missing]

    response = nomi.post("/contacts/1/consent", json=body)

    assert response.status_code == 400


def test_record_consent_invalid_source_answers_400(nomi: httpx.Client) -> None:
    create_contact(nomi)

    response = nomi.post("/contacts/1/consent", json=consent(source="carrier_pigeon"))

    assert response.status_code == 400


def test_record_consent_unknown_contact_answers_404(nomi: httpx.Client) -> None:
    response = nomi.post("/contacts/42/consent", json=consent())

    assert response.status_code == 404


def test_record_consent_invalid_json_answers_400(nomi: httpx.Client) -> None:
    create_contact(nomi)

    response = nomi.post(
        "/contacts/1/consent", content=b"{not json", headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400


def test_consent_log_appends_and_history_is_newest_first(nomi: httpx.Client) -> None:
    create_contact(nomi)
    nomi.post("/contacts/1/consent", json=consent("pending"))
    nomi.post("/contacts/1/consent", json=consent("subscribed"))
    nomi.post("/contacts/1/consent", json=consent("subscribed", channel="email"))

    data = nomi.get("/contacts/1/consent").json()["data"]

    assert [(e["id"], e["channel"], e["status"]) for e in data["consent_events"]] == [
        (3, "email", "subscribed"),
        (2, "sms", "subscribed"),
        (1, "sms", "pending"),
    ]
    assert (data["current_sms_status"], data["current_email_status"]) == ("subscribed", "subscribed")
    assert "user_agent" not in data["consent_events"][0]


def test_consent_history_channel_filter_keeps_that_channel(nomi: httpx.Client) -> None:
    create_contact(nomi)
    nomi.post("/contacts/1/consent", json=consent("subscribed"))
    nomi.post("/contacts/1/consent", json=consent("subscribed", channel="email"))

    events = nomi.get("/contacts/1/consent", params={"channel": "email"}).json()["data"]["consent_events"]

    assert [e["channel"] for e in events] == ["email"]


def test_consent_log_earlier_events_are_never_changed(sandbox: SandboxServer, nomi: httpx.Client) -> None:
    create_contact(nomi, **SMS_OPT_IN)
    first = sandbox.state.snapshot()["consent_log"][0]

    post(nomi, "/contacts/unsubscribe", {"phone": "4155552671", "type": "sms"})

    log = sandbox.state.snapshot()["consent_log"]
    assert log[0] == first
    assert [e["status"] for e in log] == ["subscribed", "unsubscribed"]


def test_consent_status_without_consent_is_transactional_only(nomi: httpx.Client) -> None:
    create_contact(nomi)

    data = nomi.get("/contacts/1/consent/status").json()["data"]

    expected = {
        "status": None,
        "updated_at": None,
        "can_receive_marketing": False,
        "can_receive_transactional": True,
    }
    assert data["sms"] == expected
    assert data["email"] == expected


def test_consent_status_subscribed_allows_marketing(nomi: httpx.Client) -> None:
    create_contact(nomi, **SMS_OPT_IN)

    sms = nomi.get("/contacts/1/consent/status").json()["data"]["sms"]

    assert (sms["status"], sms["can_receive_marketing"], sms["can_receive_transactional"]) == (
        "subscribed",
        True,
        True,
    )
    assert CONSENT_TIME.match(sms["updated_at"])


def test_consent_status_sms_unsubscribed_blocks_transactional(nomi: httpx.Client) -> None:
    create_contact(nomi, **SMS_OPT_IN)
    post(nomi, "/contacts/unsubscribe", {"phone": "4155552671", "type": "sms"})

    sms = nomi.get("/contacts/1/consent/status").json()["data"]["sms"]

    assert (sms["can_receive_marketing"], sms["can_receive_transactional"]) == (False, False)


def test_record_consent_resubscribe_within_48_hours_answers_422(nomi: httpx.Client) -> None:
    create_contact(nomi, **SMS_OPT_IN)
    post(nomi, "/contacts/unsubscribe", {"phone": "4155552671", "type": "sms"})

    response = nomi.post("/contacts/1/consent", json=consent("subscribed"))

    assert response.status_code == 422
    assert response.json() == {
        "success": False,
        "data": {"hours_remaining": 48},
        "message": "Contact is within the cooling-off period. Re-opt-in blocked for approximately 48 more hours.",
    }


def test_record_consent_blocked_resubscribe_appends_nothing(
    sandbox: SandboxServer, nomi: httpx.Client
) -> None:
    create_contact(nomi, **SMS_OPT_IN)
    post(nomi, "/contacts/unsubscribe", {"phone": "4155552671", "type": "sms"})

    nomi.post("/contacts/1/consent", json=consent("subscribed"))

    assert len(sandbox.state.consent_log) == 2


def test_record_consent_keyword_source_bypasses_cooling_off(nomi: httpx.Client) -> None:
    create_contact(nomi, **SMS_OPT_IN)
    post(nomi, "/contacts/unsubscribe", {"phone": "4155552671", "type": "sms"})

    response = nomi.post("/contacts/1/consent", json=consent("subscribed", source="keyword"))

    assert response.status_code == 200
    assert nomi.get("/contacts/1/consent/status").json()["data"]["sms"]["status"] == "subscribed"


def test_record_consent_hours_remaining_counts_down_with_clock(
    http: httpx.Client, sandbox: SandboxServer, nomi: httpx.Client
) -> None:
    create_contact(nomi, **SMS_OPT_IN)
    post(nomi, "/contacts/unsubscribe", {"phone": "4155552671", "type": "sms"})
    http.post("/_sandbox/clock", json={"advance_seconds": 3600.5})

    response = nomi.post("/contacts/1/consent", json=consent("subscribed"))

    assert response.json()["data"]["hours_remaining"] == 47


def test_record_consent_after_48_hours_is_accepted(sandbox: SandboxServer, nomi: httpx.Client) -> None:
    create_contact(nomi, **SMS_OPT_IN)
    post(nomi, "/contacts/unsubscribe", {"phone": "4155552671", "type": "sms"})
    sandbox.state.advance_clock(48 * 3600 + 1)

    response = nomi.post("/contacts/1/consent", json=consent("subscribed"))

    assert response.status_code == 200


def test_record_consent_sms_cooling_off_leaves_email_free(nomi: httpx.Client) -> None:
    create_contact(nomi, **SMS_OPT_IN)
    post(nomi, "/contacts/unsubscribe", {"phone": "4155552671", "type": "sms"})

    response = nomi.post("/contacts/1/consent", json=consent("subscribed", channel="email"))

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("status", "marketing", "transactional"),
    [("pending", False, True), ("transactional_only", False, True), ("unsubscribed", False, False)],
)
def test_consent_status_each_status_derives_abilities(
    nomi: httpx.Client, status: str, marketing: bool, transactional: bool
) -> None:
    create_contact(nomi)
    nomi.post("/contacts/1/consent", json=consent(status, channel="email"))

    email = nomi.get("/contacts/1/consent/status").json()["data"]["email"]

    assert (email["status"], email["can_receive_marketing"], email["can_receive_transactional"]) == (
        status,
        marketing,
        transactional,
    )


def test_create_new_contact_with_email_consent_records_event(nomi: httpx.Client) -> None:
    fields = {
        "email_consent[status]": "subscribed",
        "email_consent[timestamp]": "2026-01-15T10:30:00Z",
        "email_consent[source]": "checkout",
    }

    data = create_contact(nomi, email="a@example.com", **fields)

    assert (data["sms_consent_status"], data["email_consent_status"]) == (None, "subscribed")


def test_record_consent_unsubscribe_via_consent_endpoint_starts_cooling_off(nomi: httpx.Client) -> None:
    create_contact(nomi, **SMS_OPT_IN)
    now = datetime.now(UTC).isoformat()
    nomi.post("/contacts/1/consent", json=consent("unsubscribed", source="stop", timestamp=now))

    response = nomi.post("/contacts/1/consent", json=consent("subscribed"))

    assert response.status_code == 422


def test_record_consent_window_starts_at_event_timestamp(nomi: httpx.Client) -> None:
    create_contact(nomi, **SMS_OPT_IN)
    unsubscribed_at = (datetime.now(UTC) - timedelta(hours=47, minutes=30)).isoformat()
    nomi.post("/contacts/1/consent", json=consent("unsubscribed", source="stop", timestamp=unsubscribed_at))

    response = nomi.post("/contacts/1/consent", json=consent("subscribed"))

    assert response.json()["data"] == {"hours_remaining": 1}


def test_record_consent_form_body_is_accepted(nomi: httpx.Client) -> None:
    create_contact(nomi)

    response = nomi.post("/contacts/1/consent", data=consent("pending"))

    assert response.status_code == 200
