"""The processor log tap: per-record log lines become NOMI and outcome lines (masked)."""

import logging

import pytest

from local.observe import ProcessorLogTap
from local.report import EventLog


@pytest.fixture
def tapped():
    log = EventLog(quiet=True)
    logger = logging.getLogger("test-local-observe")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    tap = ProcessorLogTap(log, formatter=None)
    logger.addHandler(tap)
    yield logger, log
    logger.removeHandler(tap)


def test_tap_record_processed_gives_nomi_and_outcome_lines(tapped):
    logger, log = tapped
    event = {
        "event_type": "order.paid",
        "status": "processed",
        "calls": 2,
        "steps": [{"kind": "UpsertContact", "status": "done"}],
    }
    logger.info(
        "record processed",
        extra={"outcome": {"events": [event]}, "source": "shopify", "topic": "orders/paid"},
    )
    assert [line.split()[1] for line in log.lines] == ["NOMI", "outcome"]
    assert log.outcomes[0]["outcome"] == "processed"


def test_tap_dead_letter_reason_is_masked(tapped):
    logger, log = tapped
    logger.error("permanent failure, sent to the DLQ", extra={"reason": "bad phone +14155550199"})
    assert log.outcomes[0]["outcome"] == "dead-lettered"
    assert "4155550199" not in log.lines[0]


def test_tap_ignores_other_log_lines(tapped):
    logger, log = tapped
    logger.info("event queued")
    assert log.lines == []
