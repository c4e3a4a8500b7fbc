"""The order's buyer, remembered from `orders/*` for the shipped SMS of its fulfillments.

A Shopify fulfillment names its destination, not its buyer: its `destination.phone` may be a gift
recipient's. So that the shipped SMS goes to the same person whichever topic describes the parcel
(orders/fulfilled carries the order's phone, fulfillments/* only the destination's), the buyer's phone
and names are remembered, under the order id, from every orders/* event that has a usable phone, and a
fulfillment without one is given them before it is planned, with the order's `test` flag (which
fulfillments/* do not carry) so that a test order's parcel sends no SMS either. The destination is texted only when the
gateway knows no buyer phone for the order (see `processor.plan.shipment_recipient`).

Cost: one DynamoDB write per Shopify order event (only while a fulfillment topic is enabled) and one
read per fulfillment event without a buyer phone (only while an orders/* topic is enabled).
"""

from __future__ import annotations

from typing import Any

from gateway_events.canonical import Order, OrderShipped
from processor.checkpoints import CheckpointStore
from processor.plan import usable_phone
from processor.settings import MappingSettings

_ORDER_TOPICS = ("orders/create", "orders/paid")  # the topics that remember a buyer
_FULFILLMENT_TOPICS = ("fulfillments/create", "fulfillments/update")
_OWNER = "buyer-memory"


def buyer_key(order_id: str) -> str:
    """The checkpoint key that holds an order's buyer (fact-scoped: any topic of the order finds it)."""
    return f"order:{order_id}:buyer"


def with_remembered_buyer(event: Any, store: CheckpointStore, settings: MappingSettings) -> Any:
    """Remember a Shopify order's buyer, or give a fulfillment without a buyer phone the remembered one."""
    # Only Shopify describes a parcel without its buyer; other sources' orders need no memory (and no
    # write). Shopify's adapter names every event it emits `shopify:…`.
    if not getattr(event, "event_id", "").startswith("shopify:"):
        return event
    if isinstance(event, Order) and _any_enabled(settings, _FULFILLMENT_TOPICS):
        remember_buyer(event, store, settings)
    elif isinstance(event, OrderShipped) and _any_enabled(settings, _ORDER_TOPICS):
        return recall_buyer(event, store)
    return event


def remember_buyer(event: Order, store: CheckpointStore, settings: MappingSettings) -> None:
    phone, _ = usable_phone(event.person, settings)
    if phone is None and not event.test_mode:
        return  # nothing to prefer over the destination's phone, and nothing to tell of the order
    person = event.person
    store.complete(
        buyer_key(event.order_id),
        owner=_OWNER,
        result={
            "phone": phone,
            "first_name": person.first_name,
            "last_name": person.last_name,
            "state": person.state,
            # fulfillments/* carry no `test` flag: a test order's parcels learn it here.
            "test_mode": event.test_mode,
        },
        fact=True,
        # The key names an order, not a person: say whose phone and names these are, so that a
        # redact of the buyer deletes them too.
        person=settings.pseudonym("phone", phone) if phone else None,
        # Now, not with the record's last write: a fulfillment of the order may be processed at the
        # same moment on another thread (another phone group) and must find the buyer.
        immediate=True,
    )


def recall_buyer(event: OrderShipped, store: CheckpointStore) -> OrderShipped:
    if event.person.phone:
        return event  # the event names the buyer and the order's test flag itself (orders/fulfilled)
    remembered = store.get(buyer_key(event.order_id))
    if remembered is None or remembered.state != "done":
        return event
    buyer = remembered.result
    if buyer.get("test_mode"):
        event = event.model_copy(update={"test_mode": True})
    if not buyer.get("phone"):
        return event
    person = event.person.model_copy(
        update={
            "phone": buyer["phone"],
            "first_name": buyer.get("first_name"),
            "last_name": buyer.get("last_name"),
            "state": buyer.get("state"),
        }
    )
    return event.model_copy(update={"person": person})


def _any_enabled(settings: MappingSettings, topics: tuple[str, ...]) -> bool:
    return any(settings.topic_enabled("shopify", topic) for topic in topics)
