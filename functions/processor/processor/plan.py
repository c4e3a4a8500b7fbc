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
- order.placed: contacts/create with order variables (+ consent as above) → 1.
- order.paid: as placed, + conversion once per order with a click id → 2.
- order.shipped: contacts/create with tracking variables → consent status (skipped for a contact this
  very call created: it has no consent record, so it is transactional-capable) → messages/create
  → 2 (new) / 3 (existing).
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
from processor.errors import UnsupportedEventError

# Statuses that open a channel to marketing: these need the exact language the person agreed to.
OPT_IN_STATUSES = frozenset({"subscribed", "pending"})


class PlanSettings(Protocol):
    """The fields of `processor.settings.MappingSettings` the planner reads."""

    default_phone_region: str
    shipped_sms_enabled: bool
    shipped_template: str
    send_number_id: int | None
    sms_double_opt_in: bool
    process_test_events: bool

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
    phone = contact_phone(event.person, settings)
    if phone is None:
        skips.append(Skip("no_phone", "the order has no phone: no contact is created"))
    else:
        variables = {
            "last_order_id": event.order_name or event.order_id,
            "last_order_total": _money(event.amount),
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
        if event.click_id:
            steps.append(
                RecordConversion(
                    key=f"order:{event.order_id}:conversion",
                    fact=True,
                    click_id=event.click_id,
                    amount=event.amount,
                )
            )
        else:
            skips.append(Skip("no_click_id", "no click-through id: no conversion to record"))
    return Plan(event.event_id, event.type, tuple(steps), tuple(skips), contact_key=phone)


def _plan_order_shipped(event: OrderShipped, settings: PlanSettings) -> Plan:
    phone = contact_phone(event.person, settings)
    if phone is None:
        return _no_phone(event)
    # Every variable the template may use is set, blank when unknown, so that no value of an earlier
    # order is texted with this one.
    variables = {
        "order_id": event.order_name or event.order_id,
        "tracking_number": ", ".join(event.tracking_numbers),
        "tracking_url": event.tracking_urls[0] if event.tracking_urls else "",
        "carrier": event.carrier or "",
    }
    # Keyed on the values: a repeated description of the shipment costs no call, changed tracking does.
    upsert = _upsert(
        event.person,
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
        steps.append(
            SendTransactional(
                key=f"shipment:{event.shipment_id}:sms",
                fact=True,
                phone=phone,
                message=settings.shipped_template,
                first_name=event.person.first_name,
                last_name=event.person.last_name,
                number_id=settings.send_number_id,
            )
        )
    return Plan(event.event_id, event.type, tuple(steps), tuple(skips), contact_key=phone)


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


def _money(amount: Decimal) -> str:
    return format(amount.normalize(), "f") if amount == amount.to_integral() else format(amount, "f")


def _digest(values: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:12]


_PLANNERS: dict[type, Any] = {
    ContactUpsert: _plan_contact_upsert,
    ConsentChange: _plan_consent_change,
    Order: _plan_order,
    OrderShipped: _plan_order_shipped,
    TransactionalMessage: _plan_transactional_message,
}
