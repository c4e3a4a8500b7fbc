"""Privacy (issue 12): customers/redact unsubscribes by phone and by email, DynamoDB names people only
by keyed pseudonyms, and a redact deletes that person's items (moto for the DynamoDB parts)."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from processor_fakes import (
    NOW,
    FakeNomi,
    as_record,
    canonical_body,
    envelope_body,
    make_worker,
    person,
    shipped,
)

from processor.checkpoints import DynamoDBCheckpoints
from processor.dlq import InMemoryDeadLetters
from processor.settings import MappingSettings
from processor.wiring import identity_hash_key

FIXTURES = Path(__file__).parent / "sources" / "fixtures"
TRIGGERED = {"x-shopify-triggered-at": "2026-11-23T12:00:00Z"}
KEY = b"k" * 32
SETTINGS = MappingSettings().with_identity_key(KEY)
TEXT = "Text me offers. Reply STOP to opt out."


def _redact(customer: dict[str, object]):
    payload = {"shop_id": 1, "shop_domain": "s.myshopify.com", "customer": customer, "orders_to_redact": []}
    return as_record(envelope_body("shopify", "customers/redact", payload, headers=TRIGGERED))


def _upsert(event_id, phone, email):
    evidence = {"status": "subscribed", "timestamp": "2026-11-20T10:00:00+00:00", "source": "webform"}
    return as_record(
        canonical_body(
            {
                "type": "contact.upsert",
                "event_id": event_id,
                "occurred_at": NOW.isoformat(),
                "person": person(phone, email=email),
                "sms_consent": {**evidence, "consent_text": TEXT},
                "email_consent": evidence,
            }
        )
    )


@pytest.fixture
def table(idempotency_table):
    return idempotency_table


def _items(client):
    return client.scan(TableName="idem")["Items"]


# --- customers/redact unsubscribes by phone AND by email


def test_redact_unsubscribes_by_phone_and_by_email():
    nomi = FakeNomi()
    make_worker(nomi).handle(_redact({"id": 7, "phone": "+13125550142", "email": "Maya@Example.com"}))
    assert nomi.unsubscribes == [
        {"phone": "+13125550142", "email": None, "type": "both"},
        {"phone": None, "email": "maya@example.com", "type": "both"},
    ]


def test_redact_of_customer_without_phone_unsubscribes_by_email():
    nomi = FakeNomi()
    make_worker(nomi).handle(_redact({"id": 7, "phone": None, "email": "maya@example.com"}))
    assert nomi.unsubscribes == [{"phone": None, "email": "maya@example.com", "type": "both"}]


def test_redact_of_person_unknown_to_nomi_is_done_not_retried():
    nomi, dlq = FakeNomi(unknown_unsubscribe_404=True), InMemoryDeadLetters()
    result = make_worker(nomi, dead_letters=dlq).handle(
        _redact({"id": 7, "phone": "+13125550142", "email": "maya@example.com"})
    )
    assert dlq.letters == []
    assert [s["status"] for s in result["events"][0]["steps"]] == ["done", "done", "done"]


# --- DynamoDB holds pseudonyms only, and a redact deletes the person's items


def test_dynamodb_items_name_no_phone_or_email(table):
    nomi = FakeNomi()
    worker = make_worker(nomi, checkpoints=DynamoDBCheckpoints("idem", client=table), settings=SETTINGS)
    worker.handle(_upsert("u-1", "+15555550100", "ada@example.com"))
    worker.handle(as_record(canonical_body(shipped())))
    stored = json.dumps(_items(table))
    assert _items(table)
    assert "5555550100" not in stored
    assert "ada@example.com" not in stored
    assert SETTINGS.pseudonym("phone", "+15555550100") in stored


def test_redact_deletes_the_persons_items_and_keeps_everyone_elses(table):
    nomi = FakeNomi()
    worker = make_worker(nomi, checkpoints=DynamoDBCheckpoints("idem", client=table), settings=SETTINGS)
    worker.handle(_upsert("u-maya", "+13125550142", "maya@example.com"))
    worker.handle(_upsert("u-ada", "+15555550100", "ada@example.com"))
    worker.handle(_redact({"id": 7, "phone": "+13125550142", "email": "maya@example.com"}))
    stored = json.dumps(_items(table))
    for gone in (
        SETTINGS.pseudonym("phone", "+13125550142"),
        SETTINGS.pseudonym("email", "maya@example.com"),
    ):
        assert gone not in stored
    assert SETTINGS.pseudonym("phone", "+15555550100") in stored
    assert SETTINGS.pseudonym("email", "ada@example.com") in stored


def test_pseudonyms_depend_on_the_stacks_key():
    other = MappingSettings().with_identity_key(b"o" * 32)
    assert SETTINGS.pseudonym("phone", "+15555550100") != other.pseudonym("phone", "+15555550100")


def test_identity_key_is_read_from_the_stacks_secret(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("IDENTITY_HASH_SECRET_NAME", "identity-key")
    with mock_aws():
        boto3.client("secretsmanager").create_secret(
            Name="identity-key", SecretString="s3cr3t-identity-key-value\n"
        )
        assert identity_hash_key() == b"s3cr3t-identity-key-value"
