"""Writing an envelope without pydantic: the front door's side of the queue contract.

`gateway_events.envelope.Envelope` (pydantic) is the contract and what every reader validates with.
The ingest function only ever writes one small fixed shape, and the first pydantic model a process
builds costs ~80 ms of cold start, more than the rest of the front door together: so it writes with
this dataclass, which checks the same constraints (the limits below are the ones `Envelope` uses) and
renders the same JSON. The tests read what it writes back with `Envelope`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

from gateway_events.compact_json import compact_string, compact_writer

Source = Literal["shopify", "stripe", "signup", "eventbridge", "canonical"]
SOURCES: frozenset[str] = frozenset(("shopify", "stripe", "signup", "eventbridge", "canonical"))
ENVELOPE_VERSION = 1
EVENT_ID_MAX_LENGTH = 512
TOPIC_MAX_LENGTH = 256
SHA256_HEX_PATTERN = r"^[0-9a-f]{64}$"
_SHA256_HEX = re.compile(SHA256_HEX_PATTERN.strip("^$"))
# As pydantic renders JSON: UTF-8 text (no \u escapes, which would also inflate the SQS size), compact.
_dumps = compact_writer(ensure_ascii=False)
_string = compact_string(ensure_ascii=False)


class EnvelopeWriteError(ValueError):
    """The fields do not make an envelope the queue contract accepts."""


@dataclass(frozen=True, slots=True)
class OutgoingEnvelope:
    """An envelope to queue: exactly one of `payload` (parsed JSON) or `payload_ref` (claim check)."""

    source: Source
    event_id: str
    topic: str
    received_at: datetime
    headers: dict[str, str] = field(default_factory=dict)
    payload: Any = None
    payload_ref: dict[str, Any] | None = None
    body_sha256: str | None = None

    def __post_init__(self) -> None:
        problems = _problems(self)
        if problems:
            raise EnvelopeWriteError("; ".join(problems))

    def with_payload_ref(self, ref: dict[str, Any]) -> OutgoingEnvelope:
        """The same envelope with its payload parked elsewhere (`bucket`, `key`, `size`, `sha256`)."""
        return replace(self, payload=None, payload_ref=ref)

    def to_json(self) -> str:
        return _dumps(self._document(self.payload))

    def to_json_with_raw_payload(self, raw_payload: str) -> str:
        """The same JSON as `to_json`, with `raw_payload` (JSON text of `payload`) spliced in verbatim.

        The front door has just parsed the body to check it: re-serialising a 50 KB order would cost
        more than verifying and parsing it did.
        """
        return f'{self._head()},"payload":{raw_payload}}}'

    def _head(self) -> str:
        """`_dumps(self._document(None))` without its closing brace, written field by field (a third
        of the cost of building the dict and rendering it, on every queued webhook)."""
        parts = [
            '{"version":',
            str(ENVELOPE_VERSION),
            ',"source":',
            _string(self.source),
            ',"event_id":',
            _string(self.event_id),
            ',"topic":',
            _string(self.topic),
            ',"received_at":',
            _string(_iso(self.received_at)),
            ',"headers":',
            _dumps(self.headers),
        ]
        if self.payload_ref is not None:
            parts += (',"payload_ref":', _dumps(self.payload_ref))
        if self.body_sha256 is not None:
            parts += (',"body_sha256":', _string(self.body_sha256))
        return "".join(parts)

    def _document(self, payload: Any) -> dict[str, Any]:
        """The fields in `Envelope`'s order, None left out (as `model_dump_json(exclude_none=True)`)."""
        document: dict[str, Any] = {
            "version": ENVELOPE_VERSION,
            "source": self.source,
            "event_id": self.event_id,
            "topic": self.topic,
            "received_at": _iso(self.received_at),
            "headers": self.headers,
        }
        if payload is not None:
            document["payload"] = payload
        if self.payload_ref is not None:
            document["payload_ref"] = self.payload_ref
        if self.body_sha256 is not None:
            document["body_sha256"] = self.body_sha256
        return document


def raw_json_text(body: bytes, decoded: str | None = None) -> str | None:
    """The text `json.loads(body)` parses, when that text is `body`'s UTF-8 decoding; else None.

    Such a text can be parsed as is (`json.loads(bytes)` would decode it again) and spliced verbatim
    into an envelope (`to_json_with_raw_payload`). `json.loads` reads bytes as UTF-8 unless they start
    with a BOM or hold a NUL in their first two bytes (UTF-16/32): not those, nor bytes that are not
    UTF-8. The NUL is looked for in the first two characters, which also turns away the odd UTF-8 body
    that `json.loads` reads as UTF-8 (it then takes the bytes route: slower, the same result), never
    the reverse. `decoded`, when given, is `body.decode("utf-8")` already made.
    """
    if decoded is None:
        try:
            decoded = body.decode("utf-8")
        except UnicodeDecodeError:
            return None
    if decoded.startswith("\ufeff") or "\x00" in decoded[:2]:
        return None
    return decoded


def _iso(moment: datetime) -> str:
    """ISO 8601 as pydantic writes it: UTC as `Z`, other offsets kept."""
    if moment.tzinfo is UTC:  # what the front door stamps: a naive isoformat is ~0.4 µs cheaper
        return moment.replace(tzinfo=None).isoformat() + "Z"
    text = moment.isoformat()
    # isoformat writes a zero offset, and only a zero offset, as "+00:00".
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _problems(envelope: OutgoingEnvelope) -> list[str]:
    problems = []
    if envelope.source not in SOURCES:
        problems.append(f"source: must be one of {', '.join(sorted(SOURCES))}")
    for name, value, limit in (
        ("event_id", envelope.event_id, EVENT_ID_MAX_LENGTH),
        ("topic", envelope.topic, TOPIC_MAX_LENGTH),
    ):
        if not isinstance(value, str) or not 1 <= len(value) <= limit:
            problems.append(f"{name}: must be a string of 1 to {limit} characters")
    if not isinstance(envelope.received_at, datetime) or envelope.received_at.utcoffset() is None:
        problems.append("received_at: must be a datetime with a time zone")
    for name, value in envelope.headers.items():
        if not isinstance(name, str) or not isinstance(value, str):
            problems.append("headers: names and values must be strings")
            break
    if (envelope.payload is None) == (envelope.payload_ref is None):
        problems.append("exactly one of payload or payload_ref must be set")
    if envelope.body_sha256 is not None and not _SHA256_HEX.fullmatch(envelope.body_sha256):
        problems.append("body_sha256: must be 64 lower-case hex digits")
    return problems
