"""Answers parse into the models: four timestamp formats, nullable fields, `data: []`."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from nomi_fake import FakeNomi, ok

from nomi_client import NomiClient
from nomi_client.models import Campaign, Contact, Message, parse_nomi_datetime


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-31T21:12:30.000000Z", datetime(2024, 3, 31, 21, 12, 30, tzinfo=UTC)),
        ("2024-03-22 17:18:00", datetime(2024, 3, 22, 17, 18, tzinfo=UTC)),
        ("2023-07-29 17:33:02", datetime(2023, 7, 29, 17, 33, 2, tzinfo=UTC)),
        ("2026-01-15T10:30:00+00:00", datetime(2026, 1, 15, 10, 30, tzinfo=UTC)),
        ("2024-03-31T21:16:42.299463Z", datetime(2024, 3, 31, 21, 16, 42, 299463, tzinfo=UTC)),
    ],
)
def test_parse_nomi_datetime_reads_every_format_as_aware(text: str, expected: datetime) -> None:
    parsed = parse_nomi_datetime(text)

    assert parsed == expected
    assert parsed.tzinfo is not None


def test_parse_nomi_datetime_keeps_a_non_utc_offset() -> None:
    assert parse_nomi_datetime("2026-01-15T12:30:00+02:00") == datetime(2026, 1, 15, 10, 30, tzinfo=UTC)


def test_campaign_from_the_collection_example_parses() -> None:
    campaign = Campaign.model_validate(
        {
            "campaign_id": 100,
            "name": "The Best Product for Home Defense",
            "status": "complete",
            "number": "8888888888",
            "url": "https://mysite.com/?sub=[code]",
            "message": "My Site: [name]!",
            "media": "",
            "revenue": 1000,
            "conversions": 22,
            "sent": 67457,
            "filtered": 2125,
            "unsubscribed": 171,
            "send_at": "2024-03-22 17:18:00",
            "sent_at": "2024-03-22 17:18:02",
            "completed_at": None,
            "failed": False,
            "delivered": 64946,
            "updated_at": "2024-03-29T19:48:43.000000Z",
            "created_at": "2024-03-22T17:18:00.000000Z",
            "brand_new_field": "ignored",
        }
    )

    assert campaign.send_at == datetime(2024, 3, 22, 17, 18, tzinfo=UTC)
    assert (campaign.completed_at, campaign.revenue, campaign.number) == (None, 1000, "8888888888")


def test_contact_with_nulls_and_php_empty_map_parses() -> None:
    contact = Contact.model_validate(
        {
            "contact_id": 178,
            "first_name": None,
            "phone": "+15555555555",
            "tags": ["tester"],
            "custom_variables": [],
            "timezone": "Etc/Unknown",
            "unsubscribed_at": None,
            "sms_consent_status": None,
            "email_consent_status": None,
            "updated_at": "2024-03-31T21:16:42.299463Z",
            "created_at": "2024-03-31T21:12:30.000000Z",
        }
    )

    assert (contact.custom_variables, contact.unsubscribed_at, contact.consent_events) == ({}, None, [])


def test_message_created_at_without_zone_is_utc() -> None:
    message = Message.model_validate({"contact_id": 1, "message": "hi", "created_at": "2023-07-29 17:33:02"})

    assert message.created_at == datetime(2023, 7, 29, 17, 33, 2, tzinfo=UTC)


def test_consent_status_example_parses_with_null_email_status(client: NomiClient, fake: FakeNomi) -> None:
    fake.on(
        "/contacts/178/consent/status",
        ok(
            {
                "contact_id": 178,
                "sms": {
                    "status": "subscribed",
                    "updated_at": "2026-01-15T10:31:00+00:00",
                    "can_receive_marketing": True,
                    "can_receive_transactional": True,
                },
                "email": {
                    "status": None,
                    "updated_at": None,
                    "can_receive_marketing": False,
                    "can_receive_transactional": True,
                },
            }
        ),
    )

    status = client.get_consent_status(178)

    assert status.sms.updated_at == datetime(2026, 1, 15, 10, 31, tzinfo=UTC)
    assert (status.email.status, status.email.can_receive_transactional) == (None, True)


def test_consent_history_example_parses(client: NomiClient, fake: FakeNomi) -> None:
    fake.on(
        "/contacts/178/consent",
        ok(
            {
                "contact_id": 178,
                "current_sms_status": "subscribed",
                "current_email_status": None,
                "consent_events": [
                    {
                        "id": 1,
                        "channel": "sms",
                        "status": "subscribed",
                        "source": "webform",
                        "event_timestamp": "2026-01-15T10:30:00+00:00",
                        "ip_address": "192.168.1.1",
                        "consent_text": "I agree to receive SMS marketing messages.",
                        "created_at": "2026-01-15T10:31:00+00:00",
                    }
                ],
            }
        ),
    )

    history = client.get_consent_history(178)

    assert history.consent_events[0].event_timestamp == datetime(2026, 1, 15, 10, 30, tzinfo=UTC)
    assert history.current_email_status is None


def test_empty_data_answers_return_none(client: NomiClient, fake: FakeNomi) -> None:
    fake.on("/contacts/unsubscribe", ok([], "Contact unsubscribed successfully"))
    fake.on("/messages/create", ok([], "Message sent successfully"))

    assert client.unsubscribe(phone="5555555555") is None
    assert client.send_message(contact_id=1, message="hi") is None


def test_create_contact_answer_with_consent_events_parses(client: NomiClient, fake: FakeNomi) -> None:
    fake.on(
        "/contacts/create",
        ok(
            {
                "contact_id": 178,
                "phone": "+15555555555",
                "tags": ["tester"],
                "custom_variables": {},
                "sms_consent_status": "subscribed",
                "email_consent_status": None,
                "consent_events": [{"channel": "sms", "status": "subscribed", "source": "webform"}],
            }
        ),
    )

    contact = client.create_contact(phone="5555555555")

    assert contact.consent_events[0].source == "webform"
