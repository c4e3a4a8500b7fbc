"""Bare canonical events from other systems: validate them, and add the configured canonical tags."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from gateway_events import CanonicalEvent, ContactUpsert, Envelope, Order, parse_canonical_event
from processor.errors import InvalidEventError
from processor.settings import MappingSettings
from processor.sources._common import summarise, unique_in_order


def adapt_canonical(envelope: Envelope, payload: Any, settings: MappingSettings) -> list[CanonicalEvent]:
    """The event itself, validated against the published models (schema_version 1)."""
    try:
        event = parse_canonical_event(payload)
    except ValidationError as exc:
        raise InvalidEventError(f"invalid canonical event: {summarise(exc)}") from exc
    if event.type != envelope.topic:
        raise InvalidEventError(f"envelope topic {envelope.topic!r} does not match event type {event.type!r}")
    extra_tags = settings.tags_for("canonical")
    if extra_tags and isinstance(event, ContactUpsert | Order):
        # Validated again (not model_copy) so that the merged list still respects the 50-tag limit.
        data = {**event.model_dump(), "tags": unique_in_order(event.tags, extra_tags)}
        event = type(event).model_validate(data)
    return [event]
