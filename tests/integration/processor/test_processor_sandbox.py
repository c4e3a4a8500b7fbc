"""End to end: SQS batch → processor handler → real NomiClient → NOMI sandbox over HTTP (AWS on moto).

Asserts the sandbox's resulting state: contact, custom variables, consent log, exactly one message,
conversion credited to the campaign.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from sandbox import FaultConfig, SandboxServer

pytestmark = pytest.mark.integration

API_KEY = "test-key"
PHONE = "+15555550100"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
SHOPIFY_FIXTURES = Path(__file__).parents[2] / "unit" / "processor" / "sources" / "fixtures" / "shopify"


@dataclass
class _Context:
    function_name: str = "processor"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:processor"
    aws_request_id: str = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


@pytest.fixture
def stack(monkeypatch):
    """The sandbox, moto (DynamoDB table, DLQ) and the processor app wired to both."""
    with SandboxServer(api_key=API_KEY, host="127.0.0.1", port=0) as sandbox:
        for key, value in {
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "IDEMPOTENCY_TABLE": "idem",
            "NOMI_API_KEY": API_KEY,
            "NOMI_API_URL": sandbox.url,
            "POWERTOOLS_TRACE_DISABLED": "1",
            "POWERTOOLS_SERVICE_NAME": "processor",
        }.items():
            monkeypatch.setenv(key, value)
        monkeypatch.delenv("NOMI_API_KEY_SECRET_NAME", raising=False)
        monkeypatch.delenv("MAPPING_SETTINGS", raising=False)
        with mock_aws():
            boto3.client("dynamodb").create_table(
                TableName="idem",
                KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                AttributeDefinitions=[
                    {"AttributeName": "id", "AttributeType": "S"},
                    {"AttributeName": "person", "AttributeType": "S"},
                ],
                # As template.yaml: the sparse index a privacy erasure queries.
                GlobalSecondaryIndexes=[
                    {
                        "IndexName": "person",
                        "KeySchema": [{"AttributeName": "person", "KeyType": "HASH"}],
                        "Projection": {"ProjectionType": "KEYS_ONLY"},
                    }
                ],
                BillingMode="PAY_PER_REQUEST",
            )
            sqs = boto3.client("sqs")
            monkeypatch.setenv("DLQ_URL", sqs.create_queue(QueueName="events-dlq")["QueueUrl"])
            from processor import app
            from processor.settings import load_settings

            load_settings.cache_clear()
            app.runtime.cache_clear()
            yield app, sandbox
            app.runtime().deps.client.close()
            app.runtime.cache_clear()


def _record(body: dict, message_id: str) -> dict:
    return {
        "messageId": message_id,
        "receiptHandle": f"rh-{message_id}",
        "body": json.dumps(body),
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": str(int(NOW.timestamp() * 1000))},
        "messageAttributes": {},
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:events",
        "awsRegion": "us-east-1",
    }


def _batch(app, *bodies: dict) -> dict:
    records = [_record(body, f"m-{i}-{body.get('event_id')}") for i, body in enumerate(bodies)]
    return app.lambda_handler({"Records": records}, _Context())


def _person() -> dict:
    return {
        "phone": "(555) 555-0100",
        "first_name": "Zoë",
        "last_name": "Ångström",
        "email": "zoe@example.com",
    }


def _upsert(event_id: str = "up-1") -> dict:
    return {
        "type": "contact.upsert",
        "event_id": event_id,
        "occurred_at": NOW.isoformat(),
        "person": _person(),
        "tags": ["vip"],
        "sms_consent": {
            "status": "subscribed",
            "timestamp": "2026-11-20T10:00:00+00:00",
            "source": "checkout",
            "consent_text": "Text me with news and offers",
        },
    }


def _paid(event_id: str, click_id: str) -> dict:
    return {
        "type": "order.paid",
        "event_id": event_id,
        "occurred_at": NOW.isoformat(),
        "order_id": "5001",
        "order_name": "#1042",
        "person": _person(),
        "amount": "42.50",
        "currency": "USD",
        "click_id": click_id,
    }


def _shipped(event_id: str) -> dict:
    return {
        "type": "order.shipped",
        "event_id": event_id,
        "occurred_at": NOW.isoformat(),
        "order_id": "5001",
        "order_name": "#1042",
        "shipment_id": "F-77",
        "person": _person(),
        "tracking_numbers": ["1Z999", "1Z998"],
        "tracking_urls": ["https://track.example/1Z999"],
        "carrier": "UPS",
    }


def _consent_change(event_id: str, status: str, at: str) -> dict:
    return {
        "type": "consent.change",
        "event_id": event_id,
        "occurred_at": NOW.isoformat(),
        "person": _person(),
        "channel": "sms",
        "evidence": {"status": status, "timestamp": at, "source": "webform", "consent_text": "Texts ok"},
    }


def _contact(sandbox: SandboxServer):
    contact = sandbox.state.contact_by_phone(PHONE)
    assert contact is not None
    return contact


def test_sandbox_upsert_order_and_shipment_end_in_expected_state(stack):
    app, sandbox = stack
    campaign = sandbox.seed_campaign(short_link_id="CLICK42")
    assert _batch(app, _upsert()) == {"batchItemFailures": []}
    response = _batch(
        app, _paid("paid-1", "CLICK42"), _shipped("fulfillment-1"), _shipped("orders-fulfilled-2")
    )
    assert response == {"batchItemFailures": []}

    contact = _contact(sandbox)
    assert (contact.first_name, contact.last_name) == ("Zoë", "Ångström")
    assert contact.custom_variables["order_id"] == "#1042"
    assert contact.custom_variables["tracking_number"] == "1Z999, 1Z998"
    assert contact.custom_variables["tracking_url"] == "https://track.example/1Z999"
    assert contact.custom_variables["carrier"] == "UPS"
    consent = sandbox.state.consent_events_for(contact.contact_id, "sms")
    assert [(e.status, e.event_timestamp.isoformat()) for e in consent] == [
        ("subscribed", "2026-11-20T10:00:00+00:00")
    ]
    messages = sandbox.state.messages_for(contact.contact_id)
    assert len(messages) == 1
    assert "#1042" in messages[0].message
    assert "https://track.example/1Z999" in messages[0].message  # rendered from the tracking variable
    conversions = sandbox.state.conversions
    assert [(c.short_link_id, c.amount) for c in conversions] == [("CLICK42", Decimal("42.50"))]
    assert sandbox.state.campaigns[campaign["campaign_id"]].revenue == Decimal("42.50")


def test_sandbox_same_delivery_twice_makes_one_conversion(stack):
    app, sandbox = stack
    sandbox.seed_campaign(short_link_id="CLICK43")
    _batch(app, _paid("paid-1", "CLICK43"))
    _batch(app, _paid("paid-1", "CLICK43"), _paid("paid-again-2", "CLICK43"))
    assert len(sandbox.state.conversions) == 1


def test_sandbox_out_of_order_consent_newest_wins(stack):
    app, sandbox = stack
    _batch(app, _upsert())
    _batch(app, _consent_change("stop-1", "unsubscribed", "2026-11-22T09:00:00+00:00"))
    _batch(app, _consent_change("late-optin", "subscribed", "2026-11-21T09:00:00+00:00"))
    contact = _contact(sandbox)
    assert sandbox.state.consent_status(contact.contact_id, "sms") != "subscribed"
    assert contact.unsubscribed_at is not None


def test_sandbox_no_sms_after_stop(stack):
    app, sandbox = stack
    _batch(app, _upsert())
    _batch(app, _consent_change("stop-1", "unsubscribed", "2026-11-22T09:00:00+00:00"))
    _batch(app, _shipped("fulfillment-1"))
    assert sandbox.state.messages_for(_contact(sandbox).contact_id) == []


def test_sandbox_send_answer_lost_after_effect_sends_exactly_one_sms(stack):
    app, sandbox = stack
    _batch(app, _upsert())
    # NOMI sends the SMS, then answers 500: the client must look it up rather than send again.
    sandbox.set_faults(
        FaultConfig(rate=1.0, kinds=("500",), when="after", paths=("/messages/create",), limit=1)
    )
    response = _batch(app, _shipped("fulfillment-1"))
    assert response == {"batchItemFailures": []}
    assert len(sandbox.state.messages_for(_contact(sandbox).contact_id)) == 1


def test_sandbox_shopify_fulfillment_described_twice_sends_one_sms(stack):
    app, sandbox = stack
    payload = json.loads((SHOPIFY_FIXTURES / "fulfillments_update_tracking.json").read_text())
    envelopes = [
        {
            "version": 1,
            "source": "shopify",
            "event_id": webhook_id,
            "topic": "fulfillments/update",
            "received_at": NOW.isoformat(),
            "headers": {"x-shopify-topic": "fulfillments/update", "x-shopify-event-id": event_id},
            "payload": payload,
        }
        for webhook_id, event_id in (("wh-1", "ev-1"), ("wh-2", "ev-2"))
    ]
    assert _batch(app, *envelopes) == {"batchItemFailures": []}
    assert len(sandbox.state.messages) == 1


def _parcel(shipment_id: str, url: str) -> dict:
    return {**_shipped(f"ship-{shipment_id}"), "shipment_id": shipment_id, "tracking_urls": [url]}


def test_sandbox_parcel_retried_after_a_later_parcel_texts_its_own_link(stack):
    app, sandbox = stack
    _batch(app, _upsert())
    # Parcel A's send fails before NOMI acts (its variables are already on the contact) ...
    sandbox.set_faults(FaultConfig(rate=1.0, kinds=("500",), when="before", paths=("/messages/create",)))
    assert _batch(app, _parcel("F-A", "https://track.example/A"))["batchItemFailures"]
    sandbox.set_faults(FaultConfig())
    # ... parcel B goes through and overwrites the contact's tracking variables, then A is retried.
    assert _batch(app, _parcel("F-B", "https://track.example/B")) == {"batchItemFailures": []}
    assert _batch(app, _parcel("F-A", "https://track.example/A")) == {"batchItemFailures": []}
    texts = [m.message for m in sandbox.state.messages_for(_contact(sandbox).contact_id)]
    assert sorted(texts) == [
        "Hi Zoë, your order #1042 has shipped. Track it: https://track.example/A",
        "Hi Zoë, your order #1042 has shipped. Track it: https://track.example/B",
    ]
