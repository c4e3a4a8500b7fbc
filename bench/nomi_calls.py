"""NOMI calls per event type, counted at the sandbox, against the fewest calls the mapping needs.

Each scenario is one canonical event through the real processor. "new" means the phone is unknown to
NOMI; "existing" means a contact with that phone was created just before (by a contact.upsert event
without consent), and only the scenario's own calls are counted.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bench import payloads
from bench.model import Measure, Section
from bench.stack import ProcessorStack, processor_stack

TITLE = "NOMI calls per event type vs the mapping's minimum"


class DeadLetteredError(RuntimeError):
    """The processor parked a scenario's event as a permanent failure: its calls would not be the mapping's."""


@dataclass(frozen=True)
class Scenario:
    event_type: str
    contact: str  # "new" or "existing"
    minimum: int
    why: str  # one line: why no correct mapping can do it in fewer calls
    build: Callable[[str, str], dict[str, Any]]  # (event id, phone) -> canonical event

    @property
    def name(self) -> str:
        return f"{self.event_type} ({self.contact} contact)"


def _base(event_type: str, event_id: str) -> dict[str, Any]:
    return {"type": event_type, "event_id": event_id, "occurred_at": datetime.now(UTC).isoformat()}


def _evidence(status: str, source: str) -> dict[str, Any]:
    return {
        "status": status,
        "timestamp": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
        "source": source,
        "consent_text": "Text me order updates and offers. Reply STOP to opt out.",
        "ip_address": "203.0.113.9",
    }


def contact_upsert(event_id: str, phone: str) -> dict[str, Any]:
    return {
        **_base("contact.upsert", event_id),
        "person": {"phone": phone, "first_name": "Ada", "email": f"{event_id}@example.com"},
        "tags": ["bench"],
        "sms_consent": _evidence("subscribed", "webform"),
    }


def plain_contact(event_id: str, phone: str) -> dict[str, Any]:
    """What makes a contact "existing": created without consent (transactional-only)."""
    return {**_base("contact.upsert", event_id), "person": {"phone": phone, "first_name": "Ada"}}


def consent_subscribe(event_id: str, phone: str) -> dict[str, Any]:
    return {
        **_base("consent.change", event_id),
        "person": {"phone": phone},
        "channel": "sms",
        "evidence": _evidence("subscribed", "keyword"),
    }


def consent_unsubscribe(event_id: str, phone: str) -> dict[str, Any]:
    return {
        **_base("consent.change", event_id),
        "person": {"phone": phone},
        "channel": "sms",
        "evidence": _evidence("unsubscribed", "stop"),
    }


def order(event_type: str) -> Callable[[str, str], dict[str, Any]]:
    def build(event_id: str, phone: str) -> dict[str, Any]:
        event = {
            **_base(event_type, event_id),
            "order_id": event_id,
            "order_name": "#1042",
            "person": {"phone": phone, "first_name": "Ada", "email": f"{event_id}@example.com"},
            "amount": "24.00",
            "currency": "USD",
        }
        if event_type == "order.paid":
            event["click_id"] = payloads.CLICK_ID
        return event

    return build


def order_shipped(event_id: str, phone: str) -> dict[str, Any]:
    return {**payloads.order_shipped(0, run=event_id), "person": {"phone": phone, "first_name": "Ada"}}


def transactional(event_id: str, phone: str) -> dict[str, Any]:
    return {
        **_base("message.transactional", event_id),
        "person": {"phone": phone, "first_name": "Ada"},
        "message": "Hi [first_name], your appointment is confirmed.",
    }


CREATE = "contacts/create"
SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "contact.upsert",
        "new",
        1,
        f"{CREATE} carries tags, variables and consent for a new contact",
        contact_upsert,
    ),
    Scenario(
        "contact.upsert",
        "existing",
        2,
        f"{CREATE} ignores consent fields on an existing contact: + consent endpoint",
        contact_upsert,
    ),
    Scenario(
        "consent.change subscribe",
        "new",
        1,
        f"{CREATE} with the consent fields creates and records it",
        consent_subscribe,
    ),
    Scenario(
        "consent.change subscribe",
        "existing",
        2,
        "the consent endpoint needs the contact id, which only a call gives",
        consent_subscribe,
    ),
    Scenario(
        "consent.change unsubscribe",
        "existing",
        1,
        "contacts/unsubscribe takes the phone: no lookup needed",
        consent_unsubscribe,
    ),
    Scenario("order.placed", "new", 1, f"{CREATE} sets the order variables", order("order.placed")),
    Scenario(
        "order.paid",
        "new",
        2,
        f"{CREATE} (variables) + /conversion for the click-through id",
        order("order.paid"),
    ),
    Scenario(
        "order.shipped",
        "new",
        2,
        f"{CREATE} sets the variables the template uses, then messages/create; a contact this call created has no STOP to check",
        order_shipped,
    ),
    Scenario(
        "order.shipped",
        "existing",
        3,
        f"+ the transactional gate: {CREATE}'s answer carries no consent status for an existing contact",
        order_shipped,
    ),
    Scenario(
        "message.transactional",
        "new",
        2,
        "one call to learn the contact and its consent, then messages/create",
        transactional,
    ),
    Scenario(
        "message.transactional",
        "existing",
        2,
        "no email to set: contacts/lookup answers with sms_consent_status (the gate), messages/create sets the names",
        transactional,
    ),
)


def endpoint(entry: dict[str, Any]) -> str:
    """`POST /contacts/{id}/consent` style: ids replaced so that calls group by endpoint."""
    parts = [
        "{id}" if part.isdigit() else part for part in str(entry.get("path", "")).split("?")[0].split("/")
    ]
    return f"{entry.get('method', '')} {'/'.join(parts)}".strip()


def count_calls(stack: ProcessorStack, scenario: Scenario, index: int, run: str) -> list[str]:
    """The endpoints the scenario's event called, in order."""
    phone = f"+1202555{index:04d}"
    if scenario.contact == "existing":
        stack.run([json.dumps(plain_contact(f"{run}-pre-{index}", phone))])
    before = len(stack.nomi_requests())
    stack.run([json.dumps(scenario.build(f"{run}-{index}", phone))])
    return [endpoint(entry) for entry in stack.nomi_requests()[before:]]


def measure(*, quick: bool) -> Section:  # noqa: ARG001 - counts do not need repeats
    run = f"calls-{time.time_ns():x}"
    measures: list[Measure] = []
    details: dict[str, Any] = {"minimum": {}, "endpoints": {}}
    with processor_stack(latency_ms=0) as stack:
        dead_before = stack.dead_letter_count()
        for index, scenario in enumerate(SCENARIOS, start=5000):
            calls = count_calls(stack, scenario, index, run)
            if stack.dead_letter_count() != dead_before:
                raise DeadLetteredError(f"{scenario.name}: the processor dead-lettered the event")
            details["minimum"][scenario.name] = {"calls": scenario.minimum, "why": scenario.why}
            details["endpoints"][scenario.name] = dict(Counter(calls))
            measures.append(
                Measure(
                    name=f"NOMI calls: {scenario.name}",
                    unit="calls",
                    value=len(calls),
                    floor=scenario.minimum,
                    floor_name="fewest calls the mapping needs",
                    target=1.0,
                    note=", ".join(calls),
                )
            )
    return Section(key="nomi_calls", title=TITLE, measures=measures, details=details)
