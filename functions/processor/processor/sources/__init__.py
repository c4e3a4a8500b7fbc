"""Source adapters: one queued source event → the canonical events it means.

`adapt` is the only entry point. Bad input raises only `InvalidEventError` (malformed) or
`UnsupportedEventError` (a source/topic no adapter handles); both are permanent and the caller
dead-letters them. An empty list means "acknowledged, nothing to do" (a privacy topic, a consent
state that is no decision, a fulfillment without tracking yet, a topic switched off in the settings).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from gateway_events import CanonicalEvent, Envelope
from processor.errors import InvalidEventError, UnsupportedEventError
from processor.settings import KNOWN_TOPICS, MappingSettings
from processor.sources._common import summarise
from processor.sources.canonical import adapt_canonical
from processor.sources.eventbridge import unwrap
from processor.sources.shopify import adapt_shopify
from processor.sources.signup import adapt_signup
from processor.sources.stripe import adapt_stripe

__all__ = ["adapt"]

logger = logging.getLogger(__name__)

Adapter = Callable[[Envelope, Any, MappingSettings], list[CanonicalEvent]]

_ADAPTERS: dict[str, Adapter] = {
    "shopify": adapt_shopify,
    "stripe": adapt_stripe,
    "signup": adapt_signup,
    "canonical": adapt_canonical,
}


def adapt(envelope: Envelope, payload: Any, settings: MappingSettings) -> list[CanonicalEvent]:
    """Canonical events for one envelope whose (possibly S3-fetched) payload is `payload`."""
    if envelope.source == "eventbridge":
        envelope = unwrap(envelope, payload)
        payload = envelope.payload
    adapter = _ADAPTERS.get(envelope.source)
    if adapter is None:
        raise UnsupportedEventError(f"no adapter for source {envelope.source!r}")
    if not settings.topic_enabled(envelope.source, envelope.topic):
        if envelope.topic in KNOWN_TOPICS.get(envelope.source, frozenset()):
            logger.info(
                "topic switched off by settings", extra={"source": envelope.source, "topic": envelope.topic}
            )
            return []
        raise UnsupportedEventError(f"{envelope.source} topic {envelope.topic!r} is not handled")
    try:
        return adapter(envelope, payload, settings)
    except ValidationError as exc:
        # The payload had the promised shape but yields an impossible canonical event (e.g. a 40-character
        # phone, 60 tags): permanent, and the reason names fields, never personal values.
        raise InvalidEventError(
            f"{envelope.source} {envelope.topic} maps to an invalid {exc.title}: {summarise(exc)}"
        ) from exc
