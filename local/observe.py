"""Turning what the processor logs into the stack's one-line-per-event log.

The processor logs one structured line per record (Powertools JSON): "record processed" with the
outcome of each canonical event (steps, NOMI calls), "permanent failure, sent to the DLQ" and
"record failed, will be retried" with a reason (already masked by the processor; masked again here).
A logging handler on the function's Powertools logger reads those records as they are written.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from types import ModuleType
from typing import Any

from local.report import EventLog, short

RECORD_PROCESSED = "record processed"
DEAD_LETTERED = "permanent failure, sent to the DLQ"
WILL_RETRY = "record failed, will be retried"
RETRY_LATER = "retry later"
"""The outcome of a record that failed and waits in flight for its retry (the demo counts these)."""


def find_powertools_logger(module: ModuleType) -> logging.Logger | None:
    """The stdlib logger behind a handler module's Powertools `Logger` (if it has one)."""
    for value in vars(module).values():
        inner = getattr(value, "_logger", None)
        if type(value).__name__ == "Logger" and isinstance(inner, logging.Logger):
            return inner
    return None


def _steps_text(steps: list[dict[str, Any]]) -> str:
    return ", ".join(f"{step.get('kind', '?')} {step.get('status', '?')}" for step in steps) or "no steps"


class ProcessorLogTap(logging.Handler):
    """Reads the processor's per-record log lines and writes NOMI/outcome lines to the event log."""

    def __init__(self, log: EventLog, formatter: logging.Formatter | None) -> None:
        super().__init__(level=logging.INFO)
        self._log = log
        self._powertools_formatter = formatter
        self.seen = 0

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message not in (RECORD_PROCESSED, DEAD_LETTERED, WILL_RETRY):
            return
        try:
            fields = self._fields(record)
            self.seen += 1
            self._report(message, fields)
        except Exception:  # a log tap must never break the function it listens to
            self.handleError(record)

    def _fields(self, record: logging.LogRecord) -> dict[str, Any]:
        # Formatting in the emitting thread gives the thread-local keys (correlation_id, source, topic).
        if self._powertools_formatter is not None:
            try:
                data = json.loads(self._powertools_formatter.format(record))
                if isinstance(data, dict):
                    return data
            except ValueError:
                pass
        return dict(vars(record))

    def _report(self, message: str, fields: dict[str, Any]) -> None:
        source, topic, event_id = (
            fields.get("source", "?"),
            fields.get("topic", "?"),
            fields.get("correlation_id"),
        )
        what = f"{source} {topic} {short(event_id)}"
        base = {"source": source, "topic": topic, "event_id": event_id}
        if message == DEAD_LETTERED:
            reason = str(fields.get("reason", "?"))
            self._log.outcome(
                f"{what} → dead-lettered: {reason}", **base, outcome="dead-lettered", detail=reason
            )
            return
        if message == WILL_RETRY:
            reason = str(fields.get("reason", "?"))
            self._log.outcome(f"{what} → {RETRY_LATER}: {reason}", **base, outcome=RETRY_LATER, detail=reason)
            return
        outcome = fields.get("outcome") or {}
        events = outcome.get("events") or []
        if outcome.get("duplicate_of_delivery"):
            text = "duplicate delivery, nothing repeated"
            self._log.outcome(f"{what} → {text}", **base, outcome=text, detail="")
            return
        if not events:
            self._log.outcome(
                f"{what} → acknowledged (nothing to do)", **base, outcome="acknowledged", detail=""
            )
            return
        for event in events:
            steps = _steps_text(event.get("steps") or [])
            self._log.event(
                "NOMI", f"{event.get('event_type', '?')}: {event.get('calls', 0)} call(s) · {steps}"
            )
            skips = "; ".join(str(s.get("reason")) for s in event.get("skips") or [])
            status = str(event.get("status", "?"))
            self._log.outcome(
                f"{what} → {status}" + (f" (skipped: {skips})" if skips else ""),
                **base,
                outcome=status,
                event_type=event.get("event_type"),
                detail=f"{steps}" + (f"; skipped: {skips}" if skips else ""),
            )


def attach_tap(module: ModuleType, log: EventLog) -> Callable[[], None] | None:
    """Listen to a handler module's Powertools logger; returns a detach function (None: no logger)."""
    logger = find_powertools_logger(module)
    if logger is None:
        return None
    formatter = next((h.formatter for h in logger.handlers if h.formatter is not None), None)
    tap = ProcessorLogTap(log, formatter)
    logger.addHandler(tap)
    return lambda: logger.removeHandler(tap)
