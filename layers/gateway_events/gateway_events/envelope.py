"""The envelope: one shape for every message on the gateway's queue.

Three producers write to the queue and the processor accepts each of their shapes:
- the ingest function and other systems write an `Envelope` (JSON);
- an EventBridge rule writes the EventBridge event itself (`detail-type`, `source`, `detail`);
- other systems may also write a bare canonical event (it has a `type` such as `order.shipped`).
`parse_queue_message` turns any of them into an `Envelope`.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator

# The limits live with the pydantic-free writer the ingest function uses (gateway_events.wire).
from gateway_events.wire import (
    ENVELOPE_VERSION,
    EVENT_ID_MAX_LENGTH,
    SHA256_HEX_PATTERN,
    TOPIC_MAX_LENGTH,
    Source,
)


class EnvelopeError(ValueError):
    """A queue message that is not an envelope, an EventBridge event or a canonical event."""


class PayloadRef(BaseModel):
    """Claim check: the payload was too large for SQS and sits in S3."""

    model_config = ConfigDict(frozen=True)

    bucket: str = Field(min_length=1)
    key: str = Field(min_length=1)
    size: int = Field(ge=0, description="Payload size in bytes.")
    sha256: str = Field(pattern=SHA256_HEX_PATTERN, description="Hex SHA-256 of the stored bytes.")


class Envelope(BaseModel):
    """A received event, verified, with exactly one of `payload` or `payload_ref`."""

    model_config = ConfigDict(extra="ignore")

    version: Literal[1] = ENVELOPE_VERSION
    source: Source
    event_id: str = Field(
        min_length=1,
        max_length=EVENT_ID_MAX_LENGTH,
        description=(
            "The source's own id of this delivery: Shopify X-Shopify-Webhook-Id, Stripe event id, "
            "signup reference, EventBridge event id, or the producer's id for canonical events."
        ),
    )
    topic: str = Field(
        min_length=1,
        max_length=TOPIC_MAX_LENGTH,
        description="Shopify topic, Stripe event type, 'signup', EventBridge detail-type or canonical type.",
    )
    received_at: AwareDatetime
    headers: dict[str, str] = Field(
        default_factory=dict,
        description="The source headers that matter, names lower-cased (e.g. x-shopify-event-id).",
    )
    payload: Any = Field(default=None, description="The source's JSON body, parsed.")
    payload_ref: PayloadRef | None = None
    body_sha256: str | None = Field(
        default=None,
        pattern=SHA256_HEX_PATTERN,
        description="Hex SHA-256 of the raw HTTP body as received (consent receipts cite it).",
    )

    @model_validator(mode="after")
    def _exactly_one_payload(self) -> Envelope:
        if (self.payload is None) == (self.payload_ref is None):
            raise ValueError("exactly one of payload or payload_ref must be set")
        return self

    def to_json(self) -> str:
        return self.model_dump_json(exclude_none=True)

    def to_json_with_raw_payload(self, raw_payload: str) -> str:
        """The same JSON as `to_json`, with `raw_payload` (JSON text of `payload`) spliced in verbatim.

        The front door has just parsed the body to check it: re-serialising a 50 KB order would cost
        more than verifying and parsing it did.
        """
        head = self.model_dump_json(exclude={"payload"}, exclude_none=True)
        return f'{head[:-1]},"payload":{raw_payload}}}'


def parse_queue_message(body: str | bytes, *, received_at: datetime | None = None) -> Envelope:
    """Read one SQS message body in any of the three accepted shapes.

    `received_at` stands in for shapes that carry no time of receipt (a bare canonical event uses its
    own `occurred_at` when this is None).
    """
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise EnvelopeError(f"message body is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise EnvelopeError("message body is not a JSON object")
    try:
        if "detail-type" in data and "detail" in data:
            return _from_eventbridge(data)
        if "source" in data and "event_id" in data:
            return Envelope.model_validate(data)
        if "type" in data:
            return _from_canonical(data, received_at)
    except ValidationError as exc:
        raise EnvelopeError(f"invalid queue message: {_summarise(exc)}") from exc
    raise EnvelopeError("message is neither an envelope, an EventBridge event nor a canonical event")


def _from_eventbridge(event: dict[str, Any]) -> Envelope:
    return Envelope(
        source="eventbridge",
        event_id=str(event.get("id") or ""),
        topic=str(event["detail-type"]),
        received_at=event.get("time") or datetime.now().astimezone(),
        headers={"eventbridge-source": str(event.get("source", ""))},
        payload=event,
    )


def _from_canonical(event: dict[str, Any], received_at: datetime | None) -> Envelope:
    # Imported here so that the ingest function, which never sees canonical events, does not load them.
    from gateway_events.canonical import parse_canonical_event

    parsed = parse_canonical_event(event)
    return Envelope(
        source="canonical",
        event_id=parsed.event_id,
        topic=parsed.type,
        received_at=received_at or parsed.occurred_at,
        payload=event,
    )


def _summarise(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'message'}: {e['msg']}" for e in exc.errors())
