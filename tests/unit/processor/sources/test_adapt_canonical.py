"""Bare canonical events (and the examples in events/canonical) through the canonical adapter."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway_events import Order
from processor.errors import InvalidEventError, UnsupportedEventError
from processor.settings import CANONICAL_TYPES, MappingSettings

EXAMPLES = Path(__file__).parents[4] / "events" / "canonical"
EXAMPLE_FILES = sorted(EXAMPLES.glob("*.json"))


def test_examples_cover_every_canonical_type():
    types = {json.loads(path.read_text(encoding="utf-8"))["type"] for path in EXAMPLE_FILES}
    assert types == CANONICAL_TYPES


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
def test_canonical_example_passes_through_unchanged(run, path):
    payload = json.loads(path.read_text(encoding="utf-8"))
    [event] = run("canonical", payload["type"], payload)
    assert event.type == payload["type"]
    assert event.event_id == payload["event_id"]


def test_canonical_order_amount_stays_an_exact_decimal(run):
    payload = json.loads((EXAMPLES / "order.paid.json").read_text(encoding="utf-8"))
    [event] = run("canonical", "order.paid", payload)
    assert isinstance(event, Order)
    assert str(event.amount) == "15000"


def test_canonical_tags_from_settings_are_added_to_contact_events(run):
    payload = json.loads((EXAMPLES / "contact.upsert.json").read_text(encoding="utf-8"))
    settings = MappingSettings(tags={"canonical": ["from-queue", "vip"]})
    [event] = run("canonical", "contact.upsert", payload, settings=settings)
    assert event.tags == ["crm", "vip", "from-queue"]


def test_canonical_tags_beyond_the_limit_are_invalid(run):
    payload = json.loads((EXAMPLES / "contact.upsert.json").read_text(encoding="utf-8"))
    payload["tags"] = [f"t{i}" for i in range(50)]
    settings = MappingSettings(tags={"canonical": ["one-too-many"]})
    with pytest.raises(InvalidEventError, match="tags"):
        run("canonical", "contact.upsert", payload, settings=settings)


def test_canonical_event_with_naive_time_is_invalid_with_field_named(run):
    payload = json.loads((EXAMPLES / "order.shipped.json").read_text(encoding="utf-8"))
    payload["occurred_at"] = "2026-11-23T18:02:00"
    with pytest.raises(InvalidEventError, match="occurred_at"):
        run("canonical", "order.shipped", payload)


def test_canonical_both_channel_subscribe_is_invalid(run):
    payload = json.loads((EXAMPLES / "consent.change.json").read_text(encoding="utf-8"))
    payload["channel"] = "both"
    payload["evidence"]["status"] = "subscribed"
    with pytest.raises(InvalidEventError, match="both"):
        run("canonical", "consent.change", payload)


def test_canonical_unknown_type_is_unsupported(run):
    with pytest.raises(UnsupportedEventError, match=r"refund\.issued"):
        run("canonical", "refund.issued", {"type": "refund.issued", "event_id": "x"})


def test_canonical_type_switched_off_in_settings_yields_nothing(run):
    payload = json.loads((EXAMPLES / "message.transactional.json").read_text(encoding="utf-8"))
    settings = MappingSettings(enabled_topics={"canonical": ["order.shipped"]})
    assert run("canonical", "message.transactional", payload, settings=settings) == []
