"""The queue contract of nomi-gateway: the envelope every queued message travels in, and the
canonical events that sources are translated into (and that other systems may queue directly).

Shipped as a SAM layer shared by the ingest and processor functions. Pure pydantic: no AWS, no NOMI.
Names load lazily: the ingest function needs only the envelope, and building the canonical models
would add most of this package's import time to its cold start.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_HOMES = {
    "CanonicalEvent": "canonical",
    "ConsentChange": "canonical",
    "ConsentEvidence": "canonical",
    "ContactUpsert": "canonical",
    "Order": "canonical",
    "OrderShipped": "canonical",
    "Person": "canonical",
    "TransactionalMessage": "canonical",
    "parse_canonical_event": "canonical",
    "Envelope": "envelope",
    "EnvelopeError": "envelope",
    "PayloadRef": "envelope",
    "Source": "envelope",
    "parse_queue_message": "envelope",
    "SignupPayload": "signup",
}

__all__ = [  # noqa: RUF022 - grouped by home module, as _HOMES
    "CanonicalEvent",
    "ConsentChange",
    "ConsentEvidence",
    "ContactUpsert",
    "Order",
    "OrderShipped",
    "Person",
    "TransactionalMessage",
    "parse_canonical_event",
    "Envelope",
    "EnvelopeError",
    "PayloadRef",
    "Source",
    "parse_queue_message",
    "SignupPayload",
]

if TYPE_CHECKING:
    from gateway_events.canonical import (
        CanonicalEvent,
        ConsentChange,
        ConsentEvidence,
        ContactUpsert,
        Order,
        OrderShipped,
        Person,
        TransactionalMessage,
        parse_canonical_event,
    )
    from gateway_events.envelope import Envelope, EnvelopeError, PayloadRef, Source, parse_queue_message
    from gateway_events.signup import SignupPayload


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'gateway_events' has no attribute {name!r}")
    value = getattr(import_module(f"gateway_events.{home}"), name)
    globals()[name] = value
    return value
