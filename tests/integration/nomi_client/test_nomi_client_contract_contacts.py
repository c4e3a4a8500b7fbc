"""Contacts: create, lookup, update, unsubscribe — every documented parameter, over real HTTP."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from nomi_contract import nomi_requests

from nomi_client import NomiClient
from nomi_client.errors import AuthenticationError, NotFoundError, ValidationError
from nomi_client.models import ConsentInput
from sandbox import SandboxServer

pytestmark = pytest.mark.integration

OPT_IN = ConsentInput(
    status="subscribed",
    timestamp=datetime(2026, 1, 15, 10, 30, tzinfo=UTC),
    source="webform",
    consent_text="I agree to receive SMS marketing messages.",
    ip_address="192.0.2.1",
    user_agent="Mozilla/5.0",
)


def test_create_contact_with_every_field_creates_it_normalised(
    client: NomiClient, sandbox: SandboxServer
) -> None:
    contact = client.create_contact(
        phone="(415) 555-2671",
        first_name="John",
        last_name="Doe",
        email="john.doe@example.com",
        tags=["buyer", "vip"],
        custom_variables={"order_id": "ORD-12345", "tracking_number": "TRK-67890"},
        sms_consent=OPT_IN,
        email_consent=ConsentInput(
            status="transactional_only", timestamp=datetime(2026, 1, 15, tzinfo=UTC), source="checkout"
        ),
    )

    assert contact.phone == "+14155552671"
    assert (contact.first_name, contact.last_name, contact.email) == ("John", "Doe", "john.doe@example.com")
    assert contact.tags == ["buyer", "vip"]
    assert contact.custom_variables == {"order_id": "ORD-12345", "tracking_number": "TRK-67890"}
    assert (contact.sms_consent_status, contact.email_consent_status) == ("subscribed", "transactional_only")
    assert [(e.channel, e.status, e.source) for e in contact.consent_events] == [
        ("sms", "subscribed", "webform"),
        ("email", "transactional_only", "checkout"),
    ]
    assert contact.created_at is not None
    assert contact.created_at.tzinfo is not None
    [event] = [e for e in sandbox.state.consent_log if e.channel == "sms"]
    assert (event.consent_text, event.ip_address, event.user_agent) == (
        OPT_IN.consent_text,
        "192.0.2.1",
        "Mozilla/5.0",
    )


def test_create_contact_existing_with_update_true_upserts_and_removes_tags(client: NomiClient) -> None:
    first = client.create_contact(phone="5555555555", tags=["lead", "tester"])

    again = client.create_contact(phone="+1 555 555 5555", tags=["buyer"], remove_tags=["lead"], update=True)

    assert again.contact_id == first.contact_id
    assert again.tags == ["tester", "buyer"]


def test_create_contact_existing_with_update_false_is_refused(client: NomiClient) -> None:
    client.create_contact(phone="5555555555")

    with pytest.raises(ValidationError):
        client.create_contact(phone="5555555555", update=False)


def test_create_contact_sends_multipart_with_key_in_query(client: NomiClient, sandbox: SandboxServer) -> None:
    client.create_contact(phone="5555555555", update=True)

    [request] = nomi_requests(sandbox, "/contacts/create")
    assert request["auth"] == "query"
    assert request["form"] == {"phone": "+15555555555", "update": "true"}


def test_lookup_contacts_filters_by_each_field(client: NomiClient) -> None:
    john = client.create_contact(
        phone="4155552671", first_name="John", last_name="Doe", email="john@example.com", tags=["a", "b"]
    )
    client.create_contact(
        phone="2125550123", first_name="Jane", last_name="Roe", email="jane@example.com", tags=["a"]
    )

    def ids(**filters: object) -> list[int]:
        return [c.contact_id for c in client.lookup_contacts(**filters).contacts]

    assert ids(first_name="John") == [john.contact_id]
    assert ids(last_name="Doe") == [john.contact_id]
    assert ids(email="john@example.com") == [john.contact_id]
    assert ids(phone="(415) 555-2671") == [john.contact_id]
    assert ids(tags=["a", "b"]) == [john.contact_id]
    assert ids(contact_id=john.contact_id) == [john.contact_id]
    assert ids(state=john.state) == [john.contact_id]
    assert len(ids(tags=["a"])) == 2


def test_lookup_contacts_pages_with_page_and_amount(client: NomiClient) -> None:
    for n in range(5):
        client.create_contact(phone=f"415555010{n}")

    page = client.lookup_contacts(page=2, amount=2)

    assert (page.current_page, page.per_page, page.total_contacts, len(page.contacts)) == (2, 2, 5, 2)
    assert page.contacts[0].sms_consent_status is None


def test_iter_contacts_walks_every_page(client: NomiClient) -> None:
    for n in range(5):
        client.create_contact(phone=f"415555010{n}")

    assert len(list(client.iter_contacts(amount=2))) == 5


def test_find_contact_by_phone_returns_match_or_none(client: NomiClient) -> None:
    created = client.create_contact(phone="4155552671")

    assert client.find_contact(phone="415-555-2671").contact_id == created.contact_id
    assert client.find_contact(phone="2125550123") is None


def test_update_contact_by_id_merges_tags_and_custom_variables(client: NomiClient) -> None:
    created = client.create_contact(phone="5555555555", tags=["a"], custom_variables={"x": "1", "y": "2"})

    updated = client.update_contact(
        contact_id=created.contact_id,
        first_name="Jo",
        last_name="Smith",
        email="jo@example.com",
        tags=["b"],
        remove_tags=["a"],
        custom_variables={"z": "3"},
        remove_custom_variables=["y"],
    )

    assert (updated.first_name, updated.last_name, updated.email) == ("Jo", "Smith", "jo@example.com")
    assert updated.tags == ["b"]
    assert updated.custom_variables == {"x": "1", "z": "3"}


def test_update_contact_by_phone_with_merge_false_overwrites(client: NomiClient) -> None:
    client.create_contact(phone="5555555555", tags=["a", "b"], custom_variables={"x": "1"})

    updated = client.update_contact(
        phone="555.555.5555",
        tags=["c"],
        merge_tags=False,
        custom_variables={"y": "2"},
        merge_custom_variables=False,
    )

    assert (updated.tags, updated.custom_variables) == (["c"], {"y": "2"})


def test_update_contact_unknown_id_raises_not_found(client: NomiClient) -> None:
    with pytest.raises(NotFoundError):
        client.update_contact(contact_id=999, first_name="X")


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("sms", ("unsubscribed", None)),
        ("email", (None, "unsubscribed")),
        ("both", ("unsubscribed", "unsubscribed")),
    ],
)
def test_unsubscribe_by_phone_per_type(
    client: NomiClient, kind: str, expected: tuple[object, object]
) -> None:
    created = client.create_contact(phone="5555555555")

    assert client.unsubscribe(phone="5555555555", type=kind) is None

    status = client.get_consent_status(created.contact_id)
    assert (status.sms.status, status.email.status) == expected


def test_unsubscribe_by_email_defaults_to_both(client: NomiClient) -> None:
    created = client.create_contact(phone="5555555555", email="a@example.com")

    client.unsubscribe(email="a@example.com")

    history = client.get_consent_history(created.contact_id)
    assert {e.channel for e in history.consent_events} == {"sms", "email"}


def test_wrong_key_raises_authentication_error(make_client) -> None:
    with pytest.raises(AuthenticationError):
        make_client(api_key="wrong-key").lookup_contacts()


def test_header_auth_is_accepted(make_client, sandbox: SandboxServer) -> None:
    make_client(auth="header").lookup_contacts()

    assert nomi_requests(sandbox)[-1]["auth"] == "header"
