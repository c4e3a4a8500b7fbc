"""Consent: record (JSON), history, status, cooling-off — over real HTTP."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from nomi_contract import nomi_requests

from nomi_client import NomiClient
from nomi_client.errors import CoolingOffError, NotFoundError
from sandbox import SandboxServer

pytestmark = pytest.mark.integration

AT = datetime(2026, 1, 15, 10, 30, tzinfo=UTC)


def test_record_consent_with_every_field_is_recorded(client: NomiClient, sandbox: SandboxServer) -> None:
    contact = client.create_contact(phone="5555555555")

    event = client.record_consent(
        contact.contact_id,
        channel="sms",
        status="subscribed",
        source="webform",
        timestamp=AT,
        consent_text="I agree to receive SMS marketing messages from ACME Corp.",
        ip_address="192.0.2.1",
        user_agent="Mozilla/5.0",
    )

    assert (event.contact_id, event.channel, event.status, event.source) == (
        contact.contact_id,
        "sms",
        "subscribed",
        "webform",
    )
    assert event.event_timestamp == AT
    [request] = nomi_requests(sandbox, f"/contacts/{contact.contact_id}/consent")
    assert request["json"]["timestamp"] == "2026-01-15T10:30:00Z"
    assert request["json"]["user_agent"] == "Mozilla/5.0"


def test_record_consent_after_unsubscribe_raises_cooling_off_with_hours(client: NomiClient) -> None:
    contact = client.create_contact(phone="5555555555")
    client.unsubscribe(phone="5555555555", type="sms")

    with pytest.raises(CoolingOffError) as caught:
        client.record_consent(
            contact.contact_id,
            channel="sms",
            status="subscribed",
            source="webform",
            timestamp=datetime.now(UTC),
            consent_text="Yes",
        )

    assert 47 <= caught.value.hours_remaining <= 48


def test_record_consent_with_source_keyword_bypasses_cooling_off(client: NomiClient) -> None:
    contact = client.create_contact(phone="5555555555")
    client.unsubscribe(phone="5555555555", type="sms")

    event = client.record_consent(
        contact.contact_id,
        channel="sms",
        status="subscribed",
        source="keyword",
        timestamp=datetime.now(UTC),
        consent_text="START",
    )

    assert event.status == "subscribed"


def test_consent_history_lists_newest_first_and_filters_by_channel(client: NomiClient) -> None:
    contact = client.create_contact(phone="5555555555")
    common = {"source": "api", "timestamp": AT}
    client.record_consent(contact.contact_id, channel="email", status="subscribed", **common)
    client.record_consent(contact.contact_id, channel="sms", status="transactional_only", **common)
    client.record_consent(
        contact.contact_id,
        channel="sms",
        status="subscribed",
        consent_text="I agree.",
        ip_address="192.0.2.9",
        **common,
    )

    everything = client.get_consent_history(contact.contact_id)
    sms_only = client.get_consent_history(contact.contact_id, channel="sms")

    assert [e.status for e in everything.consent_events] == ["subscribed", "transactional_only", "subscribed"]
    assert (everything.current_sms_status, everything.current_email_status) == ("subscribed", "subscribed")
    assert [e.channel for e in sms_only.consent_events] == ["sms", "sms"]
    assert (sms_only.consent_events[0].consent_text, sms_only.consent_events[0].ip_address) == (
        "I agree.",
        "192.0.2.9",
    )
    assert sms_only.consent_events[0].event_timestamp == AT


def test_consent_status_without_consent_is_transactional_only(client: NomiClient) -> None:
    contact = client.create_contact(phone="5555555555")

    status = client.get_consent_status(contact.contact_id)

    assert status.contact_id == contact.contact_id
    assert (status.sms.status, status.sms.updated_at) == (None, None)
    assert (status.sms.can_receive_marketing, status.sms.can_receive_transactional) == (False, True)


def test_consent_status_after_opt_in_allows_marketing(client: NomiClient) -> None:
    contact = client.create_contact(phone="5555555555")
    client.record_consent(
        contact.contact_id,
        channel="sms",
        status="subscribed",
        source="checkout",
        timestamp=AT,
        consent_text="ok",
    )

    status = client.get_consent_status(contact.contact_id)

    assert status.sms.can_receive_marketing is True
    assert status.sms.updated_at is not None
    assert status.sms.updated_at.tzinfo is not None


def test_consent_of_unknown_contact_raises_not_found(client: NomiClient) -> None:
    with pytest.raises(NotFoundError):
        client.get_consent_status(424242)
