"""contacts/create, lookup, update, unsubscribe over real HTTP."""

from __future__ import annotations

import re

import httpx
import pytest
from sandbox_helpers import create_contact, post

from sandbox import SandboxServer

CONTACT_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def test_create_new_contact_answers_documented_fields(nomi: httpx.Client) -> None:
    response = post(
        nomi,
        "/contacts/create",
        {
            "phone": "(415) 555-2671",
            "first_name": "John",
            "last_name": "Doe",
            "email": "john@example.com",
            "tags": "buyer, vip",
        },
    )

    body = response.json()
    assert response.status_code == 200
    assert body["success"] is True
    assert body["message"] == "Contact created successfully"
    data = body["data"]
    assert data["phone"] == "+14155552671"
    assert data["tags"] == ["buyer", "vip"]
    assert data["custom_variables"] == {}
    assert (data["timezone"], data["state"]) == ("America/Los_Angeles", "CA")
    assert data["unsubscribed_at"] is None
    assert CONTACT_TIME.match(data["created_at"])
    assert (data["sms_consent_status"], data["email_consent_status"]) == (None, None)
    assert "consent_events" not in data


def test_create_reference_example_phone_normalises_to_e164(nomi: httpx.Client) -> None:
    data = create_contact(nomi, phone="5555555555")

    assert data["phone"] == "+15555555555"
    assert data["timezone"] == "Etc/Unknown"


def test_create_invalid_phone_answers_400(nomi: httpx.Client) -> None:
    response = post(nomi, "/contacts/create", {"phone": "123"})

    assert response.status_code == 400
    assert response.json()["success"] is False
    assert "phone" in response.json()["message"]


def test_create_missing_phone_answers_400(nomi: httpx.Client) -> None:
    response = post(nomi, "/contacts/create", {"first_name": "A"})

    assert response.status_code == 400


def test_create_urlencoded_body_is_accepted(nomi: httpx.Client) -> None:
    response = nomi.post("/contacts/create", data={"phone": "4155552671", "custom_variables[a]": "1"})

    assert response.json()["data"]["custom_variables"] == {"a": "1"}


def test_create_existing_contact_with_update_merges(nomi: httpx.Client) -> None:
    first = create_contact(nomi, tags="lead,buyer", **{"custom_variables[a]": "1"})

    response = post(
        nomi,
        "/contacts/create",
        {
            "phone": "+1 415 555 2671",
            "tags": "vip",
            "remove_tags": "lead",
            "first_name": "Jo",
            "custom_variables[b]": "2",
        },
    )

    data = response.json()["data"]
    assert response.json()["message"] == "Contact updated successfully"
    assert data["contact_id"] == first["contact_id"]
    assert data["tags"] == ["buyer", "vip"]
    assert data["custom_variables"] == {"a": "1", "b": "2"}
    assert data["first_name"] == "Jo"


def test_create_existing_contact_with_update_false_answers_409(
    sandbox: SandboxServer, nomi: httpx.Client
) -> None:
    create_contact(nomi, first_name="Ann")

    response = post(nomi, "/contacts/create", {"phone": "4155552671", "update": "false", "first_name": "Bob"})

    assert response.status_code == 409
    assert sandbox.state.contacts[1].first_name == "Ann"


def test_create_invalid_update_flag_answers_400(nomi: httpx.Client) -> None:
    response = post(nomi, "/contacts/create", {"phone": "4155552671", "update": "maybe"})

    assert response.status_code == 400


def test_lookup_filters_by_tags_all_must_match(nomi: httpx.Client) -> None:
    create_contact(nomi, phone="4155552671", tags="a,b")
    create_contact(nomi, phone="2125551234", tags="a")

    data = post(nomi, "/contacts/lookup", {"tags": "a,b"}).json()["data"]

    assert [c["phone"] for c in data["contacts"]] == ["+14155552671"]
    assert data["total_contacts"] == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("phone", "415-555-2671"),
        ("email", "ANN@example.com"),
        ("first_name", "ann"),
        ("state", "ca"),
        ("contact_id", "1"),
    ],
)
def test_lookup_by_each_filter_finds_contact(nomi: httpx.Client, field: str, value: str) -> None:
    create_contact(nomi, phone="4155552671", first_name="Ann", email="ann@example.com")
    create_contact(nomi, phone="2125551234", first_name="Bob", email="bob@example.com")

    contacts = post(nomi, "/contacts/lookup", {field: value}).json()["data"]["contacts"]

    assert [c["contact_id"] for c in contacts] == [1]
    assert contacts[0]["sms_consent_status"] is None


def test_lookup_without_page_fields_uses_defaults(nomi: httpx.Client) -> None:
    for number in range(25):
        create_contact(nomi, phone=f"41555500{number:02d}")

    data = post(nomi, "/contacts/lookup", {}).json()["data"]

    assert (data["current_page"], data["per_page"], data["total_contacts"]) == (1, 20, 25)
    assert len(data["contacts"]) == 20


def test_lookup_second_page_holds_the_rest(nomi: httpx.Client) -> None:
    for number in range(25):
        create_contact(nomi, phone=f"41555500{number:02d}")

    data = post(nomi, "/contacts/lookup", {"page": "2"}).json()["data"]

    assert [c["contact_id"] for c in data["contacts"]] == list(range(21, 26))


def test_lookup_amount_over_maximum_is_clamped(nomi: httpx.Client) -> None:
    data = post(nomi, "/contacts/lookup", {"amount": "500"}).json()["data"]

    assert data["per_page"] == 200


def test_lookup_amount_not_a_number_answers_400(nomi: httpx.Client) -> None:
    response = post(nomi, "/contacts/lookup", {"amount": "lots"})

    assert response.status_code == 400


def test_update_merge_tags_false_overwrites_tags(nomi: httpx.Client) -> None:
    create_contact(nomi, tags="a,b")

    data = post(nomi, "/contacts/update", {"contact_id": "1", "tags": "c", "merge_tags": "false"}).json()[
        "data"
    ]

    assert data["tags"] == ["c"]


def test_update_default_merges_tags_and_removes(nomi: httpx.Client) -> None:
    create_contact(nomi, tags="a,b")

    data = post(nomi, "/contacts/update", {"phone": "4155552671", "tags": "c", "remove_tags": "a"}).json()[
        "data"
    ]

    assert data["tags"] == ["b", "c"]


def test_update_custom_variables_merge_and_remove(nomi: httpx.Client) -> None:
    create_contact(
        nomi, **{"custom_variables[a]": "1", "custom_variables[b]": "2", "custom_variables[c]": "3"}
    )

    fields = {"contact_id": "1", "custom_variables[a]": "9", "remove_custom_variables[]": ["b", "c"]}
    data = post(nomi, "/contacts/update", fields).json()["data"]

    assert data["custom_variables"] == {"a": "9"}


def test_update_merge_custom_variables_false_overwrites(nomi: httpx.Client) -> None:
    create_contact(nomi, **{"custom_variables[a]": "1", "custom_variables[b]": "2"})

    fields = {"contact_id": "1", "custom_variables[z]": "26", "merge_custom_variables": "false"}
    data = post(nomi, "/contacts/update", fields).json()["data"]

    assert data["custom_variables"] == {"z": "26"}


def test_update_changes_names_and_email(nomi: httpx.Client) -> None:
    create_contact(nomi, first_name="John", last_name="Doe")

    body = post(
        nomi, "/contacts/update", {"contact_id": "1", "last_name": "Smith", "email": "j@example.com"}
    ).json()

    assert body["message"] == "Contact updated successfully"
    assert (body["data"]["first_name"], body["data"]["last_name"], body["data"]["email"]) == (
        "John",
        "Smith",
        "j@example.com",
    )
    assert "sms_consent_status" not in body["data"]


def test_update_unknown_contact_answers_404(nomi: httpx.Client) -> None:
    response = post(nomi, "/contacts/update", {"contact_id": "999", "first_name": "X"})

    assert response.status_code == 404


def test_update_without_contact_id_or_phone_answers_400(nomi: httpx.Client) -> None:
    response = post(nomi, "/contacts/update", {"first_name": "X"})

    assert response.status_code == 400


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("sms", ("unsubscribed", None)),
        ("email", (None, "unsubscribed")),
        ("both", ("unsubscribed", "unsubscribed")),
    ],
)
def test_unsubscribe_by_phone_per_channel_sets_statuses(
    nomi: httpx.Client, kind: str, expected: tuple[str | None, str | None]
) -> None:
    create_contact(nomi)

    response = post(nomi, "/contacts/unsubscribe", {"phone": "4155552671", "type": kind})

    contact = post(nomi, "/contacts/lookup", {"contact_id": "1"}).json()["data"]["contacts"][0]
    assert response.json() == {"success": True, "data": [], "message": "Contact unsubscribed successfully"}
    assert (contact["sms_consent_status"], contact["email_consent_status"]) == expected


def test_unsubscribe_default_type_is_both(nomi: httpx.Client) -> None:
    create_contact(nomi)

    post(nomi, "/contacts/unsubscribe", {"phone": "4155552671"})

    status = nomi.get("/contacts/1/consent/status").json()["data"]
    assert (status["sms"]["status"], status["email"]["status"]) == ("unsubscribed", "unsubscribed")


def test_unsubscribe_by_email_unsubscribes_that_contact(nomi: httpx.Client) -> None:
    create_contact(nomi, email="ann@example.com")

    post(nomi, "/contacts/unsubscribe", {"email": "Ann@Example.com", "type": "email"})

    assert nomi.get("/contacts/1/consent/status").json()["data"]["email"]["status"] == "unsubscribed"


def test_unsubscribe_sms_stamps_unsubscribed_at(nomi: httpx.Client) -> None:
    create_contact(nomi)

    post(nomi, "/contacts/unsubscribe", {"phone": "4155552671", "type": "sms"})

    contact = post(nomi, "/contacts/lookup", {"contact_id": "1"}).json()["data"]["contacts"][0]
    assert CONTACT_TIME.match(contact["unsubscribed_at"])


def test_unsubscribe_unknown_contact_answers_404(nomi: httpx.Client) -> None:
    response = post(nomi, "/contacts/unsubscribe", {"phone": "4155552671"})

    assert response.status_code == 404


def test_unsubscribe_invalid_type_answers_400(nomi: httpx.Client) -> None:
    create_contact(nomi)

    response = post(nomi, "/contacts/unsubscribe", {"phone": "4155552671", "type": "fax"})

    assert response.status_code == 400


def test_unsubscribe_twice_appends_one_event(sandbox: SandboxServer, nomi: httpx.Client) -> None:
    create_contact(nomi)

    post(nomi, "/contacts/unsubscribe", {"phone": "4155552671", "type": "sms"})
    post(nomi, "/contacts/unsubscribe", {"phone": "4155552671", "type": "sms"})

    assert len(sandbox.state.consent_log) == 1


def test_lookup_page_zero_answers_400(nomi: httpx.Client) -> None:
    response = post(nomi, "/contacts/lookup", {"page": "0"})

    assert response.status_code == 400


def test_lookup_page_past_end_answers_empty_list(nomi: httpx.Client) -> None:
    create_contact(nomi)

    data = post(nomi, "/contacts/lookup", {"page": "5"}).json()["data"]

    assert (data["total_contacts"], data["contacts"]) == (1, [])
