"""One record within the invocation: the time budget, the log context, unhandled EventBridge types."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from aws_lambda_powertools import Logger
from processor_fakes import FakeNomi, as_record, canonical_body, envelope_body, make_worker, shipped

from processor.deadline import Deadline
from processor.errors import TransientEventError

FIXTURES = Path(__file__).parent / "sources" / "fixtures" / "eventbridge"


class _Context:
    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_deadline_is_remaining_time_minus_the_response_margin():
    clock = _Clock()
    deadline = Deadline(margin_seconds=3.0, monotonic=clock)
    deadline.start(_Context(remaining_ms=30_000))
    clock.now += 20
    assert deadline.seconds_left() == pytest.approx(7.0)
    clock.now += 8
    assert deadline.expired() is True


def test_deadline_outside_an_invocation_sets_no_limit():
    deadline = Deadline()
    deadline.start(_Context(remaining_ms=30_000))
    deadline.finish()
    assert (deadline.seconds_left(), deadline.expired()) == (None, False)


def test_record_after_the_deadline_is_retried_without_calling_nomi():
    nomi = FakeNomi()
    worker = make_worker(nomi)
    clock = _Clock()
    worker.deps.deadline = Deadline(margin_seconds=3.0, monotonic=clock)
    worker.deps.deadline.start(_Context(remaining_ms=2_000))
    with pytest.raises(TransientEventError, match="no time left"):
        worker.handle(as_record(canonical_body(shipped())))
    assert nomi.count("create_contact") == 0


def _lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_poison_record_after_a_good_one_logs_without_its_correlation_id():
    stream = io.StringIO()
    worker = make_worker(FakeNomi())
    worker.deps.logger = Logger(service="processor-test", stream=stream)
    worker.handle(as_record(canonical_body(shipped(event_id="good-1"))))
    worker.handle(as_record("{not json", attributes={"source": "canonical", "event_id": "poison"}))
    poison = [line for line in _lines(stream) if line["message"] == "permanent failure, sent to the DLQ"]
    assert poison
    assert [(line.get("correlation_id"), line.get("topic")) for line in poison] == [(None, None)]


def test_record_log_context_is_cleared_after_the_record():
    stream = io.StringIO()
    logger = Logger(service="processor-test", stream=stream)
    worker = make_worker(FakeNomi())
    worker.deps.logger = logger
    worker.handle(as_record(canonical_body(shipped(event_id="good-2"))))
    assert logger.thread_safe_get_current_keys() == {}


def test_eventbridge_stripe_type_not_handled_is_acknowledged_with_a_metric():
    event = json.loads((FIXTURES / "stripe_checkout_session_completed.json").read_text())
    event["detail-type"] = event["detail"]["type"] = "invoice.paid"
    worker = make_worker(FakeNomi())
    result = worker.handle(as_record(envelope_body("eventbridge", "invoice.paid", event)))
    assert result["acknowledged"] is True
    assert worker.stats.skips["unhandled_topic"] == 1
    assert worker.stats.events[("stripe", "invoice.paid", "acknowledged")] == 1
    assert worker.deps.dead_letters.letters == []
