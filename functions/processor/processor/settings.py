"""Mapping settings: the one declarative, validated configuration of how source events become NOMI calls.

Every field has a sane default; a deployment overrides any of them with the JSON object in the
environment variable `MAPPING_SETTINGS`. Dictionary fields are merged key by key with their defaults,
so overriding one consent text or one source's topics keeps the rest. An invalid configuration fails
at load with every problem named, before any event is processed.
"""

from __future__ import annotations

import functools
import json
import os
from typing import Annotated, Any, Literal, get_args

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from gateway_events.canonical import ConsentChange, ContactUpsert, Order, OrderShipped, TransactionalMessage
from gateway_events.identity import IdentityKind, pseudonym
from gateway_events.topics import SHOPIFY_TOPICS, STRIPE_EVENT_TYPES

SETTINGS_ENV = "MAPPING_SETTINGS"

# The sources whose events reach an adapter (EventBridge events are unwrapped into shopify/stripe/canonical).
SOURCE_KEYS: tuple[str, ...] = ("shopify", "stripe", "signup", "canonical")

# Derived from the published models, so a new canonical type is known here without a second list.
CANONICAL_TYPES: frozenset[str] = frozenset(
    t
    for model in (ContactUpsert, ConsentChange, Order, OrderShipped, TransactionalMessage)
    for t in get_args(model.model_fields["type"].annotation)
)

KNOWN_TOPICS: dict[str, frozenset[str]] = {
    "shopify": SHOPIFY_TOPICS,
    "stripe": STRIPE_EVENT_TYPES,
    "signup": frozenset({"signup"}),
    "canonical": CANONICAL_TYPES,
}

# Defaults are the labels the platforms show out of the box; a store that changed its wording must
# configure its own, because the consent log must hold the exact language the person saw.
DEFAULT_CONSENT_TEXTS: dict[str, str] = {
    "shopify_checkout": "Text me with news and offers",
    "shopify_checkout_email": "Email me with news and offers",
    "stripe_checkout": "Keep me updated with news and personalized offers",
    "signup": (
        "By submitting this form, you agree to receive recurring automated marketing text messages at the "
        "number provided. Consent is not a condition of purchase. Msg & data rates may apply. "
        "Reply STOP to unsubscribe."
    ),
}

# What each key of `consent_texts` means (a typo must fail at load, not silently drop evidence).
CONSENT_TEXT_KEYS: dict[str, str] = {
    "shopify_checkout": "SMS opt-in at Shopify checkout (also consent_collected_from SHOPIFY)",
    "shopify_checkout_email": "email opt-in at Shopify checkout",
    "shopify_customer": "SMS opt-in recorded on a Shopify customer outside checkout (admin, apps)",
    "shopify_customer_email": "email opt-in recorded on a Shopify customer outside checkout",
    "stripe_checkout": "Stripe Checkout's promotions checkbox (email)",
    "signup": "the signup form's text, when the form posted none",
}

DEFAULT_TAGS: dict[str, list[str]] = {
    "shopify": ["shopify"],
    "stripe": ["stripe"],
    "signup": ["signup"],
    "canonical": [],
}

DEFAULT_SHIPPED_TEMPLATE = "Hi [first_name], your order [order_id] has shipped. Track it: [tracking_url]"
# For a shipment whose tracking link is unknown (no URL given, a carrier without a known tracking page):
# never "Track it: " followed by nothing.
DEFAULT_SHIPPED_TEMPLATE_WITHOUT_LINK = (
    "Hi [first_name], your order [order_id] has shipped. Tracking number: [tracking_number]"
)

ConversionDelivery = Literal["at_least_once", "at_most_once"]
_Currency = Annotated[str, Field(pattern=r"^[A-Za-z]{3}$")]

_Tag = Annotated[str, Field(min_length=1, max_length=64)]

# The pseudonym key of unit tests and of a processor started without IDENTITY_HASH_SECRET_NAME (wiring
# warns): a deployed stack always reads the stack's own secret instead.
DEVELOPMENT_IDENTITY_KEY = b"nomi-gateway-development-identity-key"


class SettingsError(ValueError):
    """The mapping configuration (`MAPPING_SETTINGS`) is not valid JSON or breaks a rule."""


class MappingSettings(BaseModel):
    """How source events map to canonical events and NOMI calls. Immutable once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    default_phone_region: str = Field(
        default="US", description="Region for phones without a country code when the event has no country."
    )
    click_parameter: str = Field(
        default="sub",
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_.\-]+$",
        description="Query parameter (and note attribute / Stripe metadata key) holding NOMI's click id.",
    )
    click_metadata_keys: list[str] = Field(
        default_factory=lambda: ["nomi_click_id"],
        description="Extra Shopify note-attribute / Stripe metadata keys holding the click id, tried first.",
    )
    stripe_client_reference_is_click_id: bool = Field(
        default=True,
        description="Use Checkout's client_reference_id as the click id when metadata holds none.",
    )
    consent_texts: dict[str, Annotated[str, Field(min_length=1, max_length=1000)]] = Field(
        default_factory=lambda: dict(DEFAULT_CONSENT_TEXTS),
        description="Consent language per source key (see CONSENT_TEXT_KEYS); merged with the defaults.",
    )
    tags: dict[str, list[_Tag]] = Field(
        default_factory=lambda: {k: list(v) for k, v in DEFAULT_TAGS.items()},
        description="Tags added to contacts per source; merged with the defaults per source.",
    )
    shipped_sms_enabled: bool = True
    shipped_template: str = Field(
        default=DEFAULT_SHIPPED_TEMPLATE,
        min_length=1,
        max_length=1600,
        description="The shipped SMS when a tracking link is known (given, or built for a known carrier).",
    )
    shipped_template_without_link: str = Field(
        default=DEFAULT_SHIPPED_TEMPLATE_WITHOUT_LINK,
        min_length=1,
        max_length=1600,
        description="The shipped SMS when no tracking link is known; may not use [tracking_url].",
    )
    revenue_currency: _Currency | None = Field(
        default=None,
        description="The one currency NOMI revenue is recorded in, for every source. Unset: each "
        "source's merchant currency (Shopify: the shop currency; Stripe: stripe_currency).",
    )
    stripe_currency: _Currency = Field(
        default="USD",
        description="The Stripe account's own currency, used when revenue_currency is unset.",
    )
    conversion_delivery: ConversionDelivery = Field(
        default="at_least_once",
        description="After an unknown /conversion outcome: retry through SQS (may count twice) or "
        "keep the claim (may count none).",
    )
    enabled_topics: dict[str, frozenset[str]] = Field(
        default_factory=lambda: dict(KNOWN_TOPICS),
        description="Topics/types handled per source; a source left out keeps all of its topics.",
    )
    send_number_id: int | None = Field(default=None, ge=1, description="NOMI number_id for sends.")
    sms_double_opt_in: bool = Field(
        default=False,
        description=(
            "Record web-form SMS opt-ins as `pending` instead of `subscribed`: the person must confirm "
            "(e.g. reply Y/START to NOMI's confirmation text) before NOMI lets marketing reach them."
        ),
    )
    process_test_events: bool = Field(
        default=False,
        description=(
            "Act on test-mode events (Shopify test orders, Stripe livemode false): contacts, consent, "
            "conversions and SMS. Off: they are acknowledged and skipped with reason `test_event`."
        ),
    )
    _identity_key: bytes = PrivateAttr(default=DEVELOPMENT_IDENTITY_KEY)

    @field_validator("default_phone_region")
    @classmethod
    def _known_region(cls, value: str) -> str:
        region = value.strip().upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"{value!r} is not a region phonenumbers knows (ISO 3166-1 alpha-2, e.g. US)")
        return region

    @field_validator("revenue_currency", "stripe_currency")
    @classmethod
    def _upper_currency(cls, value: str | None) -> str | None:
        return value.upper() if value else value

    @field_validator("shipped_template_without_link")
    @classmethod
    def _no_link_token(cls, value: str) -> str:
        if "[tracking_url]" in value:
            raise ValueError("shipped_template_without_link is used when no link is known: no [tracking_url]")
        return value

    @field_validator("consent_texts", mode="before")
    @classmethod
    def _merge_consent_texts(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        unknown = sorted(set(value) - set(CONSENT_TEXT_KEYS))
        if unknown:
            raise ValueError(f"unknown consent text keys {unknown}; known: {sorted(CONSENT_TEXT_KEYS)}")
        return {**DEFAULT_CONSENT_TEXTS, **value}

    @field_validator("tags", mode="before")
    @classmethod
    def _merge_tags(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        _reject_unknown_sources(value, "tags")
        return {**DEFAULT_TAGS, **value}

    @field_validator("enabled_topics", mode="before")
    @classmethod
    def _merge_enabled_topics(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        _reject_unknown_sources(value, "enabled_topics")
        merged: dict[str, Any] = dict(KNOWN_TOPICS)
        for source, topics in value.items():
            if not isinstance(topics, list | tuple | set | frozenset):
                raise ValueError(f"enabled_topics.{source} must be a list of topics")
            unknown = sorted(set(topics) - KNOWN_TOPICS[source])
            if unknown:
                raise ValueError(
                    f"enabled_topics.{source} names topics the gateway does not handle: {unknown}; "
                    f"known: {sorted(KNOWN_TOPICS[source])}"
                )
            merged[source] = frozenset(topics)
        return merged

    def with_identity_key(self, key: bytes) -> MappingSettings:
        """A copy that names phones and emails in stored keys by the stack's pseudonym key."""
        copy = self.model_copy()
        copy._identity_key = key
        return copy

    def pseudonym(self, kind: IdentityKind, value: str) -> str:
        """The keyed hash that stands for a phone or email in everything the gateway stores."""
        return pseudonym(kind, value, key=self._identity_key)

    def consent_text(self, key: str) -> str | None:
        """The configured consent language for `key`, or None when none is configured."""
        return self.consent_texts.get(key)

    def click_keys(self) -> list[str]:
        """Keys a click id may sit under (query parameter, note attribute, metadata), most specific first."""
        return [*self.click_metadata_keys, self.click_parameter]

    def tags_for(self, source: str) -> list[str]:
        return list(self.tags.get(source, ()))

    def topic_enabled(self, source: str, topic: str) -> bool:
        return topic in self.enabled_topics.get(source, frozenset())


def _reject_unknown_sources(value: dict[str, Any], field: str) -> None:
    unknown = sorted(set(value) - set(SOURCE_KEYS))
    if unknown:
        raise ValueError(f"{field} has unknown sources {unknown}; known: {list(SOURCE_KEYS)}")


def parse_settings(raw: str | None) -> MappingSettings:
    """Build the settings from a JSON object (None or blank → every default)."""
    if raw is None or not raw.strip():
        return MappingSettings()
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise SettingsError(f"{SETTINGS_ENV} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise SettingsError(f"{SETTINGS_ENV} must be a JSON object, got {type(data).__name__}")
    try:
        return MappingSettings.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, err['loc'])) or 'settings'}: {err['msg']}" for err in exc.errors()
        )
        raise SettingsError(f"invalid {SETTINGS_ENV}: {problems}") from exc


@functools.cache
def load_settings() -> MappingSettings:
    """The deployment's settings, read once per process from `MAPPING_SETTINGS`.

    Cached because every record of every batch uses them; tests call `load_settings.cache_clear()`.
    """
    return parse_settings(os.environ.get(SETTINGS_ENV))
