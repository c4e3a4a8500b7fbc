"""EventBridge events → the envelope their partner would have sent us directly.

Shopify partner events: `detail-type: shopifyWebhook`, headers under `detail.metadata`, body under
`detail.payload`. Stripe event destinations: `detail-type` = the event type, `detail` = the full event.
Any other bus producer may send a canonical event as `detail` with its type as `detail-type`.
Trust comes from the partner source and IAM (no HMAC), so unwrapping is all there is to do.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from gateway_events import Envelope
from processor.errors import InvalidEventError, UnsupportedEventError
from processor.settings import CANONICAL_TYPES
from processor.sources._common import summarise

SHOPIFY_PARTNER_PREFIX = "aws.partner/shopify.com/"
STRIPE_PARTNER_PREFIX = "aws.partner/stripe.com/"
SHOPIFY_DETAIL_TYPE = "shopifyWebhook"


def unwrap(envelope: Envelope, payload: Any) -> Envelope:
    """The shopify/stripe/canonical envelope inside an EventBridge event (`payload` is the whole event)."""
    if not isinstance(payload, dict) or not isinstance(payload.get("detail"), dict):
        raise InvalidEventError("EventBridge event has no detail object")
    source = str(payload.get("source") or "")
    detail_type = str(payload.get("detail-type") or "")
    detail: dict[str, Any] = payload["detail"]
    try:
        if source.startswith(SHOPIFY_PARTNER_PREFIX):
            return _shopify(envelope, detail_type, detail)
        if source.startswith(STRIPE_PARTNER_PREFIX):
            return _stripe(envelope, detail_type, detail)
        if detail_type in CANONICAL_TYPES:
            return _canonical(envelope, detail_type, detail)
    except ValidationError as exc:
        raise InvalidEventError(f"EventBridge event from {source!r} is malformed: {summarise(exc)}") from exc
    raise UnsupportedEventError(
        f"EventBridge source {source!r} with detail-type {detail_type!r} is not handled"
    )


def _shopify(envelope: Envelope, detail_type: str, detail: dict[str, Any]) -> Envelope:
    if detail_type != SHOPIFY_DETAIL_TYPE:
        raise UnsupportedEventError(f"Shopify partner detail-type {detail_type!r} is not handled")
    metadata = detail.get("metadata")
    if not isinstance(metadata, dict):
        raise InvalidEventError("Shopify EventBridge event has no detail.metadata object")
    # Same lower-cased header names as the ingest function keeps, so the Shopify adapter sees one shape.
    headers = {str(k).lower(): str(v) for k, v in metadata.items() if v is not None}
    if not headers.get("x-shopify-topic"):
        raise InvalidEventError("Shopify EventBridge event has no X-Shopify-Topic in detail.metadata")
    if detail.get("payload") is None:
        raise InvalidEventError("Shopify EventBridge event has no detail.payload")
    return Envelope(
        source="shopify",
        event_id=headers.get("x-shopify-webhook-id") or envelope.event_id,
        topic=headers["x-shopify-topic"],
        received_at=envelope.received_at,
        headers=headers,
        payload=detail["payload"],
    )


def _stripe(envelope: Envelope, detail_type: str, detail: dict[str, Any]) -> Envelope:
    return Envelope(
        source="stripe",
        event_id=str(detail.get("id") or envelope.event_id),
        topic=str(detail.get("type") or detail_type),
        received_at=envelope.received_at,
        payload=detail,
    )


def _canonical(envelope: Envelope, detail_type: str, detail: dict[str, Any]) -> Envelope:
    return Envelope(
        source="canonical",
        event_id=str(detail.get("event_id") or envelope.event_id),
        topic=detail_type,
        received_at=envelope.received_at,
        payload=detail,
    )
