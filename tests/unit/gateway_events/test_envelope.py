import json

import pytest

from gateway_events import Envelope, EnvelopeError, parse_queue_message

SHIPPED = {
    "type": "order.shipped",
    "event_id": "wms-1",
    "occurred_at": "2026-11-20T10:00:00Z",
    "order_id": "1042",
    "shipment_id": "ship-7",
    "person": {"phone": "+15555550100"},
}


def _envelope(**overrides) -> dict:
    data = {
        "source": "shopify",
        "event_id": "webhook-1",
        "topic": "orders/paid",
        "received_at": "2026-11-20T10:00:00+00:00",
        "payload": {"id": 1},
    }
    data.update(overrides)
    return data


def test_parse_queue_message_envelope_round_trips():
    envelope = parse_queue_message(json.dumps(_envelope()))
    assert parse_queue_message(envelope.to_json()) == envelope


def test_parse_queue_message_eventbridge_event_becomes_eventbridge_envelope():
    event = {
        "id": "eb-1",
        "detail-type": "shopifyWebhook",
        "source": "aws.partner/shopify.com/123/store",
        "time": "2026-11-20T10:00:00Z",
        "detail": {"payload": {}, "metadata": {}},
    }
    envelope = parse_queue_message(json.dumps(event))
    assert (envelope.source, envelope.event_id, envelope.topic) == ("eventbridge", "eb-1", "shopifyWebhook")
    assert envelope.payload == event


def test_parse_queue_message_bare_canonical_event_becomes_canonical_envelope():
    envelope = parse_queue_message(json.dumps(SHIPPED))
    assert (envelope.source, envelope.event_id, envelope.topic) == ("canonical", "wms-1", "order.shipped")


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[1, 2]", b'{"hello": 1}', json.dumps({**SHIPPED, "type": "order.lost"}).encode()],
    ids=["not-json", "not-object", "no-shape", "unknown-canonical-type"],
)
def test_parse_queue_message_unknown_shape_raises_envelope_error(body):
    with pytest.raises(EnvelopeError):
        parse_queue_message(body)


def test_envelope_payload_and_ref_together_is_rejected():
    ref = {"bucket": "b", "key": "k", "size": 1, "sha256": "0" * 64}
    with pytest.raises(ValueError, match="exactly one"):
        Envelope.model_validate(_envelope(payload_ref=ref))


def test_envelope_naive_received_at_is_rejected():
    with pytest.raises(ValueError, match="timezone"):
        Envelope.model_validate(_envelope(received_at="2026-11-20T10:00:00"))


def test_gateway_events_envelope_import_does_not_build_canonical_models():
    import os
    import subprocess
    import sys

    code = "import gateway_events.envelope, sys; print('gateway_events.canonical' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert result.stdout.strip() == "False"


def test_envelope_to_json_with_raw_payload_parses_to_the_same_envelope():
    envelope = Envelope.model_validate(_envelope(payload={"id": 1, "name": "Zoë", "lines": [1.50, None]}))
    raw = '{"id": 1,\n "name": "Zo\\u00eb", "lines": [1.50, null]}'
    assert parse_queue_message(envelope.to_json_with_raw_payload(raw)) == envelope
