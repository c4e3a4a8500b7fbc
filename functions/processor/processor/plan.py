"""Planner: one canonical event + the mapping settings → the ordered NOMI steps that realise it.

Pure (no I/O): every decision that needs no NOMI answer is made here, so it can be tested per type.
Each step carries a business key; `fact=True` keys are global (the same fact under another event
id repeats nothing: one SMS per shipment, one conversion per order, one consent fact per time),
the others are scoped to the event (a retry of that event repeats no completed step).

NOMI calls per event type (fewest correct sequence; "new" = phone unknown to NOMI):
- contact.upsert: contacts/create with consent fields → 1 (new); existing + consent: +1 per channel
  (consent endpoint, or unsubscribe).
- consent.change subscribe: contacts/create with consent → 1 (new) / 2 (existing: + consent endpoint);
  unsubscribe: contacts/unsubscribe → 1 (no lookup needed).
- order.placed: contacts/create with order variables (+ consent as above) → 1; no or junk phone → 0.
- order.paid: as placed, + conversion once per order with a click id in the revenue currency → 2;
  no or junk phone → 1 (the conversion alone); another currency → 1 (the contact alone).
- order.shipped: contacts/create with tracking variables → consent status (skipped for a contact this
  very call created: it has no consent record, so it is transactional-capable) → messages/create with
  the text rendered here → 2 (new) / 3 (existing); no or junk phone of buyer and recipient → 0.
- message.transactional: the same gate and send without variables → 2 / 3.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal, Protocol

from gateway_events.canonical import (
    ConsentChange,
    ConsentEvidence,
    ContactUpsert,
    Order,
    OrderShipped,
    Person,
    TransactionalMessage,
)
from nomi_client.phones import PhoneNumberError, normalize_phone
from processor.carriers import tracking_url
from processor.errors import UnsupportedEventError
from processor.money import amount_text


class PlanSettings(Protocol):
    """The fields of `processor.settings.MappingSettings` the planner reads."""

    default_phone_region: str
    shipped_sms_enabled: bool
    shipped_template: str
    shipped_template_without_link: str
    send_number_id: int | None
    revenue_currency: str | None
    conversion_delivery: str


@dataclass(frozen=True)
class Step:
    """One NOMI effect with the business key that makes it happen once."""

    key: str
    fact: bool


@dataclass(frozen=True)
class UpsertContact(Step):
    """contacts/create (update=true): creates or updates, and carries consent for a new contact."""

    phone: str
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    tags: tuple[str, ...] = ()
    custom_variables: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ApplyConsent(Step):
    """Consent evidence for one channel: rides on contacts/create for a new contact; otherwise the
    consent endpoint (subscribe/pending/transactional_only) or contacts/unsubscribe (unsubscribed)."""

    channel: Literal["sms", "email"]
    evidence: ConsentEvidence
    subject: str


@dataclass(frozen=True)
class Unsubscribe(Step):
    """contacts/unsubscribe for a consent.change that withdraws consent: no contact lookup needed."""

    channels: tuple[Literal["sms", "email"], ...]
    evidence: ConsentEvidence
    subject: str
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class SendTransactional(Step):
    """A transactional SMS, after the consent status gate; never sent twice (checkpoint + lookup)."""

    phone: str
    message: str
    first_name: str | None = None
    last_name: str | None = None
    promo_url: str | None = None
    media_url: str | None = None
    number_id: int | None = None


@dataclass(frozen=True)
class RecordConversion(Step):
    """/conversion with the click-through id, once per order."""

    click_id: str
    amount: Decimal
    at_most_once: bool = False
    """After an unknown outcome, keep the claim (the sale may go uncounted) instead of retrying (it
    may be counted twice): /conversion has no idempotency key and no lookup."""


@dataclass(frozen=True)
class Skip:
    """Something the event asked for that will not happen, and why (logged and metered)."""

    reason: str
    detail: str = ""


@dataclass(frozen=True)
class Plan:
    """The ordered steps of one canonical event, and the parts skipped outright."""

    event_id: str
    event_type: str
    steps: tuple[Step, ...] = ()
    skips: tuple[Skip, ...] = ()
    contact_key: str | None = None


def plan(event: Any, settings: PlanSettings) -> Plan:
    """Turn one canonical event into a plan (raises PhoneNumberError for a phone that cannot be real)."""
    planner = _PLANNERS.get(type(event))
    if planner is None:
        raise UnsupportedEventError(f"no planner for canonical type {getattr(event, 'type', type(event))}")
    return planner(event, settings)


def contact_phone(person: Person, settings: PlanSettings) -> str | None:
    """The person's phone in E.164, or None when the event has none (PhoneNumberError when invalid)."""
    if not person.phone:
        return None
    region = person.country or settings.default_phone_region
    return normalize_phone(person.phone, default_region=region.upper())


def ordering_phone(event: Any, settings: PlanSettings) -> str | None:
    """The phone a batch orders an event by: its person's, else (a parcel without a buyer phone yet)
    its recipient's, so that two descriptions of one parcel never run at once. Raises like contact_phone."""
    for person in (getattr(event, "person", None), getattr(event, "recipient", None)):
        if person is not None and person.phone:
            return contact_phone(person, settings)
    return None


def _plan_contact_upsert(event: ContactUpsert, settings: PlanSettings) -> Plan:
    phone = contact_phone(event.person, settings)
    if phone is None:
        return _no_phone(event)
    upsert = _upsert(event.person, phone, tags=event.tags, variables=event.custom_variables)
    consents = _consent_steps(phone, sms=event.sms_consent, email=event.email_consent)
    return Plan(event.event_id, event.type, (upsert, *consents), contact_key=phone)


def _plan_consent_change(event: ConsentChange, settings: PlanSettings) -> Plan:
    email = event.person.email.strip().lower() if event.person.email else None
    try:
        phone = contact_phone(event.person, settings)
    except PhoneNumberError:
        # An email opt-out must not be lost to a bad phone number next to it.
        if event.evidence.status != "unsubscribed" or event.channel == "sms" or email is None:
            raise
        phone = None
    channels: tuple[Literal["sms", "email"], ...] = (
        ("sms", "email") if event.channel == "both" else (event.channel,)
    )
    if event.evidence.status == "unsubscribed":
        subject = phone or email
        if subject is None or (phone is None and "sms" in channels):
            return _no_phone(event)
        stamp = _utc(event.evidence.timestamp)
        step = Unsubscribe(
            key=f"consent:{subject}:{'+'.join(channels)}:{stamp}",
            fact=True,
            channels=channels,
            evidence=event.evidence,
            subject=subject,
            phone=phone,
            email=email if phone is None else None,
        )
        return Plan(event.event_id, event.type, (step,), contact_key=subject)
    if phone is None:
        return _no_phone(event)
    upsert = _upsert(event.person, phone)
    consent = _consent_step(phone, channels[0], event.evidence)
    return Plan(event.event_id, event.type, (upsert, consent), contact_key=phone)


def _plan_order(event: Order, settings: PlanSettings) -> Plan:
    steps: list[Step] = []
    skips: list[Skip] = []
    # A missing or junk phone loses the contact, never the sale: the conversion needs no contact.
    phone, no_phone = usable_phone(event.person, settings)
    if phone is None:
        skips.append(no_phone or Skip("no_phone"))
    else:
        variables = {
            "last_order_id": event.order_name or event.order_id,
            "last_order_total": amount_text(event.amount, event.currency),
            "last_order_currency": event.currency,
            **event.custom_variables,
        }
        steps.append(_upsert(event.person, phone, tags=event.tags, variables=variables))
        steps.extend(_consent_steps(phone, sms=event.sms_consent, email=event.email_consent))
    if event.type == "order.paid":
        conversion = _conversion(event, settings)
        if isinstance(conversion, Skip):
            skips.append(conversion)
        else:
            steps.append(conversion)
    return Plan(event.event_id, event.type, tuple(steps), tuple(skips), contact_key=phone)


def _conversion(event: Order, settings: PlanSettings) -> RecordConversion | Skip:
    """One conversion per order, in the one currency NOMI totals revenue in (never yen added to dollars)."""
    if not event.click_id:
        return Skip("no_click_id", "no click-through id: no conversion to record")
    merchant = settings.revenue_currency or event.shop_currency or event.currency
    if event.currency != merchant:
        return Skip(
            "currency_mismatch",
            f"the order is in {event.currency} and NOMI revenue in {merchant}: no conversion recorded",
        )
    return RecordConversion(
        key=f"order:{event.order_id}:conversion",
        fact=True,
        click_id=event.click_id,
        amount=event.amount,
        at_most_once=settings.conversion_delivery == "at_most_once",
    )


def _plan_order_shipped(event: OrderShipped, settings: PlanSettings) -> Plan:
    recipient, phone, no_phone = shipment_recipient(event, settings)
    if phone is None:
        return Plan(event.event_id, event.type, skips=(no_phone or Skip("no_phone"),))
    link = _shipment_link(event)
    # Every variable the template may use is set, blank when unknown, so that no value of an earlier
    # order is texted with this one. Merchants' own NOMI campaigns read them too.
    variables = {
        "order_id": event.order_name or event.order_id,
        "tracking_number": ", ".join(event.tracking_numbers),
        "tracking_url": link or "",
        "carrier": event.carrier or "",
    }
    # Keyed on the values: a repeated description of the shipment costs no call, changed tracking does.
    upsert = _upsert(
        recipient,
        phone,
        variables=variables,
        key=f"shipment:{event.shipment_id}:vars:{_digest(variables)}",
    )
    skips: list[Skip] = []
    steps: list[Step] = [upsert]
    if not settings.shipped_sms_enabled:
        skips.append(Skip("shipped_sms_disabled", "shipped_sms_enabled is off"))
    elif not (event.tracking_numbers or event.tracking_urls):
        skips.append(Skip("no_tracking", "no tracking yet: the SMS waits for a shipment with tracking"))
    else:
        template = settings.shipped_template if link else settings.shipped_template_without_link
        steps.append(
            SendTransactional(
                key=f"shipment:{event.shipment_id}:sms",
                fact=True,
                phone=phone,
                # Rendered here, not by NOMI from the contact's variables: another parcel of the same
                # contact may overwrite those before NOMI renders this one.
                message=render_message(template, {**variables, **name_tokens(recipient)}),
                first_name=recipient.first_name,
                last_name=recipient.last_name,
                number_id=settings.send_number_id,
            )
        )
    return Plan(event.event_id, event.type, tuple(steps), tuple(skips), contact_key=phone)


def shipment_recipient(event: OrderShipped, settings: PlanSettings) -> tuple[Person, str | None, Skip | None]:
    """Who is texted about a parcel: the buyer; the parcel's recipient (a gift) only when the buyer has
    no usable phone, and then with the recipient's own names and no email (never the buyer's)."""
    phone, no_phone = usable_phone(event.person, settings)
    if phone is not None or event.recipient is None:
        return event.person, phone, no_phone
    other = event.recipient
    recipient = Person(
        phone=other.phone,
        first_name=other.first_name,
        last_name=other.last_name,
        state=other.state,
        country=other.country,
    )
    phone, recipient_no_phone = usable_phone(recipient, settings)
    return recipient, phone, recipient_no_phone if phone is None else None


def usable_phone(person: Person, settings: PlanSettings) -> tuple[str | None, Skip | None]:
    """The person's E.164 phone, or None with the reason (no phone, or text that is not a phone)."""
    try:
        phone = contact_phone(person, settings)
    except PhoneNumberError as exc:
        return None, Skip("invalid_phone", f"the phone is not usable: {exc}")
    if phone is None:
        return None, Skip("no_phone", "NOMI keys contacts on the phone")
    return phone, None


def _shipment_link(event: OrderShipped) -> str | None:
    if event.tracking_urls:
        return event.tracking_urls[0]
    return tracking_url(event.carrier, event.tracking_numbers[0] if event.tracking_numbers else None)


def name_tokens(person: Person) -> dict[str, str]:
    """NOMI's own name tokens as NOMI would fill them for this person ([st] is the state code)."""
    first_name, last_name = person.first_name or "", person.last_name or ""
    return {
        "first_name": first_name,
        "last_name": last_name,
        "name": " ".join(n for n in (first_name, last_name) if n),
        "st": person.state or "",
    }


def render_message(template: str, values: Mapping[str, str]) -> str:
    """`template` with each `[token]` of `values` filled in; other tokens are left for NOMI.

    Brackets are dropped from the values so that a name or URL can never become a token NOMI fills.
    A blank value takes its leading space with it when punctuation follows ("Hi [first_name], …" →
    "Hi, …") and leaves one space between words otherwise; the template's own spacing is kept.
    """

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            return match.group(0)
        value = values[name].replace("[", "").replace("]", "").strip()
        return value or _BLANK

    text = _BLANKS_BEFORE_PUNCTUATION.sub("", _TOKEN.sub(fill, template))
    return _BLANKS.sub(" ", text).strip()


def _plan_transactional_message(event: TransactionalMessage, settings: PlanSettings) -> Plan:
    phone = contact_phone(event.person, settings)
    if phone is None:
        return _no_phone(event)
    upsert = _upsert(event.person, phone)
    send = SendTransactional(
        key=f"message:{event.dedupe_key or event.event_id}:sms",
        fact=True,
        phone=phone,
        message=event.message,
        first_name=event.person.first_name,
        last_name=event.person.last_name,
        promo_url=event.promo_url,
        media_url=event.media_url,
        number_id=settings.send_number_id,
    )
    return Plan(event.event_id, event.type, (upsert, send), contact_key=phone)


def _upsert(
    person: Person,
    phone: str,
    *,
    tags: list[str] | None = None,
    variables: dict[str, str] | None = None,
    key: str | None = None,
) -> UpsertContact:
    return UpsertContact(
        key=key or f"contact:{phone}",
        fact=key is not None,
        phone=phone,
        first_name=person.first_name,
        last_name=person.last_name,
        email=person.email,
        tags=tuple(dict.fromkeys(tags or ())),
        custom_variables=dict(variables or {}),
    )


def _consent_steps(
    phone: str, *, sms: ConsentEvidence | None, email: ConsentEvidence | None
) -> list[ApplyConsent]:
    pairs: list[tuple[Literal["sms", "email"], ConsentEvidence | None]] = [("sms", sms), ("email", email)]
    return [_consent_step(phone, channel, evidence) for channel, evidence in pairs if evidence is not None]


def _consent_step(phone: str, channel: Literal["sms", "email"], evidence: ConsentEvidence) -> ApplyConsent:
    return ApplyConsent(
        key=f"consent:{phone}:{channel}:{_utc(evidence.timestamp)}",
        fact=True,
        channel=channel,
        evidence=evidence,
        subject=phone,
    )


def _utc(moment: datetime) -> str:
    # One instant, one key, whatever offset the source wrote it in.
    return moment.astimezone(UTC).isoformat()


def _no_phone(event: Any) -> Plan:
    return Plan(event.event_id, event.type, skips=(Skip("no_phone", "NOMI keys contacts on the phone"),))


def _digest(values: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:12]


_TOKEN = re.compile(r"\[([A-Za-z0-9_]+)\]")
_BLANK = "\x00"  # a token whose value is blank, until the spacing around it is settled
_BLANKS_BEFORE_PUNCTUATION = re.compile(r"(?:[ \t]*\x00)+(?=[,.!?;:])")
_BLANKS = re.compile(r"[ \t]*(?:\x00[ \t]*)+")

_PLANNERS: dict[type, Any] = {
    ContactUpsert: _plan_contact_upsert,
    ConsentChange: _plan_consent_change,
    Order: _plan_order,
    OrderShipped: _plan_order_shipped,
    TransactionalMessage: _plan_transactional_message,
}
