"""Counting the sandbox's state against the effects each accepted event promised.

An event is *applied* when every effect it promised is in NOMI (exactly once where it is countable),
*in the DLQ* when it is not applied and a DLQ message carries its event id, *lost* otherwise.
A *duplicate* is a countable effect present more than once: two contacts for one phone, one consent
fact recorded twice, two SMS for one shipment or reminder, two conversions for one order.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from chaos.workload import ChaosEvent


@dataclass
class Accounting:
    """The figures at one moment of a run."""

    accepted: int = 0
    applied: int = 0
    in_dlq: int = 0
    lost: int = 0
    duplicates: int = 0
    """Effects present more than once that no injected fault explains (must be 0)."""
    conversion_reposts: int = 0
    """Extra conversions that follow an ambiguous /conversion answer (NOMI applied it, then failed)."""
    dlq_messages: int = 0
    dlq_reasons: Counter[str] = field(default_factory=Counter)
    duplicate_effects: list[str] = field(default_factory=list)
    lost_events: list[str] = field(default_factory=list)
    missing_effects: Counter[str] = field(default_factory=Counter)

    def summary(self) -> str:
        return (
            f"accepted {self.accepted} · applied {self.applied} · in DLQ {self.in_dlq} "
            f"({self.dlq_messages} messages) · duplicates {self.duplicates} · lost {self.lost}"
            f" · conversion re-posts after an ambiguous answer {self.conversion_reposts}"
        )

    def details(self) -> list[str]:
        lines = []
        if self.dlq_reasons:
            lines.append("DLQ reasons: " + "; ".join(f"{n}× {r}" for r, n in self.dlq_reasons.most_common(5)))
        if self.duplicate_effects:
            kinds = Counter(effect.split(":", 1)[0] for effect in self.duplicate_effects)
            lines.append("duplicated effects by kind: " + ", ".join(f"{k} {n}" for k, n in kinds.items()))
            lines.append("duplicated effects: " + ", ".join(self.duplicate_effects[:5]))
        if self.lost_events:
            lines.append("lost events: " + ", ".join(self.lost_events[:10]))
        if self.missing_effects:
            lines.append(
                "missing effect kinds: " + ", ".join(f"{k} {n}" for k, n in self.missing_effects.items())
            )
        return lines


@dataclass
class NomiCounts:
    """What the sandbox holds, counted by the keys the workload's effects use."""

    contacts: Counter[str] = field(default_factory=Counter)
    consent_facts: Counter[str] = field(default_factory=Counter)
    webform: Counter[str] = field(default_factory=Counter)
    current: dict[str, str | None] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)
    conversions: Counter[str] = field(default_factory=Counter)
    duplicate_consents: list[str] = field(default_factory=list)

    def message_count(self, marker: str) -> int:
        return sum(1 for text in self.messages if marker in text)


def count_nomi(state: Any) -> NomiCounts:
    snapshot = state.snapshot()
    counts = NomiCounts()
    phones = {}
    for contact in snapshot["contacts"]:
        phones[contact["contact_id"]] = contact["phone"]
        counts.contacts[contact["phone"]] += 1
        counts.current[f"{contact['phone']}:sms"] = contact.get("sms_consent_status")
        counts.current[f"{contact['phone']}:email"] = contact.get("email_consent_status")
    every_fact: Counter[tuple[Any, ...]] = Counter()
    for event in snapshot["consent_log"]:
        phone = phones.get(event["contact_id"], "?")
        fact = f"{phone}:{event['channel']}:{event['status']}:{event['event_timestamp']}"
        counts.consent_facts[fact] += 1
        every_fact[(phone, event["channel"], event["status"], event["source"], event["event_timestamp"])] += 1
        if event["source"] == "webform":
            counts.webform[f"{phone}:{event['channel']}"] += 1
    counts.duplicate_consents = [":".join(map(str, k)) for k, n in every_fact.items() if n > 1]
    counts.messages = [m["message"] for m in snapshot["messages"]]
    counts.conversions = Counter(c["short_link_id"] for c in snapshot["conversions"])
    return counts


def effect_count(effect: str, counts: NomiCounts) -> tuple[int, bool]:
    """(times present, whether it must be exactly once) for one promised effect."""
    kind, _, rest = effect.partition(":")
    if kind == "contact":
        return counts.contacts[rest], True
    if kind == "consent":
        return counts.consent_facts[rest], True
    if kind == "webform":
        return counts.webform[rest], True
    if kind == "final":
        phone_channel, _, status = rest.rpartition(":")
        return (1 if counts.current.get(phone_channel) == status else 0), False
    if kind == "message":
        return counts.message_count(rest), True
    if kind == "conversion":
        return counts.conversions[rest], True
    raise ValueError(f"unknown effect {effect!r}")


def dead_event_ids(letters: list[Any]) -> tuple[set[str], Counter[str]]:
    """Event ids held in the DLQ (from the body: envelope/canonical `event_id`, EventBridge `id`)."""
    ids: set[str] = set()
    reasons: Counter[str] = Counter()
    for letter in letters:
        try:
            body = json.loads(letter.body)
        except ValueError:
            body = {}
        for key in ("event_id", "id"):
            if isinstance(body, dict) and isinstance(body.get(key), str):
                ids.add(body[key])
                break
        attribute_id = letter.attribute("event_id")
        if attribute_id:
            ids.add(attribute_id)
        reason = letter.attribute("error_type") or "retries exhausted (redrive policy)"
        reasons[reason] += 1
    return ids, reasons


AMBIGUOUS_KINDS = ("500", "503", "timeout", "drop")


def ambiguous_conversions(requests: list[dict[str, Any]], *, applied: bool = True) -> Counter[str]:
    """Per click id, the /conversion requests NOMI applied (`applied=False`: did not apply) although
    the client saw a failure that leaves the outcome unknown.

    /conversion has no idempotency key and nothing to look a conversion up with: after such an
    answer the gateway cannot tell whether it counted. At least once posts again (maybe a second
    count); at most once never does (maybe none).
    """
    found: Counter[str] = Counter()
    for request in requests:
        fault = request.get("fault") or {}
        if (
            request.get("path") == "/conversion"
            and bool(request.get("effect_applied")) == applied
            and fault.get("kind") in AMBIGUOUS_KINDS
        ):
            found[str((request.get("form") or {}).get("id"))] += 1
    return found


@dataclass
class PolicyFigures:
    """Conversions of one phase of paid orders under one `conversion_delivery` policy."""

    policy: str
    orders: int = 0
    counted_once: int = 0
    repeated: int = 0
    """Conversions beyond the first, summed over orders."""
    uncounted: int = 0
    """Orders with no conversion in NOMI."""
    unexplained: list[str] = field(default_factory=list)
    """Orders whose repeat or absence no injected ambiguous answer explains (must be none)."""

    @property
    def ok(self) -> bool:
        # At least once never loses a sale; at most once never counts one twice. Either may err the
        # other way, but only after an ambiguous answer for that very order.
        allowed = self.uncounted == 0 if self.policy == "at_least_once" else self.repeated == 0
        return allowed and not self.unexplained

    def summary(self) -> str:
        return (
            f"{self.policy:<14} {self.orders} paid orders · counted once {self.counted_once} · "
            f"repeated {self.repeated} · uncounted {self.uncounted}"
            + (f" · UNEXPLAINED {', '.join(self.unexplained[:5])}" if self.unexplained else "")
        )


def policy_figures(policy: str, click_ids: list[str], state: Any) -> PolicyFigures:
    """Count NOMI's conversions for `click_ids` (one paid order each) against the injected faults."""
    counts = count_nomi(state).conversions
    applied = ambiguous_conversions(state.request_log())
    unapplied = ambiguous_conversions(state.request_log(), applied=False)
    figures = PolicyFigures(policy=policy, orders=len(click_ids))
    for click in click_ids:
        present = counts[click]
        if present == 1:
            figures.counted_once += 1
        elif present > 1:
            figures.repeated += present - 1
            if present - 1 > applied[click]:
                figures.unexplained.append(f"{click}×{present}")
        else:
            figures.uncounted += 1
            if not unapplied[click] and not applied[click]:
                figures.unexplained.append(f"{click}×0")
    return figures


def account(events: list[ChaosEvent], accepted: set[str], state: Any, letters: list[Any]) -> Accounting:
    counts = count_nomi(state)
    ambiguous = ambiguous_conversions(state.request_log())
    dead, reasons = dead_event_ids(letters)
    figures = Accounting(accepted=len(accepted), dlq_messages=len(letters), dlq_reasons=reasons)
    duplicated: set[str] = set()
    # An effect two events share (the newest consent of a person) waits on whichever is dead-lettered.
    waiting = {e for ev in events if ev.event_id in dead for e in ev.effects}
    for event in events:
        if event.key not in accepted:
            continue
        missing = []
        for effect in event.effects:
            present, exactly_once = effect_count(effect, counts)
            if present == 0:
                missing.append(effect)
            elif exactly_once and present > 1:
                duplicated.add(effect)
        if not missing:
            figures.applied += 1
        elif event.event_id in dead or any(effect in waiting for effect in missing):
            figures.in_dlq += 1
        else:
            figures.lost += 1
            figures.lost_events.append(f"{event.key} (missing {', '.join(missing)})")
            for effect in missing:
                figures.missing_effects[effect.split(":", 1)[0]] += 1
    duplicated.update(f"consent-log:{fact}" for fact in counts.duplicate_consents)
    for effect in list(duplicated):
        kind, _, click = effect.partition(":")
        if kind == "conversion" and counts.conversions[click] - 1 <= ambiguous[click]:
            duplicated.discard(effect)
            figures.conversion_reposts += counts.conversions[click] - 1
    figures.duplicate_effects = sorted(duplicated)
    figures.duplicates = len(duplicated)
    return figures
