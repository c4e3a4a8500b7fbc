"""The local stack's console: what runs where, then one line per event as it moves.

received → queued → NOMI calls → outcome. These lines carry ids, topics and statuses only: no body,
no phone, no email, no secret (anything that could hold one is masked or left out).
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, TextIO

from nomi_client.masking import mask_text


def short(identifier: str | None, width: int = 18) -> str:
    if not identifier:
        return "-"
    return identifier if len(identifier) <= width else f"{identifier[: width - 1]}…"


def describe_http(headers: Mapping[str, str], body: bytes) -> str:
    """What a webhook is, from the fields a provider documents as identifiers (never personal data)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    if "x-shopify-topic" in lowered:
        return f"shopify {lowered['x-shopify-topic']} webhook {short(lowered.get('x-shopify-webhook-id'))}"
    if "stripe-signature" in lowered:
        try:
            event = json.loads(body)
        except ValueError:
            return "stripe (body is not JSON)"
        if isinstance(event, dict):
            return f"stripe {event.get('type', '?')} {short(str(event.get('id', '')))}"
    content_type = lowered.get("content-type", "")
    if "form" in content_type:
        return f"form post from {lowered.get('origin', 'no origin')}"
    if not body:
        return "no body"
    return content_type or "body without content-type"


def describe_message(message: Mapping[str, Any]) -> str:
    """A queued message, from the attributes ingest sets (source, topic, event_id) or its body's shape."""
    attributes = message.get("MessageAttributes") or {}

    def attribute(name: str) -> str | None:
        value = attributes.get(name) or {}
        return value.get("StringValue")

    if attribute("source"):
        return f"{attribute('source')} {attribute('topic') or '?'} {short(attribute('event_id'))}"
    try:
        body = json.loads(message.get("Body") or "")
    except ValueError:
        return "message (body is not JSON)"
    if not isinstance(body, dict):
        return "message (not an object)"
    if "detail-type" in body:
        return f"eventbridge {body.get('detail-type')} {short(str(body.get('id', '')))}"
    if "source" in body and "event_id" in body:
        return f"{body.get('source')} {body.get('topic', '?')} {short(str(body.get('event_id')))}"
    if "type" in body:
        return f"canonical {body.get('type')} {short(str(body.get('event_id', '')))}"
    return "message (unknown shape)"


class EventLog:
    """Prints the stack's lines; thread-safe. `quiet` keeps only the banner out (for demos and tests)."""

    def __init__(self, stream: TextIO | None = None, *, quiet: bool = False) -> None:
        self._stream = stream or sys.stdout
        self._quiet = quiet
        self._lock = threading.Lock()
        self.lines: list[str] = []
        self.outcomes: list[dict[str, Any]] = []
        """One entry per processed record/event, in order (the demo's table reads these)."""

    def outcome(self, text: str, **fields: Any) -> None:
        """The outcome line of one event, also kept as data (masked like the line)."""
        self.event("outcome", text)
        with self._lock:
            self.outcomes.append({k: mask_text(v) if isinstance(v, str) else v for k, v in fields.items()})

    def outcomes_since(self, index: int) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.outcomes[index:])

    def say(self, text: str = "") -> None:
        """A plain line (banner, notices)."""
        self._write(text)

    def event(self, stage: str, text: str) -> None:
        """One step of one event: `HH:MM:SS.mmm stage text`, masked."""
        stamp = datetime.now().strftime("%H:%M:%S.%f")[:-3]
        self._write(f"{stamp}  {stage:<9} {mask_text(text)}")

    def _write(self, line: str) -> None:
        with self._lock:
            self.lines.append(line)
            if not self._quiet:
                print(line, file=self._stream, flush=True)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, max_width: int = 60) -> str:
    """A plain-text table (the demo's output)."""
    cells = [[str(h) for h in headers]] + [[_cell(v, max_width) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(value.ljust(widths[i]) for i, value in enumerate(row)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _cell(value: Any, max_width: int) -> str:
    text = "" if value is None else str(value)
    text = " ".join(text.split())
    return text if len(text) <= max_width else f"{text[: max_width - 1]}…"
