"""The Lambda handler on moto: Powertools idempotency on a DynamoDB table, DLQ on SQS, fake NOMI."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass

import boto3
import pytest
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError
from moto import mock_aws
from processor_fakes import (
    FakeNomi,
    canonical_body,
    create_idempotency_table,
    dynamodb_calls,
    envelope_body,
    shipped,
    sqs_record,
)

from processor.record import is_permanent


@dataclass
class _Context:
    function_name: str = "processor"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:processor"
    aws_request_id: str = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


@pytest.fixture
def handler_env(monkeypatch):
    for key, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "IDEMPOTENCY_TABLE": "idem",
        "NOMI_API_KEY": "test-key",
        "NOMI_API_URL": "http://127.0.0.1:9",
        "POWERTOOLS_TRACE_DISABLED": "1",
        "POWERTOOLS_SERVICE_NAME": "processor",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("NOMI_API_KEY_SECRET_NAME", raising=False)
    monkeypatch.delenv("POWERTOOLS_IDEMPOTENCY_DISABLED", raising=False)
    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        create_idempotency_table(dynamodb)
        sqs = boto3.client("sqs")
        dlq_url = sqs.create_queue(QueueName="events-dlq")["QueueUrl"]
        monkeypatch.setenv("DLQ_URL", dlq_url)
        from processor import app
        from processor.settings import load_settings

        load_settings.cache_clear()
        app.runtime.cache_clear()
        nomi = FakeNomi()
        app.runtime().deps.client = nomi
        yield app, nomi, sqs, dlq_url
        app.runtime.cache_clear()


def test_handler_same_event_id_twice_sends_one_sms_via_idempotency(handler_env):
    app, nomi, _, _ = handler_env
    body = canonical_body(shipped())
    first = app.lambda_handler({"Records": [sqs_record(body, message_id="m-1")]}, _Context())
    calls = len(nomi.calls)
    second = app.lambda_handler({"Records": [sqs_record(body, message_id="m-2")]}, _Context())
    assert first == second == {"batchItemFailures": []}
    assert len(nomi.messages) == 1
    assert len(nomi.calls) == calls


def test_handler_idempotency_record_keyed_on_source_identity(handler_env):
    app, _, _, _ = handler_env
    app.lambda_handler({"Records": [sqs_record(canonical_body(shipped()), message_id="m-1")]}, _Context())
    items = boto3.client("dynamodb").scan(TableName="idem")["Items"]
    ids = sorted(item["id"]["S"] for item in items)
    assert any(i.startswith("processor#") for i in ids)
    assert "step#shipment:F-1:sms" in ids


def test_handler_permanent_failure_lands_in_dlq_with_attributes(handler_env):
    app, _, sqs, dlq_url = handler_env
    body = envelope_body("stripe", "checkout.session.completed", {"id": "evt_1"}, event_id="evt_1")
    response = app.lambda_handler({"Records": [sqs_record(body, message_id="m-1")]}, _Context())
    assert response == {"batchItemFailures": []}
    parked = sqs.receive_message(QueueUrl=dlq_url, MessageAttributeNames=["All"])["Messages"][0]
    attributes = {k: v["StringValue"] for k, v in parked["MessageAttributes"].items()}
    assert attributes["source"] == "stripe"
    assert attributes["event_id"] == "evt_1"
    assert attributes["error_type"] == "InvalidEventError"
    assert json.loads(parked["Body"])["event_id"] == "evt_1"


def test_handler_transient_failure_reported_as_batch_item_failure(handler_env):
    from nomi_client.errors import ServerError

    app, nomi, _, _ = handler_env
    nomi.fail["create_contact"] = [ServerError("down", status_code=503)]
    records = [
        sqs_record(canonical_body(shipped(event_id="a", shipment_id="F-a")), message_id="m-a"),
        sqs_record(
            canonical_body(shipped(event_id="b", shipment_id="F-b", phone="+15555550101")), message_id="m-b"
        ),
    ]
    response = app.lambda_handler({"Records": records}, _Context())
    assert len(response["batchItemFailures"]) == 1


def test_idempotency_already_in_progress_is_transient():
    assert is_permanent(IdempotencyAlreadyInProgressError("busy")) is False


def test_handler_logs_mask_phones(handler_env, caplog):
    app, _, _, _ = handler_env
    event = {
        "type": "consent.change",
        "event_id": "c-1",
        "occurred_at": "2026-11-23T12:00:00+00:00",
        "person": {"phone": "+15555550100", "email": "ada@example.com"},
        "channel": "sms",
        "evidence": {"status": "unsubscribed", "timestamp": "2026-11-23T11:00:00+00:00", "source": "stop"},
    }
    app.lambda_handler({"Records": [sqs_record(canonical_body(event), message_id="m-1")]}, _Context())
    logged = " ".join(str(record.__dict__) for record in caplog.records)
    assert "record processed" in logged
    assert "+15555550100" not in logged
    assert "ada@example.com" not in logged
    # Step keys name the phone by its keyed pseudonym only.
    assert "consent:phone:" in logged


def test_handler_gives_admin_api_calls_the_invocations_time_left(handler_env):
    # One deadline for every client: what the Admin API client reads is the NOMI client's budget.
    from processor import deadline

    app, nomi, _, _ = handler_env
    seen: list[float] = []
    create = nomi.create_contact

    def create_noting_the_budget(**kwargs):
        seen.append(deadline.remaining_seconds())
        return create(**kwargs)

    nomi.create_contact = create_noting_the_budget
    app.lambda_handler({"Records": [sqs_record(canonical_body(shipped()), message_id="m-1")]}, _Context())
    assert 50.0 < seen[0] <= 60.0 - deadline.RESPONSE_MARGIN_SECONDS
    assert deadline.remaining_seconds() == float("inf")  # outside an invocation: unlimited


def test_handler_order_shipped_costs_three_dynamodb_round_trips(handler_env):
    app, nomi, _, _ = handler_env
    event = {"Records": [sqs_record(canonical_body(shipped()), message_id="m-1")]}
    with dynamodb_calls() as calls:
        assert app.lambda_handler(event, _Context()) == {"batchItemFailures": []}
    assert len(nomi.messages) == 1
    # Powertools' INPROGRESS put, the SMS step's claim (a put), and everything done in one batch write.
    assert calls == Counter({"PutItem": 2, "BatchWriteItem": 1})
