"""Exact wire format: multipart bracket notation, booleans, tags, JSON consent, auth placement."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pydantic
import pytest
from nomi_fake import API_KEY, FakeNomi, form_dict, form_fields, json_body, ok

from nomi_client import NomiClient
from nomi_client.errors import ConfigurationError
from nomi_client.models import ConsentInput

CONTACT = {"contact_id": 178, "phone": "+15555555555", "tags": [], "custom_variables": {}}
CONSENT_AT = datetime(2026, 1, 15, 10, 30, tzinfo=UTC)


def only_request(fake: FakeNomi) -> httpx.Request:
    [request] = fake.requests
    return request


def test_create_contact_sends_every_field_in_bracket_notation(client: NomiClient, fake: FakeNomi) -> None:
    fake.on("/contacts/create", ok(CONTACT))

    client.create_contact(
        phone="555-555-5555",
        first_name="John",
        last_name="Doe",
        email="john@example.com",
        tags=["buyer", "vip"],
        remove_tags=["lead"],
        custom_variables={"order_id": "ORD-1", "total": Decimal("12.50")},
        update=False,
        sms_consent=ConsentInput(
            status="subscribed",
            timestamp=CONSENT_AT,
            source="webform",
            consent_text="I agree.",
            ip_address="192.0.2.1",
            user_agent="Mozilla/5.0",
        ),
        email_consent=ConsentInput(status="transactional_only", timestamp=CONSENT_AT, source="checkout"),
    )

    assert form_fields(only_request(fake)) == [
        ("phone", "+15555555555"),
        ("first_name", "John"),
        ("last_name", "Doe"),
        ("email", "john@example.com"),
        ("tags", "buyer,vip"),
        ("remove_tags", "lead"),
        ("custom_variables[order_id]", "ORD-1"),
        ("custom_variables[total]", "12.50"),
        ("update", "false"),
        ("sms_consent[status]", "subscribed"),
        ("sms_consent[timestamp]", "2026-01-15T10:30:00Z"),
        ("sms_consent[source]", "webform"),
        ("sms_consent[consent_text]", "I agree."),
        ("sms_consent[ip_address]", "192.0.2.1"),
        ("sms_consent[user_agent]", "Mozilla/5.0"),
        ("email_consent[status]", "transactional_only"),
        ("email_consent[timestamp]", "2026-01-15T10:30:00Z"),
        ("email_consent[source]", "checkout"),
    ]


def test_create_contact_defaults_send_update_true_and_nothing_else(
    client: NomiClient, fake: FakeNomi
) -> None:
    fake.on("/contacts/create", ok(CONTACT))

    client.create_contact(phone="+15555555555")

    assert form_fields(only_request(fake)) == [("phone", "+15555555555"), ("update", "true")]


def test_update_contact_sends_remove_custom_variables_as_repeated_array(
    client: NomiClient, fake: FakeNomi
) -> None:
    fake.on("/contacts/update", ok(CONTACT))

    client.update_contact(
        contact_id=178,
        tags="tester",
        merge_tags=False,
        custom_variables={"order_status": "shipped"},
        remove_custom_variables=["discount_code", "coupon"],
        merge_custom_variables=False,
    )

    assert form_fields(only_request(fake)) == [
        ("contact_id", "178"),
        ("tags", "tester"),
        ("merge_tags", "false"),
        ("custom_variables[order_status]", "shipped"),
        ("remove_custom_variables[]", "discount_code"),
        ("remove_custom_variables[]", "coupon"),
        ("merge_custom_variables", "false"),
    ]


def test_every_request_is_multipart_with_accept_json_and_the_key_in_the_query(
    client: NomiClient, fake: FakeNomi
) -> None:
    fake.on("/contacts/unsubscribe", ok())

    client.unsubscribe(email="john@example.com", type="email")

    request = only_request(fake)
    assert request.headers["accept"] == "application/json"
    assert request.url.params["apikey"] == API_KEY
    assert form_dict(request) == {"email": "john@example.com", "type": "email"}


def test_record_consent_sends_json_with_the_four_required_fields(client: NomiClient, fake: FakeNomi) -> None:
    fake.on(
        "/contacts/178/consent",
        ok(
            {
                "consent_event_id": 1,
                "contact_id": 178,
                "channel": "sms",
                "status": "subscribed",
                "source": "keyword",
                "event_timestamp": "2026-01-15T10:30:00+00:00",
                "created_at": "2026-01-15T10:31:00+00:00",
            }
        ),
    )

    client.record_consent(178, channel="sms", status="subscribed", source="keyword", timestamp=CONSENT_AT)

    request = only_request(fake)
    assert request.method == "POST"
    assert request.headers["content-type"] == "application/json"
    assert json_body(request) == {
        "channel": "sms",
        "status": "subscribed",
        "source": "keyword",
        "timestamp": "2026-01-15T10:30:00Z",
    }


def test_record_consent_rejects_an_unknown_source_before_any_call(client: NomiClient, fake: FakeNomi) -> None:
    with pytest.raises(pydantic.ValidationError):
        client.record_consent(178, channel="sms", status="subscribed", source="fax", timestamp=CONSENT_AT)

    assert fake.requests == []


def test_get_consent_history_passes_channel_as_query(client: NomiClient, fake: FakeNomi) -> None:
    fake.on("/contacts/178/consent", ok({"contact_id": 178, "consent_events": []}))

    client.get_consent_history(178, channel="email")

    request = only_request(fake)
    assert (request.method, request.url.params["channel"]) == ("GET", "email")


def test_record_conversion_sends_no_key(make_client, fake: FakeNomi, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOMI_API_KEY", raising=False)
    fake.on("/conversion", ok(message="Conversion Succesful"))

    make_client(api_key=None).record_conversion(id="AAAAAA", amount="100.50")

    request = only_request(fake)
    assert "apikey" not in request.url.params
    assert "apikey" not in request.headers
    assert form_fields(request) == [("id", "AAAAAA"), ("amount", "100.50")]


def test_keyed_call_without_a_key_raises_configuration_error_before_http(
    make_client, fake: FakeNomi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NOMI_API_KEY", raising=False)

    with pytest.raises(ConfigurationError, match="NOMI_API_KEY"):
        make_client(api_key=None).get_balance()

    assert fake.requests == []


def test_send_message_sends_every_documented_field(client: NomiClient, fake: FakeNomi) -> None:
    fake.on("/messages/create", ok(message="Message sent successfully"))

    client.send_message(
        phone="5555555555",
        first_name="John",
        last_name="Smith",
        tags=["tester", "api"],
        message="API Test Message [link]",
        number_id=2,
        media_url="https://withnomi.ai/images/logo.png",
        promo_url="https://example.com/?sub=[code]",
    )

    assert form_dict(only_request(fake)) == {
        "phone": "+15555555555",
        "first_name": "John",
        "last_name": "Smith",
        "tags": "tester,api",
        "message": "API Test Message [link]",
        "number_id": "2",
        "media_url": "https://withnomi.ai/images/logo.png",
        "promo_url": "https://example.com/?sub=[code]",
    }


def test_lookup_campaigns_sends_filters_and_paging(client: NomiClient, fake: FakeNomi) -> None:
    fake.on(
        "/campaigns/lookup", ok({"current_page": 2, "per_page": 5, "total_campaigns": 0, "campaigns": []})
    )

    client.lookup_campaigns(campaign_id=100, name="product", status="complete", page=2, amount=5)

    assert form_dict(only_request(fake)) == {
        "campaign_id": "100",
        "name": "product",
        "status": "complete",
        "page": "2",
        "amount": "5",
    }


def test_lookup_campaigns_rejects_amount_above_the_maximum(client: NomiClient, fake: FakeNomi) -> None:
    with pytest.raises(pydantic.ValidationError):
        client.lookup_campaigns(amount=101)

    assert fake.requests == []


def test_lookup_contacts_sends_every_filter(client: NomiClient, fake: FakeNomi) -> None:
    fake.on("/contacts/lookup", ok({"current_page": 1, "per_page": 20, "total_contacts": 0, "contacts": []}))

    client.lookup_contacts(
        first_name="John",
        last_name="Doe",
        email="john@example.com",
        phone="5555555555",
        tags=["tester", "vip"],
        contact_id=178,
        state="ca",
        page=3,
        amount=200,
    )

    assert form_dict(only_request(fake)) == {
        "first_name": "John",
        "last_name": "Doe",
        "email": "john@example.com",
        "phone": "+15555555555",
        "tags": "tester,vip",
        "contact_id": "178",
        "state": "CA",
        "page": "3",
        "amount": "200",
    }


def test_send_message_without_contact_or_phone_is_rejected_before_any_call(
    client: NomiClient, fake: FakeNomi
) -> None:
    with pytest.raises(ValueError, match="contact_id, phone"):
        client.send_message(message="hi")

    assert fake.requests == []


def test_base_url_from_env_is_used_when_no_argument(fake: FakeNomi, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOMI_API_URL", "https://env.nomi.test/")
    monkeypatch.setenv("NOMI_API_KEY", "env-key")
    fake.on("/account/balance", ok({"balance": 1}))

    with NomiClient(http_client=httpx.Client(transport=httpx.MockTransport(fake))) as client:
        client.get_balance()

    request = only_request(fake)
    assert (request.url.host, request.url.params["apikey"]) == ("env.nomi.test", "env-key")


def test_explicit_arguments_win_over_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOMI_API_URL", "https://env.nomi.test")

    assert NomiClient(api_key="k", base_url="https://arg.nomi.test").base_url == "https://arg.nomi.test"


def test_default_base_url_is_nomis(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOMI_API_URL", raising=False)

    assert NomiClient(api_key="k").base_url == "https://api.withnomi.ai"


@pytest.mark.parametrize("amount", ["abc", "NaN", "Infinity"])
def test_record_conversion_rejects_a_non_number_amount_before_any_call(
    client: NomiClient, fake: FakeNomi, amount: str
) -> None:
    with pytest.raises(ValueError, match="amount"):
        client.record_conversion(id="AAAAAA", amount=amount)

    assert fake.requests == []
