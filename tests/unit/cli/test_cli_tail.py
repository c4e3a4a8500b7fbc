"""`nomi-gateway tail`: the processor's log lines → one outcome line per event; durations; the filter."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest

from cli import tail
from cli.common import CliError
from cli.main import build_parser

WHEN = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
BASE = {
    "level": "INFO",
    "service": "processor",
    "source": "shopify",
    "topic": "orders/paid",
    "correlation_id": "wh-1",
}


def _processed(events, **extra):
    return {**BASE, "message": "record processed", "outcome": {"identity": "x", "events": events, **extra}}


def test_tail_processed_record_gives_one_outcome_per_event():
    line = _processed(
        [
            {"event_type": "order.paid", "status": "done", "steps": [{"kind": "contact", "status": "done"}]},
            {
                "event_type": "order.shipped",
                "status": "skipped",
                "steps": [],
                "skips": [{"reason": "no_phone"}],
            },
        ]
    )
    outcomes = tail.outcomes_from_log(line, WHEN)
    assert [o.outcome for o in outcomes] == ["done", "skipped"]
    assert outcomes[0].detail == "order.paid: contact done"
    assert outcomes[1].detail == "order.shipped: no steps; skipped: no_phone"
    assert outcomes[0].event_id == "wh-1"


def test_tail_duplicate_delivery_is_reported_as_such():
    outcomes = tail.outcomes_from_log(_processed([], duplicate_of_delivery=True), WHEN)
    assert outcomes[0].outcome == "duplicate delivery, nothing repeated"


def test_tail_record_without_events_is_acknowledged():
    assert tail.outcomes_from_log(_processed([]), WHEN)[0].outcome == "acknowledged (nothing to do)"


def test_tail_dead_lettered_line_carries_reason():
    line = {**BASE, "message": "permanent failure, sent to the DLQ", "reason": "InvalidEventError: no id"}
    (outcome,) = tail.outcomes_from_log(line, WHEN)
    assert (outcome.outcome, outcome.detail) == ("dead-lettered", "InvalidEventError: no id")


def test_tail_retry_line_is_retry_later():
    line = {**BASE, "message": "record failed, will be retried", "reason": "AuthenticationError: 401"}
    assert tail.outcomes_from_log(line, WHEN)[0].outcome == "retry later"


def test_tail_other_log_lines_are_ignored():
    assert tail.outcomes_from_log({**BASE, "message": "skipped"}, WHEN) == []


@pytest.mark.parametrize("prefix", ["", "2026-11-23T09:00:00.000Z\tabc-123\tINFO\t"])
def test_tail_log_fields_reads_json_with_or_without_lambda_prefix(prefix):
    assert tail.log_fields(prefix + json.dumps(BASE))["source"] == "shopify"


def test_tail_log_fields_of_plain_text_is_none():
    assert tail.log_fields("START RequestId: 1 Version: $LATEST") is None


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90), ("10m", 600), ("2h", 7200), ("1d", 86400), ("45", 45)]
)
def test_tail_parse_duration_units(text, seconds):
    assert tail.parse_duration(text) == timedelta(seconds=seconds)


def test_tail_parse_duration_rejects_words():
    with pytest.raises(CliError):
        tail.parse_duration("soon")


def test_tail_filter_pattern_names_every_outcome_message():
    for message in tail.OUTCOME_MESSAGES:
        assert f'$.message = "{message}"' in tail.FILTER_PATTERN


def test_tail_log_group_from_function_name():
    args = build_parser().parse_args(["tail", "--function-name", "shop-ProcessorFunction-1"])
    assert tail.processor_log_group(args) == "/aws/lambda/shop-ProcessorFunction-1"


def test_tail_without_target_raises():
    with pytest.raises(CliError, match="--stack"):
        tail.processor_log_group(build_parser().parse_args(["tail"]))


class FakeLocalHttp:
    """The local stack's /_local/outcomes: answers the rows after `since`."""

    def __init__(self, rows):
        self.rows = rows
        self.asked = []

    def get(self, url, params):
        self.asked.append(params["since"])
        rows = self.rows[int(params["since"]) :]

        class Response:
            def raise_for_status(self):
                return None

            def json(self):
                return rows

        return Response()


def test_tail_local_follow_prints_each_outcome_once(monkeypatch, tmp_path):
    (tmp_path / ".local-stack").mkdir()
    (tmp_path / ".local-stack" / "stack.json").write_text(
        json.dumps({"front_door_url": "http://127.0.0.1:3000"})
    )
    monkeypatch.chdir(tmp_path)
    http = FakeLocalHttp(
        [{"source": "stripe", "topic": "customer.created", "event_id": "evt_1", "outcome": "done"}]
    )
    out = io.StringIO()
    args = build_parser().parse_args(["tail", "--local", "--follow", "--json"])
    assert tail.run(args, out=out, http=http, sleep=lambda _s: None, max_polls=3) == 0
    assert [json.loads(line)["event_id"] for line in out.getvalue().splitlines()] == ["evt_1"]
    assert http.asked == ["0", "1", "1"]


def test_tail_line_without_timestamp_has_no_time_column():
    outcome = tail.Outcome(None, "signup", "signup", "ref-1", "processed")
    assert outcome.line() == "signup signup ref-1 → processed"


def test_tail_line_with_timestamp_starts_with_it():
    outcome = tail.Outcome(
        WHEN, "stripe", "customer.created", "evt_1", "processed", "contact.upsert: contact done"
    )
    assert outcome.line() == (
        "2026-11-23 09:00:00  stripe customer.created evt_1 → processed  (contact.upsert: contact done)"
    )
