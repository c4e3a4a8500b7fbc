"""The 12 NOMI requests: parse the fields, apply the documented rules to the state, shape the answer.

Nothing here touches sockets: the server hands a parsed `ApiRequest` in and writes the `Answer` out,
so faults (sandbox.faults) can wrap any endpoint the same way.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sandbox import rules
from sandbox.state import Campaign, ConsentEvent, Contact, Conversion, Message, SandboxState, ShortLink

CHANNELS = ("sms", "email")
CONSENT_STATUSES = ("subscribed", "unsubscribed", "pending", "transactional_only")
CONSENT_SOURCES = (
    "checkout", "webform", "keyword", "api", "manual", "stop", "unsubscribe_link", "spam_report",
)  # fmt: skip
CAMPAIGN_STATUSES = ("draft", "pending", "failed", "complete")
UNSUBSCRIBE_TYPES = ("sms", "email", "both")
COOLING_OFF = timedelta(hours=48)
_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass
class ApiRequest:
    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    form: dict[str, list[str]] = field(default_factory=dict)
    json: Any = None
    api_key: str | None = None

    def field(self, name: str) -> str | None:
        """A single form field, stripped; empty counts as absent (as a form-driven service reads it)."""
        values = self.form.get(name)
        if not values:
            return None
        value = values[-1].strip()
        return value or None

    def present(self, name: str) -> bool:
        return name in self.form


@dataclass
class Answer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class ApiError(Exception):
    """An error answer: `{"success": false, "data": ..., "message": ...}` with a 4xx status."""

    def __init__(self, status: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.data = [] if data is None else data


def ok(data: Any, message: str) -> Answer:
    return Answer(200, {"success": True, "data": data, "message": message})


def failure(status: int, message: str, data: Any = None) -> Answer:
    return Answer(status, {"success": False, "data": [] if data is None else data, "message": message})


# -- field parsing ------------------------------------------------------------------------------


def parse_bool(request: ApiRequest, name: str, default: bool) -> bool:
    raw = request.field(name)
    if raw is None:
        return default
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise ApiError(400, f"The {name} field must be true or false.")


def parse_int(raw: str | None, name: str, *, minimum: int = 1) -> int | None:
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError as exc:
        raise ApiError(400, f"The {name} field must be an integer.") from exc
    if value < minimum:
        raise ApiError(400, f"The {name} field must be at least {minimum}.")
    return value


def parse_page(request: ApiRequest, *, default_amount: int, max_amount: int) -> tuple[int, int]:
    """`page` (default 1) and `amount` (default per endpoint); an amount over the maximum is clamped."""
    page = parse_int(request.field("page"), "page") or 1
    amount = parse_int(request.field("amount"), "amount") or default_amount
    return page, min(amount, max_amount)


def paginate(items: list[Any], page: int, amount: int) -> list[Any]:
    start = (page - 1) * amount
    return items[start : start + amount]


def parse_tags(raw: str | None) -> list[str]:
    if raw is None:
        return []
    return list(dict.fromkeys(t.strip() for t in raw.split(",") if t.strip()))


def bracket_map(request: ApiRequest, prefix: str) -> dict[str, str]:
    """`prefix[key]=value` fields as a dict (`custom_variables[order_id]=ORD-1`)."""
    pattern = re.compile(rf"^{re.escape(prefix)}\[([^\]]+)\]$")
    result: dict[str, str] = {}
    for name, values in request.form.items():
        match = pattern.match(name)
        if match and values:
            result[match.group(1)] = values[-1]
    return result


def bracket_list(request: ApiRequest, prefix: str) -> list[str]:
    """`prefix[]=a&prefix[]=b` (or indexed `prefix[0]`) as a list of values."""
    pattern = re.compile(rf"^{re.escape(prefix)}\[\d*\]$")
    values: list[str] = []
    for name, found in request.form.items():
        if pattern.match(name):
            values.extend(v.strip() for v in found if v.strip())
    return values


def parse_phone(raw: str) -> tuple[str, Any]:
    try:
        parsed = rules.normalize_phone(raw)
    except rules.InvalidPhoneError as exc:
        raise ApiError(400, str(exc)) from exc
    return rules.e164(parsed), parsed


def parse_email(raw: str | None) -> str | None:
    if raw is not None and not _EMAIL.match(raw):
        raise ApiError(400, "The email field must be a valid email address.")
    return raw


def parse_timestamp(raw: Any, name: str) -> datetime:
    """ISO 8601; a timestamp without a zone is read as UTC."""
    if not isinstance(raw, str) or not raw.strip():
        raise ApiError(400, f"The {name} field is required.")
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError as exc:
        raise ApiError(400, f"The {name} field must be a valid ISO 8601 date.") from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_url(raw: str | None, name: str) -> str | None:
    if raw is not None and not raw.startswith(("http://", "https://")):
        raise ApiError(400, f"The {name} field must be a valid URL.")
    return raw


def choice(raw: Any, name: str, allowed: tuple[str, ...], *, required: bool = True) -> str | None:
    if raw is None or raw == "":
        if required:
            raise ApiError(400, f"The {name} field is required.")
        return None
    if raw not in allowed:
        raise ApiError(400, f"The selected {name} is invalid. Allowed: {', '.join(allowed)}.")
    return str(raw)


# -- shaping answers ----------------------------------------------------------------------------


def contact_data(contact: Contact) -> dict[str, Any]:
    return {
        "contact_id": contact.contact_id,
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "email": contact.email,
        "phone": contact.phone,
        "tags": list(contact.tags),
        "custom_variables": dict(contact.custom_variables),
        "timezone": contact.timezone,
        "state": contact.state,
        "unsubscribed_at": rules.contact_time(contact.unsubscribed_at) if contact.unsubscribed_at else None,
        "updated_at": rules.contact_time(contact.updated_at),
        "created_at": rules.contact_time(contact.created_at),
    }


def contact_with_consent(state: SandboxState, contact: Contact) -> dict[str, Any]:
    data = contact_data(contact)
    data["sms_consent_status"] = state.consent_status(contact.contact_id, "sms")
    data["email_consent_status"] = state.consent_status(contact.contact_id, "email")
    return data


def campaign_data(campaign: Campaign) -> dict[str, Any]:
    def plain(moment: datetime | None) -> str | None:
        return rules.plain_time(moment) if moment else None

    return {
        "campaign_id": campaign.campaign_id,
        "name": campaign.name,
        "status": campaign.status,
        "number": campaign.number,
        "url": campaign.url,
        "message": campaign.message,
        "media": campaign.media,
        "revenue": rules.money(campaign.revenue),
        "conversions": campaign.conversions,
        "sent": campaign.sent,
        "filtered": campaign.filtered,
        "unsubscribed": campaign.unsubscribed,
        "send_at": plain(campaign.send_at),
        "sent_at": plain(campaign.sent_at),
        "completed_at": plain(campaign.completed_at),
        "failed": campaign.failed,
        "delivered": campaign.delivered,
        "updated_at": rules.contact_time(campaign.updated_at),
        "created_at": rules.contact_time(campaign.created_at),
    }


# -- contacts -----------------------------------------------------------------------------------


def find_contact_by_id(state: SandboxState, raw_id: str | None) -> Contact:
    contact_id = parse_int(raw_id, "contact_id")
    contact = state.contacts.get(contact_id) if contact_id is not None else None
    if contact is None:
        raise ApiError(404, "Contact not found.")
    return contact


def identify_contact(state: SandboxState, request: ApiRequest) -> Contact | None:
    """`contact_id` wins over `phone`; None when neither matches. 400 when both are missing."""
    if request.field("contact_id") is not None:
        return find_contact_by_id(state, request.field("contact_id"))
    raw_phone = request.field("phone")
    if raw_phone is None:
        raise ApiError(400, "The contact_id field is required when phone is not present.")
    phone, _ = parse_phone(raw_phone)
    return state.contact_by_phone(phone)


def new_contact(state: SandboxState, phone_raw: str) -> Contact:
    phone, parsed = parse_phone(phone_raw)
    now = state.now()
    contact = Contact(
        contact_id=state.next_id("contact"),
        phone=phone,
        first_name=None,
        last_name=None,
        email=None,
        timezone=rules.timezone_for(parsed),
        state=rules.state_for(parsed),
        created_at=now,
        updated_at=now,
    )
    state.contacts[contact.contact_id] = contact
    return contact


def apply_names(request: ApiRequest, contact: Contact, *, with_email: bool = True) -> None:
    for name in ("first_name", "last_name"):
        value = request.field(name)
        if value is not None:
            setattr(contact, name, value)
    if with_email:
        email = parse_email(request.field("email"))
        if email is not None:
            contact.email = email


def apply_tags(contact: Contact, add: list[str], remove: list[str], *, merge: bool, overwrite: bool) -> None:
    """Merge `add` (or overwrite with it), then drop `remove`; order of first appearance is kept."""
    tags = list(add) if overwrite and not merge else [*contact.tags, *add]
    removed = set(remove)
    contact.tags = [t for t in dict.fromkeys(tags) if t not in removed]


def apply_custom_variables(
    contact: Contact, values: dict[str, str], remove: list[str], *, merge: bool, overwrite: bool
) -> None:
    merged = dict(values) if overwrite and not merge else {**contact.custom_variables, **values}
    for key in remove:
        merged.pop(key, None)
    contact.custom_variables = merged


def parse_consent_input(request: ApiRequest, channel: str) -> dict[str, Any] | None:
    """`sms_consent[...]` / `email_consent[...]`; status, timestamp and source are required once any is sent."""
    values = bracket_map(request, f"{channel}_consent")
    if not values:
        return None
    prefix = f"{channel}_consent"
    return validate_consent(
        {**values, "channel": channel},
        names={k: f"{prefix}.{k}" for k in ("status", "timestamp", "source", "consent_text")},
    )


def validate_consent(body: dict[str, Any], names: dict[str, str] | None = None) -> dict[str, Any]:
    """The consent fields of endpoint 7 (also used by contacts/create's bracketed consent)."""
    names = names or {}

    def label(key: str) -> str:
        return names.get(key, key)

    channel = choice(body.get("channel"), "channel", CHANNELS)
    status = choice(body.get("status"), label("status"), CONSENT_STATUSES)
    source = choice(body.get("source"), label("source"), CONSENT_SOURCES)
    timestamp = parse_timestamp(body.get("timestamp"), label("timestamp"))
    consent_text = _optional_text(body.get("consent_text"))
    if channel == "sms" and status == "subscribed" and not consent_text:
        raise ApiError(400, f"The {label('consent_text')} field is required for an SMS marketing opt-in.")
    return {
        "channel": channel,
        "status": status,
        "source": source,
        "timestamp": timestamp,
        "consent_text": consent_text,
        "ip_address": _optional_text(body.get("ip_address")),
        "user_agent": _optional_text(body.get("user_agent")),
    }


def _optional_text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def append_consent(state: SandboxState, contact: Contact, consent: dict[str, Any]) -> ConsentEvent:
    """Append to the immutable log; an SMS unsubscribe also stamps the contact's `unsubscribed_at`."""
    now = state.now()
    event = ConsentEvent(
        id=state.next_id("consent"),
        contact_id=contact.contact_id,
        channel=consent["channel"],
        status=consent["status"],
        source=consent["source"],
        event_timestamp=consent["timestamp"],
        created_at=now,
        consent_text=consent.get("consent_text"),
        ip_address=consent.get("ip_address"),
        user_agent=consent.get("user_agent"),
    )
    state.consent_log.append(event)
    if event.channel == "sms":
        contact.unsubscribed_at = now if event.status == "unsubscribed" else None
    contact.updated_at = now
    return event


def hours_of_cooling_off(state: SandboxState, contact: Contact, channel: str) -> int | None:
    """Whole hours (rounded up) left in the 48-hour window after an unsubscribe, or None when clear.

    The window starts when the person unsubscribed (`event_timestamp`), but never later than when
    NOMI recorded it, so a future-dated event cannot stretch the block.
    """
    current = state.current_consent(contact.contact_id, channel)
    if current is None or current.status != "unsubscribed":
        return None
    started = min(current.event_timestamp, current.created_at)
    remaining = started + COOLING_OFF - state.now()
    if remaining <= timedelta(0):
        return None
    return max(1, math.ceil(remaining.total_seconds() / 3600))


def create_contact(state: SandboxState, request: ApiRequest) -> Answer:
    raw_phone = request.field("phone")
    if raw_phone is None:
        raise ApiError(400, "The phone field is required.")
    phone, _ = parse_phone(raw_phone)
    update = parse_bool(request, "update", True)
    email = parse_email(request.field("email"))
    tags = parse_tags(request.field("tags"))
    remove_tags = parse_tags(request.field("remove_tags"))
    custom_variables = bracket_map(request, "custom_variables")
    # Validated even when they will be ignored: request validation does not depend on existence.
    consents = [c for c in (parse_consent_input(request, ch) for ch in CHANNELS) if c]

    existing = state.contact_by_phone(phone)
    if existing is not None:
        if not update:
            raise ApiError(409, "A contact with this phone number already exists.")
        apply_names(request, existing)
        apply_tags(existing, tags, remove_tags, merge=True, overwrite=False)
        apply_custom_variables(existing, custom_variables, [], merge=True, overwrite=False)
        existing.updated_at = state.now()
        return ok(contact_data(existing), "Contact updated successfully")

    contact = new_contact(state, raw_phone)
    contact.email = email
    apply_names(request, contact, with_email=False)
    apply_tags(contact, tags, [], merge=True, overwrite=False)
    contact.custom_variables = custom_variables
    events = [append_consent(state, contact, consent) for consent in consents]
    contact.updated_at = contact.created_at
    data = contact_with_consent(state, contact)
    if events:
        data["consent_events"] = [
            {"channel": e.channel, "status": e.status, "source": e.source} for e in events
        ]
    return ok(data, "Contact created successfully")


def lookup_contacts(state: SandboxState, request: ApiRequest) -> Answer:
    page, amount = parse_page(request, default_amount=20, max_amount=200)
    filters: list[Callable[[Contact], bool]] = []
    for name in ("first_name", "last_name", "email"):
        wanted = request.field(name)
        if wanted is not None:
            filters.append(_matches_text(name, wanted))
    if (raw_phone := request.field("phone")) is not None:
        phone, _ = parse_phone(raw_phone)
        filters.append(lambda c: c.phone == phone)
    if tags := parse_tags(request.field("tags")):
        filters.append(lambda c: set(tags) <= set(c.tags))
    if (contact_id := parse_int(request.field("contact_id"), "contact_id")) is not None:
        filters.append(lambda c: c.contact_id == contact_id)
    if (state_code := request.field("state")) is not None:
        filters.append(lambda c: (c.state or "") == state_code.upper())
    matches = [
        c for c in sorted(state.contacts.values(), key=lambda c: c.contact_id) if all(f(c) for f in filters)
    ]
    data = {
        "current_page": page,
        "per_page": amount,
        "total_contacts": len(matches),
        "contacts": [contact_with_consent(state, c) for c in paginate(matches, page, amount)],
    }
    return ok(data, "Contact lookup successful")


def _matches_text(name: str, wanted: str) -> Callable[[Contact], bool]:
    """Names and email compare case-insensitively, as a MySQL-backed service's `=` does."""
    return lambda contact: (getattr(contact, name) or "").lower() == wanted.lower()


def update_contact(state: SandboxState, request: ApiRequest) -> Answer:
    contact = identify_contact(state, request)
    if contact is None:
        raise ApiError(404, "Contact not found.")
    merge_tags = parse_bool(request, "merge_tags", True)
    merge_variables = parse_bool(request, "merge_custom_variables", True)
    apply_names(request, contact)
    apply_tags(
        contact,
        parse_tags(request.field("tags")),
        parse_tags(request.field("remove_tags")),
        merge=merge_tags,
        overwrite=request.present("tags"),
    )
    custom_variables = bracket_map(request, "custom_variables")
    apply_custom_variables(
        contact,
        custom_variables,
        bracket_list(request, "remove_custom_variables"),
        merge=merge_variables,
        overwrite=bool(custom_variables),
    )
    contact.updated_at = state.now()
    return ok(contact_data(contact), "Contact updated successfully")


def unsubscribe(state: SandboxState, request: ApiRequest) -> Answer:
    kind = choice(request.field("type") or "both", "type", UNSUBSCRIBE_TYPES)
    raw_phone, email = request.field("phone"), request.field("email")
    if raw_phone is None and email is None:
        raise ApiError(400, "The phone field is required when email is not present.")
    contacts: list[Contact] = []
    if raw_phone is not None:
        phone, _ = parse_phone(raw_phone)
        found = state.contact_by_phone(phone)
        contacts = [found] if found else []
    if not contacts and email is not None:
        contacts = state.contacts_by_email(email)
    if not contacts:
        raise ApiError(404, "Contact not found.")
    channels = CHANNELS if kind == "both" else (kind,)
    for contact in contacts:
        for channel in channels:
            if state.consent_status(contact.contact_id, channel) == "unsubscribed":
                continue  # already out: a repeated unsubscribe must not restart the cooling-off clock
            append_consent(
                state,
                contact,
                {"channel": channel, "status": "unsubscribed", "source": "api", "timestamp": state.now()},
            )
    return ok([], "Contact unsubscribed successfully")


# -- consent ------------------------------------------------------------------------------------


def record_consent(state: SandboxState, request: ApiRequest, contact_id: str) -> Answer:
    contact = find_contact_by_id(state, contact_id)
    body = request.json if request.json is not None else {k: v[-1] for k, v in request.form.items() if v}
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object.")
    consent = validate_consent(body)
    if consent["status"] != "unsubscribed" and consent["source"] != "keyword":
        hours = hours_of_cooling_off(state, contact, consent["channel"])
        if hours is not None:
            raise ApiError(
                422,
                "Contact is within the cooling-off period. "
                f"Re-opt-in blocked for approximately {hours} more hours.",
                {"hours_remaining": hours},
            )
    event = append_consent(state, contact, consent)
    data = {
        "consent_event_id": event.id,
        "contact_id": contact.contact_id,
        "channel": event.channel,
        "status": event.status,
        "source": event.source,
        "event_timestamp": rules.consent_time(event.event_timestamp),
        "created_at": rules.consent_time(event.created_at),
    }
    return ok(data, "Consent recorded successfully")


def consent_history(state: SandboxState, request: ApiRequest, contact_id: str) -> Answer:
    contact = find_contact_by_id(state, contact_id)
    channel = choice(request.query.get("channel") or None, "channel", CHANNELS, required=False)
    events = reversed(state.consent_events_for(contact.contact_id, channel))
    data = {
        "contact_id": contact.contact_id,
        "current_sms_status": state.consent_status(contact.contact_id, "sms"),
        "current_email_status": state.consent_status(contact.contact_id, "email"),
        "consent_events": [
            {
                "id": e.id,
                "channel": e.channel,
                "status": e.status,
                "source": e.source,
                "event_timestamp": rules.consent_time(e.event_timestamp),
                "ip_address": e.ip_address,
                "consent_text": e.consent_text,
                "created_at": rules.consent_time(e.created_at),
            }
            for e in events
        ],
    }
    return ok(data, "Consent history retrieved successfully")


def channel_status(state: SandboxState, contact: Contact, channel: str) -> dict[str, Any]:
    """No consent info → transactional only; unsubscribed → nothing at all on that channel."""
    current = state.current_consent(contact.contact_id, channel)
    status = current.status if current else None
    return {
        "status": status,
        "updated_at": rules.consent_time(current.created_at) if current else None,
        "can_receive_marketing": status == "subscribed",
        "can_receive_transactional": status != "unsubscribed",
    }


def consent_status(state: SandboxState, request: ApiRequest, contact_id: str) -> Answer:
    del request  # the status endpoint takes no parameters besides the path
    contact = find_contact_by_id(state, contact_id)
    data = {
        "contact_id": contact.contact_id,
        "sms": channel_status(state, contact, "sms"),
        "email": channel_status(state, contact, "email"),
    }
    return ok(data, "Consent status retrieved successfully")


# -- account, campaigns, conversions ------------------------------------------------------------


def balance(state: SandboxState, request: ApiRequest) -> Answer:
    del request
    return ok({"balance": state.balance}, "Account balance retrieved")


def lookup_campaigns(state: SandboxState, request: ApiRequest) -> Answer:
    page, amount = parse_page(request, default_amount=10, max_amount=100)
    campaign_id = parse_int(request.field("campaign_id"), "campaign_id")
    name = request.field("name")
    status = choice(request.field("status"), "status", CAMPAIGN_STATUSES, required=False)
    matches = [
        c
        for c in sorted(state.campaigns.values(), key=lambda c: c.campaign_id)
        if (campaign_id is None or c.campaign_id == campaign_id)
        and (name is None or name.lower() in c.name.lower())
        and (status is None or c.status == status)
    ]
    data = {
        "current_page": page,
        "per_page": amount,
        "total_campaigns": len(matches),
        "campaigns": [campaign_data(c) for c in paginate(matches, page, amount)],
    }
    return ok(data, "Campaign lookup successful")


def record_conversion(state: SandboxState, request: ApiRequest) -> Answer:
    link_id = request.field("id")
    if link_id is None:
        raise ApiError(400, "The id field is required.")
    raw_amount = request.field("amount")
    if raw_amount is None:
        raise ApiError(400, "The amount field is required.")
    try:
        amount = Decimal(raw_amount)
    except InvalidOperation as exc:
        raise ApiError(400, "The amount field must be a number.") from exc
    if not amount.is_finite() or amount < 0:
        raise ApiError(400, "The amount field must be a number of at least 0.")
    link = state.short_links.get(link_id)
    if link is None:
        raise ApiError(404, "Invalid conversion id.")
    now = state.now()
    state.conversions.append(
        Conversion(
            id=state.next_id("conversion"),
            short_link_id=link.id,
            amount=amount,
            campaign_id=link.campaign_id,
            message_id=link.message_id,
            created_at=now,
        )
    )
    campaign = state.campaigns.get(link.campaign_id) if link.campaign_id is not None else None
    if campaign is not None:
        campaign.revenue += amount
        campaign.conversions += 1
        campaign.updated_at = now
    return ok([], "Conversion Succesful")


# -- messages -----------------------------------------------------------------------------------


def lookup_messages(state: SandboxState, request: ApiRequest) -> Answer:
    page, amount = parse_page(request, default_amount=10, max_amount=100)
    if request.field("contact_id") is not None:
        contact_id = parse_int(request.field("contact_id"), "contact_id")
        contact = state.contacts.get(contact_id) if contact_id is not None else None
    else:
        contact = identify_contact(state, request)
    # An unknown contact has no messages: a lookup answers an empty page, not an error.
    messages = sorted(state.messages_for(contact.contact_id), key=lambda m: -m.id) if contact else []
    data = {
        "current_page": page,
        "per_page": amount,
        "total_messages": len(messages),
        "messages": [
            {
                "contact_id": m.contact_id,
                "contact_first_name": contact.first_name if contact else None,
                "contact_last_name": contact.last_name if contact else None,
                "contact_phone": contact.phone if contact else None,
                "message": m.message,
                "status": m.status,
                "created_at": rules.plain_time(m.created_at),
            }
            for m in paginate(messages, page, amount)
        ],
    }
    return ok(data, "Message lookup successful")


def token_values(contact: Contact) -> dict[str, str]:
    """Custom variables first, so the standard tokens win when a variable shares their name."""
    first, last = contact.first_name or "", contact.last_name or ""
    return {
        **contact.custom_variables,
        "name": f"{first} {last}".strip(),
        "first_name": first,
        "last_name": last,
        "st": contact.state or "",
        "state": rules.US_STATES.get(contact.state or "", ""),
    }


def send_message(state: SandboxState, request: ApiRequest, base_url: str) -> Answer:
    body = request.field("message")
    if body is None:
        raise ApiError(400, "The message field is required.")
    number_id = parse_int(request.field("number_id"), "number_id") or 1
    media_url = parse_url(request.field("media_url"), "media_url")
    promo_url = parse_url(request.field("promo_url"), "promo_url")
    tags = parse_tags(request.field("tags"))
    contact = identify_contact(state, request)
    if contact is not None and state.consent_status(contact.contact_id, "sms") == "unsubscribed":
        raise ApiError(400, "Contact has unsubscribed from SMS; the message was not sent.")
    if contact is None:
        contact = new_contact(state, request.field("phone") or "")
    apply_names(request, contact, with_email=False)
    apply_tags(contact, tags, [], merge=True, overwrite=False)

    values = token_values(contact)
    link: ShortLink | None = None
    if promo_url is not None:
        link = ShortLink(id=state.new_short_link_id(), target_url="", created_at=state.now())
        link.target_url = rules.render_tokens(promo_url, {**values, "code": link.id})
        values["link"] = f"{base_url}/s/{link.id}"
    rendered = rules.render_tokens(body, values)
    segments = rules.sms_segments(rendered)
    if segments > state.balance:
        raise ApiError(402, "Insufficient account balance to send this message.")

    state.balance -= segments
    now = state.now()
    contact.updated_at = now
    message = Message(
        id=state.next_id("message"),
        contact_id=contact.contact_id,
        message=rendered,
        status="delivered",
        created_at=now,
        number_id=number_id,
        segments=segments,
        media_url=media_url,
        promo_url=promo_url,
        short_link_id=link.id if link else None,
    )
    state.messages.append(message)
    if link is not None:
        link.message_id = message.id
        state.short_links[link.id] = link
    return ok([], "Message sent successfully")
