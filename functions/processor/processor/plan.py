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

Consent rules decided here, for every source alike (SQS producers and EventBridge included):
SMS `subscribed`/`pending` evidence without a consent text is skipped (`sms_consent_without_text`),
email evidence without an email is skipped (`email_consent_without_email`), web-form SMS opt-ins
become `pending` under `sms_double_opt_in`, and test-mode events do nothing unless
`process_test_events`. Keys name phones and emails only by their pseudonym (`settings.pseudonym`), so
no checkpoint, log line or idempotency record holds one; consent keys are per identity: SMS on the
phone, email on the normalised email.
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
from gateway_events.identity import IdentityKind, normalize_identity
from nomi_client.phones import PhoneNumberError, normalize_phone
from processor.carriers import tracking_url
from processor.errors import UnsupportedEventError
from processor.money import amount_text

# Statuses that open a channel to marketing: these need the exact language the person agreed to.
OPT_IN_STATUSES = frozenset({"subscribed", "pending"})


class PlanSettings(Protocol):
    """The fields of `processor.settings.MappingSettings` the planner reads."""

    default_phone_region: str
    shipped_sms_enabled: bool
    shipped_template: str
    shipped_template_without_link: str
    send_number_id: int | None
    sms_double_opt_in: bool
    process_test_events: bool
    revenue_currency: str | None
    conversion_delivery: str

    def pseudonym(self, kind: IdentityKind, value: str) -> str: ...


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
    update_existing: bool = True
    """False: contacts/create with update=false, so an anonymous source never overwrites a contact."""


@dataclass(frozen=True)
class ApplyConsent(Step):
    """Consent evidence for one channel: rides on contacts/create for a new contact; otherwise the
    consent endpoint (subscribe/pending/transactional_only) or contacts/unsubscribe (unsubscribed).

    `subject` is the pseudonym of the identity the consent belongs to (phone for SMS, email for
    email): the newest-wins watermark is kept on it. `email` is the address an email consent is for."""

    channel: Literal["sms", "email"]
    evidence: ConsentEvidence
    subject: str
    phone: str = ""
    email: str | None = None
    once: bool = False
    """Recorded once per collection reference (a checkout token): decided once, never re-applied."""


@dataclass(frozen=True)
class Unsubscribe(Step):
    """contacts/unsubscribe for a consent.change that withdraws consent: no contact lookup needed.

    `watermarks` pairs each channel with the pseudonym its newest-wins watermark is kept on (None:
    the event names no such identity, so no watermark can be consulted for that channel)."""

    channels: tuple[Literal["sms", "email"], ...]
    evidence: ConsentEvidence
    subject: str
    phone: str | None = None
    email: str | None = None
    watermarks: tuple[tuple[Literal["sms", "email"], str | None], ...] = ()
    erase: bool = False
    """A privacy erasure: a contact NOMI does not know is nothing to unsubscribe, not a retry."""


@dataclass(frozen=True)
class ForgetPerson(Step):
    """Delete every item the gateway keeps under these pseudonyms (after a privacy erasure)."""

    subjects: tuple[str, ...]


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
    if getattr(event, "test_mode", False) and not settings.process_test_events:
        skip = Skip("test_event", "a test-mode event: process_test_events is off")
        return Plan(event.event_id, event.type, skips=(skip,))
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
    upsert = _upsert(
        event.person,
        phone,
        settings,
        tags=event.tags,
        variables=event.custom_variables,
        update_existing=event.update_existing,
    )
    consents, skips = _consent_steps(
        phone, event.person, settings, sms=event.sms_consent, email=event.email_consent
    )
    return Plan(event.event_id, event.type, (upsert, *consents), skips, contact_key=phone)


def _plan_consent_change(event: ConsentChange, settings: PlanSettings) -> Plan:
    email = _email(event.person)
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
        return _plan_unsubscribe(event, settings, channels, phone=phone, email=email)
    if phone is None:
        return _no_phone(event)
    consents, skips = _consent_steps(phone, event.person, settings, **{channels[0]: event.evidence})
    if not consents:
        # The consent was all this event asked for: no contact is created without it.
        return Plan(event.event_id, event.type, skips=skips, contact_key=phone)
    upsert = _upsert(event.person, phone, settings)
    return Plan(event.event_id, event.type, (upsert, *consents), skips, contact_key=phone)


def _plan_unsubscribe(
    event: ConsentChange,
    settings: PlanSettings,
    channels: tuple[Literal["sms", "email"], ...],
    *,
    phone: str | None,
    email: str | None,
) -> Plan:
    """One unsubscribe by phone (else by email); an erasure unsubscribes by phone AND by email (NOMI
    takes one identifier per call) and then forgets the person."""
    phone_key = settings.pseudonym("phone", phone) if phone else None
    email_key = settings.pseudonym("email", email) if email else None
    if phone is None and (email is None or channels == ("sms",)):
        return _no_phone(event)
    watermarks = tuple((c, phone_key if c == "sms" else email_key) for c in channels)
    stamp = _utc(event.evidence.timestamp)
    targets: list[tuple[str, dict[str, str]]] = []
    if phone is not None and phone_key is not None:
        targets.append((phone_key, {"phone": phone}))
    if email is not None and email_key is not None and (phone is None or event.erase):
        targets.append((email_key, {"email": email}))
    steps: list[Step] = [
        Unsubscribe(
            key=f"consent:{subject}:{'+'.join(channels)}:{stamp}",
            fact=True,
            channels=channels,
            evidence=event.evidence,
            subject=subject,
            watermarks=watermarks,
            erase=event.erase,
            **target,
        )
        for subject, target in targets
    ]
    if event.erase:
        subjects = tuple(s for s in (phone_key, email_key) if s)
        steps.append(ForgetPerson(key=f"forget:{stamp}", fact=False, subjects=subjects))
    return Plan(event.event_id, event.type, tuple(steps), contact_key=phone or email)


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
        steps.append(_upsert(event.person, phone, settings, tags=event.tags, variables=variables))
        consents, consent_skips = _consent_steps(
            phone, event.person, settings, sms=event.sms_consent, email=event.email_consent
        )
        steps.extend(consents)
        skips.extend(consent_skips)
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
        settings,
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
    upsert = _upsert(event.person, phone, settings)
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
    settings: PlanSettings,
    *,
    tags: list[str] | None = None,
    variables: dict[str, str] | None = None,
    key: str | None = None,
    update_existing: bool = True,
) -> UpsertContact:
    return UpsertContact(
        key=key or f"contact:{settings.pseudonym('phone', phone)}",
        fact=key is not None,
        phone=phone,
        first_name=person.first_name,
        last_name=person.last_name,
        email=person.email,
        tags=tuple(dict.fromkeys(tags or ())),
        custom_variables=dict(variables or {}),
        update_existing=update_existing,
    )


def _consent_steps(
    phone: str,
    person: Person,
    settings: PlanSettings,
    *,
    sms: ConsentEvidence | None = None,
    email: ConsentEvidence | None = None,
) -> tuple[list[ApplyConsent], list[Skip]]:
    """The consent steps of one event, after the rules every source obeys (see the module doc)."""
    steps: list[ApplyConsent] = []
    skips: list[Skip] = []
    if sms is not None:
        if sms.status in OPT_IN_STATUSES and not sms.consent_text:
            skips.append(Skip("sms_consent_without_text", "an SMS opt-in must carry the consent text shown"))
        else:
            if settings.sms_double_opt_in and sms.source == "webform" and sms.status == "subscribed":
                sms = sms.model_copy(update={"status": "pending"})
            steps.append(_consent_step(settings.pseudonym("phone", phone), "sms", sms, phone=phone))
    if email is not None:
        address = _email(person)
        if address is None:
            skips.append(Skip("email_consent_without_email", "email consent for a person without an email"))
        else:
            subject = settings.pseudonym("email", address)
            steps.append(_consent_step(subject, "email", email, phone=phone, email=address))
    return steps, skips


def _consent_step(
    subject: str,
    channel: Literal["sms", "email"],
    evidence: ConsentEvidence,
    *,
    phone: str,
    email: str | None = None,
) -> ApplyConsent:
    # A referenced opt-in (a checkout token) is one fact however often the box is seen ticked.
    moment = f"ref:{evidence.reference}" if evidence.reference else _utc(evidence.timestamp)
    return ApplyConsent(
        key=f"consent:{subject}:{channel}:{moment}",
        fact=True,
        channel=channel,
        evidence=evidence,
        subject=subject,
        phone=phone,
        email=email,
        once=evidence.reference is not None,
    )


def _email(person: Person) -> str | None:
    return normalize_identity("email", person.email) if person.email and person.email.strip() else None


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
