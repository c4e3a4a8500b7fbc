"""Export the queue contract as one JSON Schema document: `python -m gateway_events.schema`."""

from __future__ import annotations

import json
from typing import Any

from pydantic import TypeAdapter

from gateway_events.canonical import CanonicalEvent
from gateway_events.envelope import Envelope
from gateway_events.signup import SignupPayload

SCHEMA_ID = "https://github.com/nomi-gateway/nomi-gateway/schemas/queue-message.schema.json"


def build_schema() -> dict[str, Any]:
    """A queue message is an Envelope or a bare canonical event; the signup payload is documented too."""
    parts = {
        "Envelope": TypeAdapter(Envelope).json_schema(ref_template="#/$defs/{model}"),
        "CanonicalEvent": TypeAdapter(CanonicalEvent).json_schema(ref_template="#/$defs/{model}"),
        "SignupPayload": TypeAdapter(SignupPayload).json_schema(ref_template="#/$defs/{model}"),
    }
    defs: dict[str, Any] = {}
    for name, schema in parts.items():
        defs.update(schema.pop("$defs", {}))
        defs[name] = schema
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "nomi-gateway queue message",
        "description": (
            "One SQS message body: an Envelope, or a bare canonical event (treated as source 'canonical'). "
            "EventBridge events routed by the gateway's rule are accepted as EventBridge writes them."
        ),
        "oneOf": [{"$ref": "#/$defs/Envelope"}, {"$ref": "#/$defs/CanonicalEvent"}],
        "$defs": dict(sorted(defs.items())),
    }


def render_schema() -> str:
    return json.dumps(build_schema(), indent=2, sort_keys=False) + "\n"


if __name__ == "__main__":
    print(render_schema(), end="")
