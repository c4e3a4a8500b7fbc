"""Shopify webhooks → canonical events. The table of topics is at the bottom; docs/mapping.md explains it.

Event ids name the business fact, not the delivery (`shopify:fulfillment:<id>`, `shopify:order:<id>:paid`),
so that the same fact told by two topics (orders/fulfilled and fulfillments/update) plans the same steps.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import Field

from gateway_events import (
    CanonicalEvent,
    ConsentChange,
    ConsentEvidence,
    ContactUpsert,
    Envelope,
    Order,
    OrderShipped,
    Person,
)
from processor.errors import InvalidEventError, UnsupportedEventError
from processor.settings import MappingSettings
from processor.sources._common import (
    SourceModel,
    SourceTime,
    click_id_from_url,
    clip_name,
    first,
    parse_source_time,
    region_of,
    unique_in_order,
    valid_click_id,
    validate_source,
)

# Shopify consent states (webhooks send them lower-case, GraphQL upper-case) → NOMI statuses.
# `not_subscribed` (never asked) and `invalid` (a bad address) are no decision by the person: no event.
# `redacted` means the person's data was erased: treat as a withdrawal.
_CONSENT_STATES: dict[str, str | None] = {
    "subscribed": "subscribed",
    "unsubscribed": "unsubscribed",
    "pending": "pending",
    "redacted": "unsubscribed",
    "not_subscribed": None,
    "invalid": None,
}
_MIN_PHONE_DIGITS = 7
# Fulfillments in these states never left: no shipping SMS.
_DEAD_FULFILLMENT = frozenset({"cancelled", "error", "failure"})
# '#1042.1' → '#1042': Shopify names a fulfillment after its order plus a sequence number.
_FULFILLMENT_SUFFIX = re.compile(r"\.\d+$")


# --- payload models: only the fields we read; every one optional unless the topic cannot work without it


class Address(SourceModel):
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    province_code: str | None = None
    country_code: str | None = None


class SmsMarketingConsent(SourceModel):
    state: str | None = None
    opt_in_level: str | None = None
    consent_updated_at: SourceTime | None = None
    consent_collected_from: str | None = None


class EmailMarketingConsent(SourceModel):
    state: str | None = None
    opt_in_level: str | None = None
    consent_updated_at: SourceTime | None = None


class Customer(SourceModel):
    id: str | None = None
    email: str | None = None
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    created_at: SourceTime | None = None
    updated_at: SourceTime | None = None
    default_address: Address | None = None
    # Embedded only up to API 2024-10; 2025-01+ sends consent on its own topics.
    sms_marketing_consent: SmsMarketingConsent | None = None
    email_marketing_consent: EmailMarketingConsent | None = None


class CustomerWithId(Customer):
    id: str = Field(min_length=1)


class NoteAttribute(SourceModel):
    name: str | None = None
    value: str | None = None


class ClientDetails(SourceModel):
    browser_ip: str | None = None
    user_agent: str | None = None


class Checkout(SourceModel):
    # Shopify's own published samples identify a checkout by `token` alone: either one will do.
    id: str | None = None
    token: str | None = None
    email: str | None = None
    phone: str | None = None
    sms_marketing_phone: str | None = None
    buyer_accepts_marketing: bool | None = None
    buyer_accepts_sms_marketing: bool | None = None
    created_at: SourceTime | None = None
    updated_at: SourceTime | None = None
    customer: Customer | None = None
    shipping_address: Address | None = None
    billing_address: Address | None = None
    client_details: ClientDetails | None = None


class Fulfillment(SourceModel):
    id: str = Field(min_length=1)
    order_id: str | None = None
    name: str | None = None
    status: str | None = None
    email: str | None = None
    created_at: SourceTime | None = None
    updated_at: SourceTime | None = None
    tracking_company: str | None = None
    tracking_number: str | None = None
    tracking_numbers: list[str | None] = Field(default_factory=list)
    tracking_url: str | None = None
    tracking_urls: list[str | None] = Field(default_factory=list)
    destination: Address | None = None


class ShopifyOrder(SourceModel):
    id: str = Field(min_length=1)
    name: str | None = None
    email: str | None = None
    contact_email: str | None = None
    phone: str | None = None
    created_at: SourceTime | None = None
    updated_at: SourceTime | None = None
    processed_at: SourceTime | None = None
    test: bool | None = None
    client_details: ClientDetails | None = None
    total_price: Decimal | None = Field(default=None, ge=0)
    current_total_price: Decimal | None = Field(default=None, ge=0)
    currency: str | None = Field(default=None, pattern=r"^[A-Za-z]{3}$")
    financial_status: str | None = None
    landing_site: str | None = None
    note_attributes: list[NoteAttribute] = Field(default_factory=list)
    buyer_accepts_marketing: bool | None = None
    customer: Customer | None = None
    shipping_address: Address | None = None
    billing_address: Address | None = None
    fulfillments: list[Fulfillment] = Field(default_factory=list)


class SmsConsentUpdate(SourceModel):
    id: str = Field(min_length=1)
    phone: str | None = None
    sms_marketing_consent: SmsMarketingConsent


class EmailConsentUpdate(SourceModel):
    customer_id: str = Field(min_length=1)
    email_address: str | None = None
    email_marketing_consent: EmailMarketingConsent


class RedactedCustomer(SourceModel):
    id: str | None = None
    email: str | None = None
    phone: str | None = None


class CustomerRedact(SourceModel):
    customer: RedactedCustomer


# --- the context of one delivery


@dataclass(frozen=True)
class _Delivery:
    envelope: Envelope
    payload: Any
    settings: MappingSettings

    @property
    def triggered_at(self) -> datetime:
        """When Shopify says the event happened (X-Shopify-Triggered-At), else when the gateway got it."""
        raw = self.envelope.headers.get("x-shopify-triggered-at")
        if raw:
            try:
                return parse_source_time(raw)
            except ValueError:
                pass  # a malformed header must not lose the event; receipt time is the next best source time
        return self.envelope.received_at

    @property
    def tags(self) -> list[str]:
        return self.settings.tags_for("shopify")


# --- helpers


def _person(
    *,
    phone: str | None,
    email: str | None,
    first_name: str | None,
    last_name: str | None,
    addresses: list[Address | None],
) -> Person:
    """Phone and names from the event, falling back to the addresses in order (shipping, then billing)."""
    present = [a for a in addresses if a is not None]
    state, country = region_of(*((a.province_code, a.country_code) for a in present))
    return Person(
        phone=first(phone, *(a.phone for a in present)),
        email=first(email),
        first_name=clip_name(first(first_name, *(a.first_name for a in present))),
        last_name=clip_name(first(last_name, *(a.last_name for a in present))),
        state=state,
        country=country,
    )


def _status(state: str | None) -> str | None:
    if state is None:
        return None
    key = state.strip().lower()
    if key not in _CONSENT_STATES:
        raise InvalidEventError(f"unknown Shopify marketing consent state {state!r}")
    return _CONSENT_STATES[key]


def _evidence(
    state: str | None,
    updated_at: datetime | None,
    *,
    source: str,
    opt_in_text: str | None,
    fallback_time: datetime | None,
) -> ConsentEvidence | None:
    """NOMI evidence for one Shopify consent object, or None when it records no decision or no time."""
    status = _status(state)
    timestamp = updated_at or fallback_time
    if status is None or timestamp is None:
        return None
    return ConsentEvidence(
        status=status,
        timestamp=timestamp,
        source=source,
        # The language shown belongs to an opt-in; an opt-out is proven by the act itself.
        consent_text=opt_in_text if status in ("subscribed", "pending") else None,
    )


def _sms_evidence(
    consent: SmsMarketingConsent | None, settings: MappingSettings, fallback_time: datetime | None = None
) -> ConsentEvidence | None:
    """Source checkout (with the checkout's SMS language) when Shopify Checkout collected it, else api."""
    if consent is None:
        return None
    from_checkout = (consent.consent_collected_from or "").upper() == "SHOPIFY"
    return _evidence(
        consent.state,
        consent.consent_updated_at,
        source="checkout" if from_checkout else "api",
        opt_in_text=settings.consent_text("shopify_checkout" if from_checkout else "shopify_customer"),
        fallback_time=fallback_time,
    )


def _email_evidence(
    consent: EmailMarketingConsent | None, settings: MappingSettings, fallback_time: datetime | None = None
) -> ConsentEvidence | None:
    if consent is None:
        return None
    return _evidence(
        consent.state,
        consent.consent_updated_at,
        source="api",
        opt_in_text=settings.consent_text("shopify_customer_email"),
        fallback_time=fallback_time,
    )


def _checkout_opt_in(
    ticked: bool | None,
    when: datetime,
    text: str | None,
    *,
    client: ClientDetails | None = None,
    reference: str | None = None,
) -> ConsentEvidence | None:
    """A ticked checkout box, with the buyer's IP and user agent where the payload has them; an
    unticked one is no decision (never an unsubscribe)."""
    if not ticked:
        return None
    return ConsentEvidence(
        status="subscribed",
        timestamp=when,
        source="checkout",
        consent_text=text,
        ip_address=first(client.browser_ip) if client else None,
        user_agent=first(client.user_agent) if client else None,
        reference=reference,
    )


def _own_phone_sms_evidence(
    customer: Customer, settings: MappingSettings, fallback_time: datetime | None = None
) -> ConsentEvidence | None:
    """A customer's SMS consent belongs to the customer's own `phone`: without one, no SMS evidence
    (never an address's or the order's phone)."""
    if not first(customer.phone):
        return None
    return _sms_evidence(customer.sms_marketing_consent, settings, fallback_time)


def _same_phone(a: str | None, b: str | None) -> bool:
    """Whether two phones as a source wrote them are one number (formatting aside)."""
    if a is not None and b is not None and a.strip() == b.strip():
        return True  # one text is one number, even text that is no number at all
    digits_a, digits_b = ("".join(ch for ch in v or "" if ch.isdigit()) for v in (a, b))
    shorter, longer = sorted((digits_a, digits_b), key=len)
    # A country code written or left out is formatting; fewer than 7 digits is no phone to compare.
    return len(shorter) >= _MIN_PHONE_DIGITS and longer.endswith(shorter)


def _required_time(value: datetime | None, what: str) -> datetime:
    if value is None:
        raise InvalidEventError(f"Shopify {what} has no created_at/updated_at")
    return value


def _click_id(order: ShopifyOrder, settings: MappingSettings) -> str | None:
    """Click id from the landing URL's query, else from a note attribute (a theme script may store it)."""
    keys = settings.click_keys()
    for key in keys:
        found = click_id_from_url(order.landing_site, key)
        if found:
            return found
    attributes = {a.name: a.value for a in order.note_attributes if a.name}
    return next((c for c in (valid_click_id(attributes.get(k)) for k in keys) if c), None)


def _order_name(fulfillment_name: str | None) -> str | None:
    return _FULFILLMENT_SUFFIX.sub("", fulfillment_name) if fulfillment_name else None


def _tracking(fulfillment: Fulfillment) -> tuple[list[str], list[str]]:
    numbers = unique_in_order(
        [n for n in fulfillment.tracking_numbers if n], [fulfillment.tracking_number or ""]
    )
    urls = unique_in_order([u for u in fulfillment.tracking_urls if u], [fulfillment.tracking_url or ""])
    return numbers, urls


def checkout_token(checkout: Checkout) -> str:
    """The checkout's identity: its `token` (stable across checkouts/create and /update), else its `id`."""
    identity = first(checkout.token, checkout.id)
    if identity is None:
        raise InvalidEventError("Shopify checkout has neither token nor id")
    return identity


# --- topics


def _checkout(delivery: _Delivery) -> list[CanonicalEvent]:
    checkout: Checkout = validate_source(Checkout, delivery.payload, "Shopify checkout")
    token = checkout_token(checkout)
    settings = delivery.settings
    when = _required_time(checkout.updated_at or checkout.created_at, "checkout")
    customer = checkout.customer or Customer()
    # The consent belongs to the number typed into the SMS box: that number is the contact, and
    # without one a ticked box is evidence for nobody.
    sms_phone = first(checkout.sms_marketing_phone)
    sms = _checkout_opt_in(
        bool(checkout.buyer_accepts_sms_marketing and sms_phone),
        when,
        settings.consent_text("shopify_checkout"),
        client=checkout.client_details,
        reference=token,
    )
    email = _checkout_opt_in(
        checkout.buyer_accepts_marketing,
        when,
        settings.consent_text("shopify_checkout_email"),
        client=checkout.client_details,
        reference=token,
    )
    person = _person(
        phone=first(sms_phone if sms else None, checkout.phone, customer.phone),
        email=first(checkout.email, customer.email),
        first_name=customer.first_name,
        last_name=customer.last_name,
        addresses=[checkout.shipping_address, checkout.billing_address],
    )
    return [
        ContactUpsert(
            event_id=f"shopify:checkout:{token}:{when.isoformat()}",
            occurred_at=when,
            person=person,
            tags=delivery.tags,
            sms_consent=sms,
            email_consent=email,
        )
    ]


def _order_person(order: ShopifyOrder) -> Person:
    customer = order.customer or Customer()
    return _person(
        phone=first(order.phone, customer.phone),
        email=first(order.email, order.contact_email, customer.email),
        first_name=customer.first_name,
        last_name=customer.last_name,
        addresses=[order.shipping_address, order.billing_address],
    )


def _order_kind(order: ShopifyOrder, topic_kind: str) -> str:
    """orders/create of an order already paid is the paid fact too: a merchant who subscribes to one
    of orders/create and orders/paid still gets the conversion (once: it is keyed on the order)."""
    if topic_kind == "order.placed" and (order.financial_status or "").strip().lower() == "paid":
        return "order.paid"
    return topic_kind


def _order(delivery: _Delivery, topic_kind: str) -> list[CanonicalEvent]:
    order: ShopifyOrder = validate_source(ShopifyOrder, delivery.payload, "Shopify order")
    settings = delivery.settings
    kind = _order_kind(order, topic_kind)
    # Shop currency, not presentment: NOMI reports a campaign's revenue in one currency, the store's.
    amount = order.current_total_price if order.current_total_price is not None else order.total_price
    if amount is None or order.currency is None:
        raise InvalidEventError("Shopify order has no total_price/current_total_price or currency")
    created = _required_time(order.created_at or order.updated_at, "order")
    # Placed is when the order was created; paid is when Shopify says the payment event fired.
    occurred = created if kind == "order.placed" else delivery.triggered_at
    customer = order.customer or Customer()
    # buyer_accepts_marketing is the checkout's email box, ticked when the buyer completed checkout
    # (processed_at), with the buyer's browser as client_details records it.
    email_consent = _checkout_opt_in(
        order.buyer_accepts_marketing,
        order.processed_at or created,
        settings.consent_text("shopify_checkout_email"),
        client=order.client_details,
    )
    person = _order_person(order)
    sms_consent = _own_phone_sms_evidence(customer, settings)
    events: list[CanonicalEvent] = [
        Order(
            type=kind,
            event_id=f"shopify:order:{order.id}:{kind.removeprefix('order.')}",
            occurred_at=occurred,
            test_mode=bool(order.test),
            order_id=order.id,
            order_name=order.name,
            person=person,
            amount=amount,
            currency=order.currency.upper(),
            shop_currency=order.currency.upper(),
            click_id=_click_id(order, settings),
            tags=delivery.tags,
            sms_consent=sms_consent if _same_phone(person.phone, customer.phone) else None,
            email_consent=email_consent,
        )
    ]
    if sms_consent is not None and not _same_phone(person.phone, customer.phone):
        events.append(_customer_sms_consent(customer, sms_consent, delivery, test_mode=bool(order.test)))
    return events


def _customer_sms_consent(
    customer: Customer, evidence: ConsentEvidence, delivery: _Delivery, *, test_mode: bool
) -> ContactUpsert:
    """The customer's own SMS consent on the customer's own phone, when the order is about another."""
    return ContactUpsert(
        event_id=f"shopify:customer:{customer.id or 'unknown'}:sms:{evidence.timestamp.isoformat()}",
        occurred_at=evidence.timestamp,
        test_mode=test_mode,
        person=Person(
            phone=first(customer.phone),
            email=first(customer.email),
            first_name=clip_name(first(customer.first_name)),
            last_name=clip_name(first(customer.last_name)),
        ),
        tags=delivery.tags,
        sms_consent=evidence,
    )


def _destination(fulfillment: Fulfillment) -> Person | None:
    """The parcel's addressee (maybe a gift recipient): their own phone and names, never the buyer's email."""
    if fulfillment.destination is None:
        return None
    return _person(
        phone=None, email=None, first_name=None, last_name=None, addresses=[fulfillment.destination]
    )


def _shipped(
    fulfillment: Fulfillment, *, order_id: str, order_name: str | None, person: Person, fallback: datetime
) -> OrderShipped | None:
    """One order.shipped for a live fulfillment that has tracking; None until it has."""
    if (fulfillment.status or "").lower() in _DEAD_FULFILLMENT:
        return None
    numbers, urls = _tracking(fulfillment)
    if not numbers and not urls:
        return None
    return OrderShipped(
        event_id=f"shopify:fulfillment:{fulfillment.id}",
        occurred_at=fulfillment.updated_at or fulfillment.created_at or fallback,
        order_id=order_id,
        order_name=order_name,
        shipment_id=fulfillment.id,
        person=person,
        recipient=_destination(fulfillment),
        tracking_numbers=numbers,
        tracking_urls=urls,
        carrier=first(fulfillment.tracking_company),
    )


def _orders_fulfilled(delivery: _Delivery) -> list[CanonicalEvent]:
    order: ShopifyOrder = validate_source(ShopifyOrder, delivery.payload, "Shopify order")
    person = _order_person(order)
    shipped = (
        _shipped(f, order_id=order.id, order_name=order.name, person=person, fallback=delivery.triggered_at)
        for f in order.fulfillments
    )
    return [
        event.model_copy(update={"test_mode": bool(order.test)}) for event in shipped if event is not None
    ]


def _fulfillment(delivery: _Delivery) -> list[CanonicalEvent]:
    fulfillment: Fulfillment = validate_source(Fulfillment, delivery.payload, "Shopify fulfillment")
    if not fulfillment.order_id:
        raise InvalidEventError("Shopify fulfillment has no order_id")
    # The buyer's phone is not in a fulfillment: the processor fills it in from the order it has seen
    # (processor.buyers); the destination's phone is the recipient's, used only when the buyer has none.
    person = Person(email=first(fulfillment.email))
    event = _shipped(
        fulfillment,
        order_id=fulfillment.order_id,
        order_name=_order_name(fulfillment.name),
        person=person,
        fallback=delivery.triggered_at,
    )
    return [event] if event else []


def _customer(delivery: _Delivery) -> list[CanonicalEvent]:
    customer: CustomerWithId = validate_source(CustomerWithId, delivery.payload, "Shopify customer")
    when = customer.updated_at or customer.created_at or delivery.triggered_at
    person = _person(
        phone=customer.phone,
        email=customer.email,
        first_name=customer.first_name,
        last_name=customer.last_name,
        addresses=[customer.default_address],
    )
    return [
        ContactUpsert(
            event_id=f"shopify:customer:{customer.id}:{when.isoformat()}",
            occurred_at=when,
            person=person,
            tags=delivery.tags,
            sms_consent=_own_phone_sms_evidence(customer, delivery.settings),
            email_consent=_email_evidence(customer.email_marketing_consent, delivery.settings),
        )
    ]


def _consent_change(
    channel: Literal["sms", "email"], customer_id: str, person: Person, evidence: ConsentEvidence | None
) -> list[CanonicalEvent]:
    if evidence is None:
        return []  # not_subscribed/invalid/null: the person decided nothing
    return [
        ConsentChange(
            event_id=f"shopify:consent:{channel}:{customer_id}:{evidence.timestamp.isoformat()}",
            occurred_at=evidence.timestamp,
            person=person,
            channel=channel,
            evidence=evidence,
        )
    ]


def _sms_consent_update(delivery: _Delivery) -> list[CanonicalEvent]:
    update: SmsConsentUpdate = validate_source(SmsConsentUpdate, delivery.payload, "Shopify SMS consent")
    evidence = _sms_evidence(update.sms_marketing_consent, delivery.settings, delivery.triggered_at)
    return _consent_change("sms", update.id, Person(phone=first(update.phone)), evidence)


def _email_consent_update(delivery: _Delivery) -> list[CanonicalEvent]:
    update: EmailConsentUpdate = validate_source(
        EmailConsentUpdate, delivery.payload, "Shopify email consent"
    )
    evidence = _email_evidence(update.email_marketing_consent, delivery.settings, delivery.triggered_at)
    return _consent_change("email", update.customer_id, Person(email=first(update.email_address)), evidence)


def _customer_redact(delivery: _Delivery) -> list[CanonicalEvent]:
    redact: CustomerRedact = validate_source(CustomerRedact, delivery.payload, "Shopify customers/redact")
    when = delivery.triggered_at
    customer = redact.customer
    return [
        ConsentChange(
            event_id=f"shopify:redact:{customer.id or delivery.envelope.event_id}",
            occurred_at=when,
            person=Person(phone=first(customer.phone), email=first(customer.email)),
            channel="both",
            evidence=ConsentEvidence(status="unsubscribed", timestamp=when, source="api"),
            erase=True,
        )
    ]


def _acknowledge_only(_: _Delivery) -> list[CanonicalEvent]:
    # Data requests are answered by the merchant; shop/redact erases a whole shop: nothing for NOMI.
    return []


_TOPICS: dict[str, Callable[[_Delivery], list[CanonicalEvent]]] = {
    "checkouts/create": _checkout,
    "checkouts/update": _checkout,
    "orders/create": lambda d: _order(d, "order.placed"),
    "orders/paid": lambda d: _order(d, "order.paid"),
    "orders/fulfilled": _orders_fulfilled,
    "fulfillments/create": _fulfillment,
    "fulfillments/update": _fulfillment,
    "customers/create": _customer,
    "customers/update": _customer,
    "customers_marketing_consent/update": _sms_consent_update,
    "customers_email_marketing_consent/update": _email_consent_update,
    "customers/data_request": _acknowledge_only,
    "customers/redact": _customer_redact,
    "shop/redact": _acknowledge_only,
}


def adapt_shopify(envelope: Envelope, payload: Any, settings: MappingSettings) -> list[CanonicalEvent]:
    """Canonical events for one Shopify webhook whose parsed body is `payload`."""
    handler = _TOPICS.get(envelope.topic)
    if handler is None:
        raise UnsupportedEventError(f"Shopify topic {envelope.topic!r} is not handled")
    from processor.shopify_admin.orders import complete_id_only, is_id_only

    if is_id_only(payload):
        # Shopify sends only the resource id when the body is over its size limit: fetch the rest.
        payload = complete_id_only(envelope, payload)
    return handler(_Delivery(envelope, payload, settings))
