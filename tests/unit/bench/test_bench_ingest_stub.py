"""The ingest benchmark's SQS stub and its checks: a cheap stub still refuses to time a request that
was not queued once with its body."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bench.ingest_latency import StubSQS, UnexpectedAnswerError, checked_call, compare

EVENT = {"body": json.dumps({"id": 7})}


def queueing(stub: StubSQS, payload: Any = None, sends: int = 1) -> Any:
    def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
        for _ in range(sends):
            body = json.loads(event["body"]) if payload is None else payload
            stub.send_message(QueueUrl="q", MessageBody=json.dumps({"payload": body}))
        return {"statusCode": 200}

    return handler


def test_stub_sqs_send_counted_last_body_kept_fixed_id() -> None:
    stub = StubSQS()
    first = stub.send_message(QueueUrl="q", MessageBody="a")
    second = stub.send_message(QueueUrl="q", MessageBody="b")
    assert (stub.sent, stub.last_body, first["MessageId"]) == (2, "b", second["MessageId"])


def test_checked_call_request_queued_with_its_body_returns_call() -> None:
    stub = StubSQS()
    call = checked_call(queueing(stub), EVENT, stub)
    call()
    assert stub.sent == 2


@pytest.mark.parametrize(("payload", "sends"), [(None, 0), (None, 2), ({"id": 8}, 1)])
def test_checked_call_request_not_queued_once_with_its_body_raises(payload: Any, sends: int) -> None:
    stub = StubSQS()
    with pytest.raises(UnexpectedAnswerError):
        checked_call(queueing(stub, payload, sends), EVENT, stub)


def test_compare_counts_every_handler_call() -> None:
    calls: list[int] = []
    result = compare(lambda: calls.append(1), lambda: None, iterations=20)
    assert result["handler_calls"] == len(calls)
