"""The sandbox's in-memory NOMI account: every record, behind one lock.

Endpoint logic (sandbox.api) holds `state.lock` for a whole request, so each request is atomic
even though the server answers requests on many threads at once.
"""

from __future__ import annotations

import random
import string
import threading
from collections import deque
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sandbox import rules

DEFAULT_BALANCE = 100_000
REQUEST_LOG_LIMIT = 10_000
_SHORT_ID_ALPHABET = string.ascii_letters + string.digits


@dataclass
class ConsentEvent:
    id: int
    contact_id: int
    channel: str
    status: str
    source: str
    event_timestamp: datetime
    created_at: datetime
    consent_text: str | None = None
    ip_address: str | None = None
    user_agent: str | None = None


@dataclass
class Contact:
    contact_id: int
    phone: str
    first_name: str | None
    last_name: str | None
    email: str | None
    timezone: str
    state: str | None
    created_at: datetime
    updated_at: datetime
    tags: list[str] = field(default_factory=list)
    custom_variables: dict[str, str] = field(default_factory=dict)
    unsubscribed_at: datetime | None = None


@dataclass
class Message:
    id: int
    contact_id: int
    message: str
    status: str
    created_at: datetime
    number_id: int
    segments: int
    media_url: str | None = None
    promo_url: str | None = None
    short_link_id: str | None = None


@dataclass
class ShortLink:
    id: str
    target_url: str
    created_at: datetime
    campaign_id: int | None = None
    message_id: int | None = None
    clicks: int = 0


@dataclass
class Campaign:
    campaign_id: int
    name: str
    status: str
    number: str
    url: str
    message: str
    media: str
    short_link_id: str
    sent: int
    filtered: int
    unsubscribed: int
    delivered: int
    failed: bool
    send_at: datetime | None
    sent_at: datetime | None
    completed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    revenue: Decimal = Decimal(0)
    conversions: int = 0


@dataclass
class Conversion:
    id: int
    short_link_id: str
    amount: Decimal
    campaign_id: int | None
    message_id: int | None
    created_at: datetime


class SandboxState:
    """Contacts, the consent log, messages, short links, conversions, campaigns, balance, requests."""

    def __init__(self, *, initial_balance: int = DEFAULT_BALANCE, seed: int | None = None) -> None:
        self.lock = threading.RLock()
        self._initial_balance = initial_balance
        self._seed = seed
        self.reset()

    def reset(self) -> None:
        """Forget everything: a fresh account with the starting balance."""
        with self.lock:
            self.contacts: dict[int, Contact] = {}
            self.consent_log: list[ConsentEvent] = []
            self.messages: list[Message] = []
            self.short_links: dict[str, ShortLink] = {}
            self.conversions: list[Conversion] = []
            self.campaigns: dict[int, Campaign] = {}
            self.requests: deque[dict[str, Any]] = deque(maxlen=REQUEST_LOG_LIMIT)
            self.balance = self._initial_balance
            self.clock_offset = timedelta(0)
            self._random = random.Random(self._seed)
            self._next_ids = {"contact": 1, "consent": 1, "message": 1, "conversion": 1, "request": 1}

    # -- clock and ids ---------------------------------------------------------------------

    def now(self) -> datetime:
        """The sandbox's clock: real UTC time plus any offset tests applied (for cooling-off)."""
        return datetime.now(UTC) + self.clock_offset

    def advance_clock(self, seconds: float) -> datetime:
        """Move the sandbox's clock forward (tests of the 48-hour cooling-off)."""
        with self.lock:
            self.clock_offset += timedelta(seconds=seconds)
            return self.now()

    def next_id(self, kind: str) -> int:
        with self.lock:
            value = self._next_ids[kind]
            self._next_ids[kind] = value + 1
            return value

    def new_short_link_id(self) -> str:
        """A fresh six-character id like the reference's `AAAAAA`."""
        with self.lock:
            while True:
                candidate = "".join(self._random.choice(_SHORT_ID_ALPHABET) for _ in range(6))
                if candidate not in self.short_links:
                    return candidate

    # -- lookups used by several endpoints -------------------------------------------------

    def contact_by_phone(self, phone: str) -> Contact | None:
        with self.lock:
            return next((c for c in self.contacts.values() if c.phone == phone), None)

    def contacts_by_email(self, email: str) -> list[Contact]:
        with self.lock:
            wanted = email.strip().lower()
            return [c for c in self.contacts.values() if c.email and c.email.lower() == wanted]

    def consent_events_for(self, contact_id: int, channel: str | None = None) -> list[ConsentEvent]:
        """A contact's consent log in recording order (oldest first)."""
        with self.lock:
            return [
                e
                for e in self.consent_log
                if e.contact_id == contact_id and (channel is None or e.channel == channel)
            ]

    def current_consent(self, contact_id: int, channel: str) -> ConsentEvent | None:
        """The latest RECORDED event decides the current status (last write wins, like a status column)."""
        events = self.consent_events_for(contact_id, channel)
        return events[-1] if events else None

    def consent_status(self, contact_id: int, channel: str) -> str | None:
        event = self.current_consent(contact_id, channel)
        return event.status if event else None

    def messages_for(self, contact_id: int) -> list[Message]:
        with self.lock:
            return [m for m in self.messages if m.contact_id == contact_id]

    # -- inspection ------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """Everything as JSON-ready data, for GET /_sandbox/state."""
        with self.lock:
            return {
                "now": rules.consent_time(self.now()),
                "balance": self.balance,
                "contacts": [self._contact_view(c) for c in self.contacts.values()],
                "consent_log": [_jsonable(asdict(e)) for e in self.consent_log],
                "messages": [_jsonable(asdict(m)) for m in self.messages],
                "short_links": [_jsonable(asdict(s)) for s in self.short_links.values()],
                "conversions": [_jsonable(asdict(c)) for c in self.conversions],
                "campaigns": [_jsonable(asdict(c)) for c in self.campaigns.values()],
            }

    def request_log(self) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(r) for r in self.requests]

    def _contact_view(self, contact: Contact) -> dict[str, Any]:
        view = _jsonable(asdict(contact))
        view["sms_consent_status"] = self.consent_status(contact.contact_id, "sms")
        view["email_consent_status"] = self.consent_status(contact.contact_id, "email")
        return view


def _jsonable(value: Any) -> Any:
    """Datetimes as ISO 8601 UTC, Decimals as numbers: the inspection view's uniform format."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return rules.consent_time(value)
    if isinstance(value, Decimal):
        return rules.money(value)
    return value
