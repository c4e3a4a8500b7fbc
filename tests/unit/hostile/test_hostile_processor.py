"""Hostile input at the queue consumer: random bodies, mutated envelopes, canonical and EventBridge
shapes with random content. The record handler must never crash: a message it cannot use goes to
the DLQ at once with a reason (and the record counts as handled); nothing is retried for bad data."""

from __future__ import annotations

import json
from typing import Any

from hostile_fakes import nested
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from gateway_events.topics import SHOPIFY_TOPICS, STRIPE_EVENT_TYPES
from nomi_client.errors import ValidationError
from processor.checkpoints import InMemoryCheckpoints
from processor.dlq import InMemoryDeadLetters
from processor.record import RecordDeps, RecordProcessor
from processor.settings import MappingSettings
from processor.sources import adapt

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CANONICAL_TYPES = (
    "contact.upsert",
    "consent.change",
    "order.placed",
    "order.paid",
    "order.shipped",
    "message.transactional",
)
PHONE = "+14155550123"


class RefusingNomi:
    """Every NOMI call answers 400: whatever reaches NOMI is refused, so it must be dead-lettered."""

    def __getattr__(self, name: str) -> Any:
        def refuse(*_: Any, **__: Any) -> Any:
            raise ValidationError("400 from NOMI: refused", status_code=400, body=None)

        return refuse


def _worker() -> tuple[RecordProcessor, InMemoryDeadLetters]:
    letters = InMemoryDeadLetters()
    deps = RecordDeps(
        settings=MappingSettings(),
        client=RefusingNomi(),
        checkpoints=InMemoryCheckpoints(),
        dead_letters=letters,
        adapt=adapt,
    )
    return RecordProcessor(deps), letters


def _record(body: str) -> Any:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    return SQSRecord(
        {
            "messageId": "m-1",
            "receiptHandle": "r-1",
            "body": body,
            "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1795420800000"},
            "messageAttributes": {},
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:events",
            "awsRegion": "us-east-1",
        }
    )


def _handled_or_dead_lettered(body: str) -> tuple[dict[str, Any], InMemoryDeadLetters]:
    worker, letters = _worker()
    result = worker.handle(_record(body))  # raising here (TransientEventError or anything) fails the test
    if result.get("dead_lettered"):
        (letter,) = letters.letters
        assert letter.error_reason
        assert letter.error_type
        assert letter.body == body
    else:
        assert letters.letters == []
    return result, letters


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.just(PHONE),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=25,
)


@FAST
@given(body=st.text(max_size=2000))
@example(body="")
@example(body="null")
@example(body="[]")
@example(body='{"source": "shopify"}')
@example(body=nested(50_000).decode())
def test_hostile_random_queue_body_is_dead_lettered_with_a_reason(body):
    result, _ = _handled_or_dead_lettered(body)
    assert result.get("dead_lettered") is True


@FAST
@given(
    source=st.sampled_from(["shopify", "stripe", "signup", "eventbridge", "canonical"])
    | st.text(max_size=10),
    topic=st.sampled_from(sorted(SHOPIFY_TOPICS) + sorted(STRIPE_EVENT_TYPES) + ["signup"])
    | st.text(max_size=30),
    payload=json_values,
    headers=st.dictionaries(
        st.sampled_from(["x-shopify-topic", "x-shopify-event-id", "x-shopify-triggered-at"]),
        st.text(max_size=30),
    ),
)
def test_hostile_envelope_with_random_payload_never_crashes_the_consumer(source, topic, payload, headers):
    envelope = {
        "schema_version": 1,
        "source": source,
        "event_id": "e-1",
        "topic": topic,
        "received_at": "2026-11-23T08:00:00Z",
        "headers": headers,
        "payload": payload,
    }
    _handled_or_dead_lettered(json.dumps(envelope))


@FAST
@given(
    kind=st.sampled_from(CANONICAL_TYPES),
    fields=st.dictionaries(st.text(max_size=15), json_values, max_size=8),
    data=st.data(),
)
def test_hostile_canonical_event_with_random_fields_never_crashes_the_consumer(kind, fields, data):
    base = {
        "schema_version": 1,
        "type": kind,
        "event_id": "c-1",
        "occurred_at": "2026-11-23T08:00:00Z",
        "person": {"phone": PHONE},
    }
    drop = data.draw(st.lists(st.sampled_from(sorted(base)), max_size=3))
    event = {k: v for k, v in {**base, **fields}.items() if k not in drop}
    _handled_or_dead_lettered(json.dumps(event))


@FAST
@given(
    source=st.sampled_from(["aws.partner/shopify.com/1/x", "aws.partner/stripe.com/ed_1", "crm"])
    | st.text(max_size=20),
    detail_type=st.sampled_from(["shopifyWebhook", "checkout.session.completed", "order.paid"])
    | st.text(max_size=20),
    detail=json_values,
)
def test_hostile_eventbridge_event_with_random_detail_never_crashes_the_consumer(source, detail_type, detail):
    event = {
        "version": "0",
        "id": "eb-1",
        "source": source,
        "detail-type": detail_type,
        "time": "2026-11-23T08:00:00Z",
        "detail": detail,
    }
    _handled_or_dead_lettered(json.dumps(event))


def test_hostile_dead_letter_reason_masks_the_phone_number():
    event = {
        "schema_version": 1,
        "type": "order.paid",
        "event_id": "c-1",
        "occurred_at": "2026-11-23T08:00:00Z",
        "person": {"phone": PHONE},
        "order_id": "o-1",
        "amount": "1.00",
        "currency": "USD",
    }
    result, letters = _handled_or_dead_lettered(json.dumps(event))
    assert result["dead_lettered"] is True
    assert "4155550123" not in letters.letters[0].error_reason
