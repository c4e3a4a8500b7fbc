"""Stripe events (snapshot, API versions 2024-09-30.acacia … 2026-09-30.endive) → canonical events.

The fields read here exist in every one of those versions except Checkout's shipping details, which
basil (2025-03-31) moved from `shipping_details` to `collected_information.shipping_details`: both
places are read. Payments: Checkout Sessions, and PaymentIntents that no Checkout Session owns
(Payment Element, custom flows); see docs/stripe.md.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import Field, Strict

from gateway_events import CanonicalEvent, ConsentEvidence, ContactUpsert, Envelope, Order, Person
from processor.errors import InvalidEventError, UnsupportedEventError
from processor.money import to_major_units
from processor.settings import MappingSettings
from processor.sources._common import (
    SourceModel,
    SourceTime,
    first,
    region_of,
    split_name,
    valid_click_id,
    validate_source,
)

_PAID = frozenset({"paid", "no_payment_required"})
_PROMOTIONS = {"opt_in": "subscribed", "opt_out": "unsubscribed"}


class Address(SourceModel):
    country: str | None = None
    state: str | None = None


class CustomerDetails(SourceModel):
    email: str | None = None
    phone: str | None = None
    name: str | None = None
    address: Address | None = None


class ShippingDetails(SourceModel):
    name: str | None = None
    phone: str | None = None
    address: Address | None = None


class CollectedInformation(SourceModel):
    shipping_details: ShippingDetails | None = None


class Consent(SourceModel):
    promotions: str | None = None


# Strict: Stripe sends integers; a boolean or text here is a broken payload, not an amount.
# The upper bound keeps Decimal arithmetic (28 significant digits) exact.
_MinorUnits = Annotated[int, Strict(), Field(ge=0, le=10**18)]
_CurrencyCode = Annotated[str, Field(pattern=r"^[A-Za-z]{3}$")]


class CurrencyConversion(SourceModel):
    """Adaptive Pricing: the session is in the customer's currency; these are the merchant's figures."""

    amount_total: _MinorUnits | None = None
    source_currency: _CurrencyCode | None = None


class CheckoutSession(SourceModel):
    id: str = Field(min_length=1)
    object: str | None = None
    mode: str | None = None
    payment_status: str | None = None
    amount_total: _MinorUnits | None = None
    currency: _CurrencyCode | None = None
    currency_conversion: CurrencyConversion | None = None
    client_reference_id: str | None = None
    metadata: dict[str, str | None] = Field(default_factory=dict)
    customer_details: CustomerDetails | None = None
    consent: Consent | None = None
    shipping_details: ShippingDetails | None = None  # up to 2024-09-30.acacia
    collected_information: CollectedInformation | None = None  # 2025-03-31.basil and later


class PaymentDetails(SourceModel):
    order_reference: str | None = None


class PaymentIntent(SourceModel):
    id: str = Field(min_length=1)
    object: str | None = None
    amount_received: _MinorUnits | None = None
    currency: _CurrencyCode | None = None
    metadata: dict[str, str | None] = Field(default_factory=dict)
    receipt_email: str | None = None
    shipping: ShippingDetails | None = None
    payment_details: PaymentDetails | None = None


class Customer(SourceModel):
    id: str = Field(min_length=1)
    object: str | None = None
    email: str | None = None
    phone: str | None = None
    name: str | None = None
    address: Address | None = None
    shipping: ShippingDetails | None = None


class EventData(SourceModel):
    object: dict[str, Any]


class StripeEvent(SourceModel):
    id: str = Field(min_length=1)
    type: str = Field(min_length=1)
    created: SourceTime
    api_version: str | None = None
    livemode: bool | None = None
    data: EventData


def merchant_currency(settings: MappingSettings) -> str:
    """The currency NOMI revenue from Stripe is recorded in (Stripe events do not name the account's)."""
    return settings.revenue_currency or settings.stripe_currency


def merchant_amount(
    amount: int, currency: str, conversion: CurrencyConversion | None, settings: MappingSettings
) -> tuple[Decimal, str]:
    """The amount in the merchant's currency where the event tells it, else as charged.

    Adaptive Pricing charges the customer in their currency and states the merchant's figures in
    `currency_conversion`; without it, an amount in another currency stays as it is and the planner
    skips its conversion (NOMI totals one currency).
    """
    merchant = merchant_currency(settings)
    charged = currency.upper()
    if (
        charged != merchant
        and conversion is not None
        and conversion.amount_total is not None
        and (conversion.source_currency or "").upper() == merchant
    ):
        return to_major_units(conversion.amount_total, merchant), merchant
    return to_major_units(amount, charged), charged


def _person(details: CustomerDetails | None, shipping: ShippingDetails | None) -> Person:
    details = details or CustomerDetails()
    first_name, last_name = split_name(first(details.name, shipping.name if shipping else None))
    # Shipping address first (where the person is), then the billing address, as for Shopify.
    addresses = [a for a in (shipping.address if shipping else None, details.address) if a is not None]
    state, country = region_of(*((a.state, a.country) for a in addresses))
    return Person(
        phone=first(details.phone, shipping.phone if shipping else None),
        email=first(details.email),
        first_name=first_name,
        last_name=last_name,
        state=state,
        country=country,
    )


def _metadata_click_id(metadata: dict[str, str | None], settings: MappingSettings) -> str | None:
    return next((c for c in (valid_click_id(metadata.get(k)) for k in settings.click_keys()) if c), None)


def _click_id(session: CheckoutSession, settings: MappingSettings) -> str | None:
    """Metadata (`nomi_click_id`, then the click parameter), then client_reference_id if configured."""
    found = _metadata_click_id(session.metadata, settings)
    if found:
        return found
    if settings.stripe_client_reference_is_click_id:
        return valid_click_id(session.client_reference_id)
    return None


def _email_consent(
    session: CheckoutSession, when: datetime, settings: MappingSettings
) -> ConsentEvidence | None:
    promotions = session.consent.promotions if session.consent else None
    if promotions is None:
        return None
    status = _PROMOTIONS.get(promotions)
    if status is None:
        raise InvalidEventError(f"unknown Stripe consent.promotions value {promotions!r}")
    return ConsentEvidence(
        status=status,
        timestamp=when,
        source="checkout",
        consent_text=settings.consent_text("stripe_checkout") if status == "subscribed" else None,
    )


def _checkout_session(
    event: StripeEvent, settings: MappingSettings, *, paid: bool | None
) -> list[CanonicalEvent]:
    """`paid=None`: decide from payment_status (completed); True: the async payment succeeded."""
    session: CheckoutSession = validate_source(CheckoutSession, event.data.object, "Stripe checkout session")
    if session.object not in (None, "checkout.session"):
        raise InvalidEventError(f"Stripe {event.type} carries a {session.object!r}, not a checkout.session")
    # basil (2025-03-31) moved shipping details under collected_information; acacia has them on top.
    collected = session.collected_information.shipping_details if session.collected_information else None
    shipping = collected or session.shipping_details
    person = _person(session.customer_details, shipping)
    email_consent = _email_consent(session, event.created, settings)
    tags = settings.tags_for("stripe")
    if session.mode == "setup":
        # Saving a card sells nothing: the person is still a contact.
        return [
            ContactUpsert(
                event_id=f"stripe:checkout:{session.id}:setup",
                occurred_at=event.created,
                person=person,
                tags=tags,
                email_consent=email_consent,
            )
        ]
    if paid is None:
        if session.payment_status not in (*_PAID, "unpaid"):
            raise InvalidEventError(f"unknown Stripe payment_status {session.payment_status!r}")
        paid = session.payment_status in _PAID
    if session.amount_total is None or session.currency is None:
        raise InvalidEventError("Stripe checkout session has no amount_total or currency")
    amount, currency = merchant_amount(
        session.amount_total, session.currency, session.currency_conversion, settings
    )
    kind = "order.paid" if paid else "order.placed"
    return [
        Order(
            type=kind,
            event_id=f"stripe:checkout:{session.id}:{kind.removeprefix('order.')}",
            occurred_at=event.created,
            order_id=session.id,
            person=person,
            amount=amount,
            currency=currency,
            shop_currency=merchant_currency(settings),
            click_id=_click_id(session, settings),
            tags=tags,
            email_consent=email_consent,
        )
    ]


def checkout_owned(intent: PaymentIntent) -> bool:
    """Whether Checkout created this PaymentIntent (its session event counts the sale), told by the
    event alone: Checkout writes its session id (`cs_…`) as the PaymentIntent's
    `payment_details.order_reference`; a Payment Element or custom flow sets its own reference or none."""
    reference = intent.payment_details.order_reference if intent.payment_details else None
    return bool(reference and reference.startswith(("cs_test_", "cs_live_")))


def _payment_intent(event: StripeEvent, settings: MappingSettings) -> list[CanonicalEvent]:
    """A payment without Checkout (Payment Element, custom flows): the contact and one conversion."""
    intent: PaymentIntent = validate_source(PaymentIntent, event.data.object, "Stripe payment intent")
    if intent.object not in (None, "payment_intent"):
        raise InvalidEventError(f"Stripe {event.type} carries a {intent.object!r}, not a payment_intent")
    if checkout_owned(intent):
        return []  # the Checkout Session's own events carry this sale
    if intent.amount_received is None or intent.currency is None:
        raise InvalidEventError("Stripe payment intent has no amount_received or currency")
    amount, currency = merchant_amount(intent.amount_received, intent.currency, None, settings)
    return [
        Order(
            type="order.paid",
            event_id=f"stripe:payment_intent:{intent.id}:paid",
            occurred_at=event.created,
            order_id=intent.id,
            person=_person(CustomerDetails(email=intent.receipt_email), intent.shipping),
            amount=amount,
            currency=currency,
            shop_currency=merchant_currency(settings),
            click_id=_metadata_click_id(intent.metadata, settings),
            tags=settings.tags_for("stripe"),
        )
    ]


def _customer(event: StripeEvent, settings: MappingSettings) -> list[CanonicalEvent]:
    customer: Customer = validate_source(Customer, event.data.object, "Stripe customer")
    if customer.object not in (None, "customer"):
        raise InvalidEventError(f"Stripe {event.type} carries a {customer.object!r}, not a customer")
    details = CustomerDetails(
        email=customer.email, phone=customer.phone, name=customer.name, address=customer.address
    )
    return [
        ContactUpsert(
            event_id=f"stripe:{event.id}",
            occurred_at=event.created,
            person=_person(details, customer.shipping),
            tags=settings.tags_for("stripe"),
        )
    ]


_TYPES: dict[str, Callable[[StripeEvent, MappingSettings], list[CanonicalEvent]]] = {
    "checkout.session.completed": lambda e, s: _checkout_session(e, s, paid=None),
    "checkout.session.async_payment_succeeded": lambda e, s: _checkout_session(e, s, paid=True),
    "payment_intent.succeeded": _payment_intent,
    "customer.created": _customer,
    "customer.updated": _customer,
}


def adapt_stripe(envelope: Envelope, payload: Any, settings: MappingSettings) -> list[CanonicalEvent]:
    """Canonical events for one Stripe event whose full JSON is `payload`."""
    handler = _TYPES.get(envelope.topic)
    if handler is None:
        raise UnsupportedEventError(f"Stripe event type {envelope.topic!r} is not handled")
    event: StripeEvent = validate_source(StripeEvent, payload, "Stripe event")
    if event.type != envelope.topic:
        raise InvalidEventError(f"envelope topic {envelope.topic!r} does not match event type {event.type!r}")
    events = handler(event, settings)
    if event.livemode is False:
        # A test-mode key's event: the planner acts on it only when process_test_events says so.
        return [e.model_copy(update={"test_mode": True}) for e in events]
    return events
