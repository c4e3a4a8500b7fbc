"""In-memory stand-ins for the processor's unit tests: a NOMI client that keeps state and records
calls, SQS records and envelopes, and a RecordProcessor wired to fakes."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from nomi_client.errors import CoolingOffError, NomiAPIError, NotFoundError
from nomi_client.models import (
    ChannelStatus,
    ConsentHistory,
    ConsentHistoryEvent,
    ConsentStatus,
    Contact,
    SendOutcome,
)
from processor.checkpoints import InMemoryCheckpoints
from processor.dlq import InMemoryDeadLetters
from processor.record import RecordDeps, RecordProcessor
from processor.settings import MappingSettings
from processor.sources import adapt

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:events"


class FakeNomi:
    """The NomiClient methods the executor calls, over a tiny model of NOMI's state."""

    def __init__(self, *, delay: float = 0.0, unknown_unsubscribe_404: bool = False) -> None:
        # NOMI's answer to unsubscribing an unknown contact is undocumented; the sandbox answers 404.
        self.unknown_unsubscribe_404 = unknown_unsubscribe_404
        self.contacts: dict[str, dict[str, Any]] = {}
        self.consent_log: list[dict[str, Any]] = []
        self.unsubscribes: list[dict[str, Any]] = []
        # NOMI's append-only log as consent history shows it: (phone, channel, status, source, time),
        # oldest first.
        self.history: list[tuple[Any, ...]] = []
        self.messages: list[dict[str, Any]] = []
        self.conversions: list[dict[str, Any]] = []
        self.calls: list[str] = []
        self.fail: dict[str, list[BaseException]] = {}  # method → errors raised before any effect
        self.fail_after: dict[str, list[BaseException]] = {}  # method → errors raised after the effect
        self.cooling_off_hours: int | None = None
        self.delay = delay
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()

    # --- plumbing ---
    def _enter(self, method: str) -> None:
        with self._lock:
            self.calls.append(method)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            pending = self.fail.get(method)
            error = pending.pop(0) if pending else None
        try:
            if self.delay:
                time.sleep(self.delay)
            if error is not None:
                raise error
        finally:
            if error is not None:
                with self._lock:
                    self.in_flight -= 1

    def _leave(self, method: str) -> None:
        with self._lock:
            self.in_flight -= 1
            pending = self.fail_after.get(method)
            error = pending.pop(0) if pending else None
        if error is not None:
            raise error

    def count(self, method: str) -> int:
        return self.calls.count(method)

    # --- NOMI ---
    def create_contact(
        self,
        *,
        phone: str,
        sms_consent: Any = None,
        email_consent: Any = None,
        update: bool = True,
        **fields: Any,
    ) -> Contact:
        self._enter("create_contact")
        with self._lock:
            existing = self.contacts.get(phone)
            new = existing is None
            if not new and not update:
                self.in_flight -= 1
                # As the sandbox answers update=false for a known phone.
                raise NomiAPIError("A contact with this phone number already exists.", status_code=409)
            if new:
                existing = {
                    "contact_id": len(self.contacts) + 1,
                    "phone": phone,
                    "custom_variables": {},
                    "tags": [],
                    "sms_status": None,
                    "unsubscribed_at": None,
                    "created_at": NOW.isoformat(),
                }
                self.contacts[phone] = existing
            for name in ("first_name", "last_name", "email"):
                if fields.get(name):
                    existing[name] = fields[name]
            existing["custom_variables"].update(fields.get("custom_variables") or {})
            existing["tags"] = sorted({*existing["tags"], *(fields.get("tags") or [])})
            answer: dict[str, Any] = {
                "contact_id": existing["contact_id"],
                "phone": phone,
                "unsubscribed_at": existing["unsubscribed_at"],
                "custom_variables": dict(existing["custom_variables"]),
            }
            if new:
                events = []
                for channel, consent in (("sms", sms_consent), ("email", email_consent)):
                    if consent is not None:
                        self.consent_log.append({"phone": phone, "channel": channel, **consent.model_dump()})
                        self.history.append(
                            (phone, channel, consent.status, consent.source, consent.timestamp)
                        )
                        events.append(
                            {"channel": channel, "status": consent.status, "source": consent.source}
                        )
                        if channel == "sms":
                            existing["sms_status"] = consent.status
                answer.update(
                    sms_consent_status=existing["sms_status"],
                    email_consent_status=None,
                    consent_events=events,
                )
        self._leave("create_contact")
        return Contact.model_validate(answer)

    def find_contact(self, *, phone: str | None = None, **_: Any) -> Contact | None:
        self._enter("find_contact")
        found = self.contacts.get(phone or "")
        self._leave("find_contact")
        if found is None:
            return None
        return Contact(
            contact_id=found["contact_id"],
            phone=phone,
            email=found.get("email"),
            unsubscribed_at=found["unsubscribed_at"],
            created_at=found.get("created_at"),
            # contacts/lookup answers with the consent status (REFERENCE row 4), null when none.
            sms_consent_status=found["sms_status"],
        )

    def _by_id(self, contact_id: int) -> dict[str, Any]:
        return next(c for c in self.contacts.values() if c["contact_id"] == contact_id)

    def record_consent(
        self, contact_id: int, *, channel: str, status: str, source: str, timestamp: datetime, **extra: Any
    ) -> None:
        self._enter("record_consent")
        if self.cooling_off_hours is not None and status == "subscribed":
            with self._lock:
                self.in_flight -= 1
            raise CoolingOffError(
                "Contact is within the cooling-off period.",
                status_code=422,
                hours_remaining=self.cooling_off_hours,
            )
        contact = self._by_id(contact_id)
        self.history.append((contact["phone"], channel, status, source, timestamp))
        self.consent_log.append(
            {
                "phone": contact["phone"],
                "channel": channel,
                "status": status,
                "source": source,
                "timestamp": timestamp,
                **extra,
            }
        )
        if channel == "sms":
            contact["sms_status"] = status
        self._leave("record_consent")

    def unsubscribe(self, *, phone: str | None = None, email: str | None = None, type: str = "both") -> None:
        self._enter("unsubscribe")
        self.unsubscribes.append({"phone": phone, "email": email, "type": type})
        contact = self.contacts.get(phone or "")
        known = contact is not None or any(c.get("email") == email for c in self.contacts.values() if email)
        if self.unknown_unsubscribe_404 and not known:
            self._leave("unsubscribe")
            raise NotFoundError("Contact not found.", status_code=404)
        if contact is not None and type in ("sms", "both"):
            contact["sms_status"] = "unsubscribed"
            contact["unsubscribed_at"] = NOW.isoformat()
            self.history.append((contact["phone"], "sms", "unsubscribed", "api", NOW))
        self._leave("unsubscribe")

    def get_consent_history(self, contact_id: int, *, channel: str | None = None) -> ConsentHistory:
        self._enter("get_consent_history")
        contact = self._by_id(contact_id)
        mine = [h for h in self.history if h[0] == contact["phone"] and channel in (None, h[1])]
        events = [
            ConsentHistoryEvent(id=i + 1, channel=c, status=st, source=so, event_timestamp=at)
            for i, (_, c, st, so, at) in enumerate(mine)
        ]
        self._leave("get_consent_history")
        return ConsentHistory(
            contact_id=contact_id, current_sms_status=contact["sms_status"], consent_events=events[::-1]
        )

    def get_consent_status(self, contact_id: int) -> ConsentStatus:
        self._enter("get_consent_status")
        status = self._by_id(contact_id)["sms_status"]
        self._leave("get_consent_status")
        sms = ChannelStatus(
            status=status,
            can_receive_marketing=status == "subscribed",
            can_receive_transactional=status != "unsubscribed",
        )
        email = ChannelStatus(status=None, can_receive_marketing=False, can_receive_transactional=True)
        return ConsentStatus(contact_id=contact_id, sms=sms, email=email)

    def record_conversion(self, *, id: str, amount: Decimal) -> None:
        self._enter("record_conversion")
        self.conversions.append({"id": id, "amount": Decimal(str(amount))})
        self._leave("record_conversion")

    def send_message_safely(
        self,
        *,
        message: str,
        contact_id: int | None = None,
        phone: str | None = None,
        attempted_since: datetime | None = None,
        **extra: Any,
    ) -> SendOutcome:
        target = phone or (self._by_id(contact_id)["phone"] if contact_id else None)
        if attempted_since is not None:
            self._enter("lookup_messages")
            already = any(m["phone"] == target and m["message"] == message for m in self.messages)
            self._leave("lookup_messages")
            if already:
                return SendOutcome(status="already_sent", attempts=0)
        self._enter("send_message")
        self.messages.append({"phone": target, "message": message, **extra})
        self._leave("send_message")
        return SendOutcome(status="sent", attempts=1)


def create_idempotency_table(client: Any, name: str = "idem") -> None:
    """The template's IdempotencyTable on moto: key `id`, sparse `person` index for erasures."""
    from processor.checkpoints import PERSON_INDEX

    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "id", "AttributeType": "S"},
            {"AttributeName": "person", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": PERSON_INDEX,
                "KeySchema": [{"AttributeName": "person", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )


def envelope_body(
    source: str, topic: str, payload: Any, *, event_id: str = "evt-1", headers: dict[str, str] | None = None
) -> str:
    return json.dumps(
        {
            "version": 1,
            "source": source,
            "event_id": event_id,
            "topic": topic,
            "received_at": NOW.isoformat(),
            "headers": headers or {},
            "payload": payload,
        }
    )


def canonical_body(event: dict[str, Any]) -> str:
    """A bare canonical event, as another system would queue it."""
    return json.dumps(event, default=str)


def sqs_record(
    body: str, *, message_id: str = "m-1", receive_count: int = 1, attributes: dict[str, str] | None = None
) -> dict[str, Any]:
    return {
        "messageId": message_id,
        "receiptHandle": f"rh-{message_id}",
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": str(receive_count),
            "SentTimestamp": str(int(NOW.timestamp() * 1000)),
            "SenderId": "AIDA",
            "ApproximateFirstReceiveTimestamp": str(int(NOW.timestamp() * 1000)),
        },
        "messageAttributes": {
            k: {"stringValue": v, "dataType": "String", "stringListValues": [], "binaryListValues": []}
            for k, v in (attributes or {}).items()
        },
        "md5OfBody": "x",
        "eventSource": "aws:sqs",
        "eventSourceARN": QUEUE_ARN,
        "awsRegion": "us-east-1",
    }


def as_record(body: str, **kwargs: Any) -> SQSRecord:
    return SQSRecord(sqs_record(body, **kwargs))


def person(phone: str | None = "+15555550100", **more: Any) -> dict[str, Any]:
    return {"phone": phone, "first_name": "Ada", "last_name": "Lovelace", **more}


def consent(
    status: str = "subscribed", at: str = "2026-11-20T10:00:00+00:00", source: str = "checkout"
) -> dict[str, Any]:
    return {"status": status, "timestamp": at, "source": source, "consent_text": "Text me"}


def shipped(
    event_id: str = "ship-evt-1", shipment_id: str = "F-1", phone: str | None = "+15555550100", **more: Any
) -> dict[str, Any]:
    return {
        "type": "order.shipped",
        "event_id": event_id,
        "occurred_at": NOW.isoformat(),
        "order_id": "1042",
        "order_name": "#1042",
        "shipment_id": shipment_id,
        "person": person(phone),
        "tracking_numbers": ["1Z999"],
        "tracking_urls": ["https://track.example/1Z999"],
        "carrier": "UPS",
        **more,
    }


def make_worker(
    client: FakeNomi,
    *,
    checkpoints: InMemoryCheckpoints | None = None,
    dead_letters: InMemoryDeadLetters | None = None,
    settings: MappingSettings | None = None,
    sqs: Any = None,
) -> RecordProcessor:
    return RecordProcessor(
        RecordDeps(
            settings=settings or MappingSettings(),
            client=client,
            checkpoints=checkpoints if checkpoints is not None else InMemoryCheckpoints(),
            dead_letters=dead_letters if dead_letters is not None else InMemoryDeadLetters(),
            adapt=adapt,
            sqs=sqs,
            clock=lambda: NOW,
        )
    )


@contextmanager
def dynamodb_calls() -> Iterator[Counter[str]]:
    """The DynamoDB operations this process sends (the benchmark's counter, by operation name)."""
    from bench.throughput import aws_calls_counted

    counts: Counter[str] = Counter()
    with aws_calls_counted() as calls:
        yield counts
    counts.update(
        {name.removeprefix("dynamodb."): n for name, n in calls.items() if name.startswith("dynamodb.")}
    )
