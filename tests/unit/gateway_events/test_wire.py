"""The pydantic-free envelope writer of the front door: what it writes, `Envelope` reads unchanged."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from gateway_events import Envelope
from gateway_events.wire import EnvelopeWriteError, OutgoingEnvelope, raw_json_text

RECEIVED = datetime(2026, 12, 3, 14, 0, 1, 250_000, tzinfo=UTC)
PAYLOAD = {"id": 1, "name": "#1042", "note": "café ☕"}
SHA = "a" * 64


def outgoing(**overrides: object) -> OutgoingEnvelope:
    fields: dict[str, object] = {
        "source": "shopify",
        "event_id": "wh-1",
        "topic": "orders/paid",
        "received_at": RECEIVED,
        "headers": {"x-shopify-topic": "orders/paid"},
        "payload": PAYLOAD,
        "body_sha256": SHA,
    }
    return OutgoingEnvelope(**{**fields, **overrides})  # type: ignore[arg-type]


def test_outgoing_envelope_to_json_equals_pydantic_envelope_json() -> None:
    envelope = outgoing()
    expected = Envelope(**{field: getattr(envelope, field) for field in envelope.__slots__}).to_json()  # type: ignore[arg-type]
    assert envelope.to_json() == expected


@pytest.mark.parametrize(
    "received_at",
    [
        RECEIVED,
        RECEIVED.replace(microsecond=0),
        RECEIVED.replace(tzinfo=timezone(timedelta(0))),
        RECEIVED.astimezone(timezone(timedelta(hours=-5, minutes=-30))),
    ],
)
def test_outgoing_envelope_received_at_any_offset_written_as_pydantic_writes(received_at: datetime) -> None:
    envelope = outgoing(received_at=received_at)
    expected = Envelope(**{field: getattr(envelope, field) for field in envelope.__slots__}).to_json()  # type: ignore[arg-type]
    assert envelope.to_json() == expected


def test_outgoing_envelope_raw_payload_json_reads_back_as_the_same_envelope() -> None:
    envelope = outgoing()
    read = Envelope.model_validate_json(envelope.to_json_with_raw_payload(json.dumps(PAYLOAD)))
    assert (read.source, read.event_id, read.received_at, read.payload, read.body_sha256) == (
        "shopify",
        "wh-1",
        RECEIVED,
        PAYLOAD,
        SHA,
    )


def test_outgoing_envelope_other_offset_keeps_the_instant() -> None:
    moment = RECEIVED.astimezone(timezone(timedelta(hours=2)))
    read = Envelope.model_validate_json(outgoing(received_at=moment).to_json())
    assert read.received_at == RECEIVED


def test_outgoing_envelope_with_payload_ref_reads_back_as_claim_check() -> None:
    ref = {"bucket": "b", "key": "shopify/wh-1.json", "size": 10, "sha256": SHA}
    read = Envelope.model_validate_json(outgoing().with_payload_ref(ref).to_json())
    assert (read.payload, read.payload_ref and read.payload_ref.key) == (None, "shopify/wh-1.json")


@pytest.mark.parametrize(
    "overrides",
    [
        {"source": "email"},
        {"event_id": ""},
        {"event_id": "x" * 513},
        {"topic": "t" * 257},
        {"received_at": datetime(2026, 12, 3, 14, 0)},
        {"payload": None},
        {"body_sha256": "A" * 64},
        {"body_sha256": SHA + "\n"},
    ],
)
def test_outgoing_envelope_value_envelope_refuses_raises_write_error(overrides: dict[str, object]) -> None:
    with pytest.raises(EnvelopeWriteError):
        outgoing(**overrides)
    with pytest.raises(ValueError, match=r"."):
        Envelope(**{**{f: getattr(outgoing(), f) for f in OutgoingEnvelope.__slots__}, **overrides})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"received_at": RECEIVED.astimezone(timezone(timedelta(hours=-5)))},
        {"body_sha256": None, "headers": {}},
        {"event_id": 'wh-"quoted"\\é', "headers": {"x-name": "tab\there ☕"}},
    ],
)
def test_outgoing_envelope_raw_payload_text_equals_to_json_text(overrides: dict[str, object]) -> None:
    # The field-by-field head must render exactly what the dict-based writer renders.
    envelope = outgoing(**overrides)
    raw = json.dumps(PAYLOAD, ensure_ascii=False, separators=(",", ":"))
    assert json.loads(envelope.to_json_with_raw_payload(raw)) == json.loads(envelope.to_json())
    document = dict(json.loads(envelope.to_json()))
    payload = document.pop("payload")
    expected_head = json.dumps(document, ensure_ascii=False, separators=(",", ":"))[:-1]
    assert envelope.to_json_with_raw_payload(raw) == f'{expected_head},"payload":{raw}}}'
    assert payload == PAYLOAD


@pytest.mark.parametrize(
    "body",
    [
        b'{"id":1}',
        '{"note":"café ☕"}'.encode(),
        b"\xef\xbb\xbf" + b'{"id":1}',
        '{"id":1}'.encode("utf-16"),
        '{"id":1}'.encode("utf-16-be"),
        '{"id":1}'.encode("utf-16-le"),
        '{"id":1}'.encode("utf-32"),
        '{"id":1}'.encode("utf-32-le"),
        b"{}",
        b"\x00{",
        b"7",
        b"\xff{}",
        b"\x00{}",
        '"\u00e9\x00"'.encode(),
        b'{"a": [1, 2.5, null, true]}',
    ],
)
def test_raw_json_text_any_body_is_what_json_loads_reads_or_none(body: bytes) -> None:
    text = raw_json_text(body)
    if text is None:
        return  # refused: the body takes json.loads(bytes), which is right for any body
    # A text is given only where json.loads(bytes) decodes as UTF-8, and it parses the same.
    assert (json.detect_encoding(body), text) == ("utf-8", body.decode("utf-8"))
    try:
        expected = json.loads(body)
    except json.JSONDecodeError:
        with pytest.raises(json.JSONDecodeError):
            json.loads(text)
    else:
        assert json.loads(text) == expected


def test_raw_json_text_decoded_given_is_checked_the_same() -> None:
    assert raw_json_text(b"", '{"id":1}') == '{"id":1}'
    assert raw_json_text(b"", "\ufeff{}") is None
    assert raw_json_text(b"", "{\x00") is None
