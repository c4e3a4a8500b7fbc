"""The queue contract of nomi-gateway: the envelope every queued message travels in, and the
canonical events that sources are translated into (and that other systems may queue directly).

Shipped as a SAM layer shared by the ingest and processor functions. Pure pydantic: no AWS, no NOMI.
"""

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
from gateway_events.envelope import (
    Envelope,
    EnvelopeError,
    PayloadRef,
    Source,
    parse_queue_message,
)
from gateway_events.signup import SignupPayload

__all__ = [
    "CanonicalEvent",
    "ConsentChange",
    "ConsentEvidence",
    "ContactUpsert",
    "Envelope",
    "EnvelopeError",
    "Order",
    "OrderShipped",
    "PayloadRef",
    "Person",
    "SignupPayload",
    "Source",
    "TransactionalMessage",
    "parse_canonical_event",
    "parse_queue_message",
]
