"""Canonical events: what every source is translated into, and what other systems may queue.

N sources × M effects become N adapters + M planners because everything meets here. These models are
public (published in schemas/queue-message.schema.json): change them only by adding optional fields,
or by a new `schema_version`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter, model_validator

ConsentStatus = Literal["subscribed", "unsubscribed", "pending", "transactional_only"]
ConsentSource = Literal[
    "checkout", "webform", "keyword", "api", "manual", "stop", "unsubscribe_link", "spam_report"
]
Channel = Literal["sms", "email"]

_Text = Annotated[str, Field(max_length=1000)]
_Name = Annotated[str, Field(max_length=100)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class ConsentEvidence(_Model):
    """Proof of a consent decision, as NOMI's consent log records it."""

    status: ConsentStatus
    timestamp: AwareDatetime = Field(
        description="When the person gave or withdrew consent, as the source states it (never processing time)."
    )
    source: ConsentSource
    consent_text: _Text | None = Field(default=None, description="The exact consent language shown.")
    ip_address: Annotated[str, Field(max_length=64)] | None = None
    user_agent: Annotated[str, Field(max_length=512)] | None = None
    reference: Annotated[str, Field(max_length=256)] | None = Field(
        default=None,
        description=(
            "The form or checkout the consent was collected on (e.g. a Shopify checkout token). A box "
            "seen ticked again on the same reference is the same opt-in: it is recorded once per "
            "reference, phone/email and channel, with the time the gateway first saw it."
        ),
    )


class Person(_Model):
    """Who an event is about. NOMI keys contacts on the phone; an event without one creates no contact."""

    phone: Annotated[str, Field(max_length=32)] | None = Field(
        default=None, description="As the source gave it; normalised to E.164 before any NOMI call."
    )
    email: Annotated[str, Field(max_length=254)] | None = None
    first_name: _Name | None = None
    last_name: _Name | None = None
    state: Annotated[str, Field(max_length=2)] | None = Field(
        default=None, description="Two-letter state code."
    )
    country: Annotated[str, Field(min_length=2, max_length=2)] | None = Field(
        default=None, description="ISO 3166-1 alpha-2; the region for a phone without a country code."
    )


class _Event(_Model):
    schema_version: Literal[1] = 1
    event_id: str = Field(min_length=1, max_length=512, description="The producer's unique id of this fact.")
    occurred_at: AwareDatetime
    test_mode: bool = Field(
        default=False,
        description=(
            "A test-mode fact (Shopify test order, Stripe livemode false): no contact, consent, "
            "conversion or SMS comes of it unless the processor's process_test_events setting is on."
        ),
    )


class ContactUpsert(_Event):
    """Create or update a contact, with consent evidence for a new one."""

    type: Literal["contact.upsert"] = "contact.upsert"
    person: Person
    tags: list[Annotated[str, Field(max_length=64)]] = Field(default_factory=list, max_length=50)
    custom_variables: dict[str, Annotated[str, Field(max_length=500)]] = Field(default_factory=dict)
    sms_consent: ConsentEvidence | None = None
    email_consent: ConsentEvidence | None = None
    update_existing: bool = Field(
        default=True,
        description=(
            "False for producers that cannot vouch for the person (a public signup form): names, email, "
            "tags and custom variables then only seed a new contact and never overwrite an existing one."
        ),
    )


class ConsentChange(_Event):
    """A person subscribes to or unsubscribes from a channel (`both` only for unsubscribing)."""

    type: Literal["consent.change"] = "consent.change"
    person: Person
    channel: Literal["sms", "email", "both"]
    evidence: ConsentEvidence
    erase: bool = Field(
        default=False,
        description=(
            "A privacy erasure (Shopify customers/redact): unsubscribe by phone and by email, then delete "
            "what the gateway keeps about this person. Only with status unsubscribed."
        ),
    )

    @model_validator(mode="after")
    def _both_only_unsubscribes(self) -> ConsentChange:
        if self.channel == "both" and self.evidence.status != "unsubscribed":
            raise ValueError("channel 'both' is only for unsubscribing")
        if self.erase and self.evidence.status != "unsubscribed":
            raise ValueError("erase is only for unsubscribing")
        return self


class Order(_Event):
    """An order was placed or paid: custom variables on the contact, and one conversion once paid."""

    type: Literal["order.placed", "order.paid"]
    order_id: str = Field(min_length=1, max_length=128)
    order_name: Annotated[str, Field(max_length=128)] | None = Field(
        default=None, description="The name shoppers see, e.g. '#1042'."
    )
    person: Person
    amount: Decimal = Field(ge=0, description="Total in major units (e.g. 12.50 USD, 1500 JPY).")
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    shop_currency: str | None = Field(
        default=None,
        pattern=r"^[A-Z]{3}$",
        description="The merchant's own currency as the source states it (Shopify: the shop currency). "
        "A conversion is recorded only when `currency` is the merchant's (see revenue_currency); "
        "unset: `currency` is taken to be the merchant's.",
    )
    click_id: Annotated[str, Field(max_length=128)] | None = Field(
        default=None, description="NOMI short-link id from the landing URL (e.g. ?sub=...), if any."
    )
    tags: list[Annotated[str, Field(max_length=64)]] = Field(default_factory=list, max_length=50)
    custom_variables: dict[str, Annotated[str, Field(max_length=500)]] = Field(default_factory=dict)
    sms_consent: ConsentEvidence | None = None
    email_consent: ConsentEvidence | None = None


class OrderShipped(_Event):
    """A shipment left with tracking: custom variables, then exactly one transactional SMS."""

    type: Literal["order.shipped"] = "order.shipped"
    order_id: str = Field(min_length=1, max_length=128)
    order_name: Annotated[str, Field(max_length=128)] | None = None
    shipment_id: str = Field(
        min_length=1,
        max_length=128,
        description="Fulfillment id: one SMS per shipment, however often described.",
    )
    person: Person = Field(description="The buyer; without a phone, `recipient` is texted instead.")
    recipient: Person | None = Field(
        default=None,
        description="Where the parcel goes when that may not be the buyer (a gift): texted only when "
        "the buyer has no phone, and never given the buyer's name or email.",
    )
    tracking_numbers: list[Annotated[str, Field(max_length=128)]] = Field(default_factory=list)
    tracking_urls: list[Annotated[str, Field(max_length=2048)]] = Field(default_factory=list)
    carrier: Annotated[str, Field(max_length=128)] | None = None


class TransactionalMessage(_Event):
    """A transactional SMS from another system (never marketing), sent at most once per `dedupe_key`."""

    type: Literal["message.transactional"] = "message.transactional"
    person: Person
    message: str = Field(
        min_length=1, max_length=1600, description="May use NOMI tokens such as [first_name]."
    )
    promo_url: Annotated[str, Field(max_length=2048)] | None = None
    media_url: Annotated[str, Field(max_length=2048)] | None = None
    dedupe_key: Annotated[str, Field(max_length=256)] | None = Field(
        default=None, description="Business key for at-most-once sending; defaults to event_id."
    )


CanonicalEvent = Annotated[
    ContactUpsert | ConsentChange | Order | OrderShipped | TransactionalMessage,
    Field(discriminator="type"),
]

_ADAPTER: TypeAdapter[CanonicalEvent] = TypeAdapter(CanonicalEvent)


def parse_canonical_event(data: Any) -> CanonicalEvent:
    """Validate one canonical event (raises pydantic.ValidationError)."""
    return _ADAPTER.validate_python(data)
