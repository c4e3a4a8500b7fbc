"""Shopify orders through the processor: one conversion per order as soon as any topic says it is
paid, and a junk phone never loses it."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from processor_fakes import FakeNomi, as_record, envelope_body, make_worker

from processor.checkpoints import InMemoryCheckpoints
from processor.settings import MappingSettings

FIXTURES = Path(__file__).parent / "sources" / "fixtures"


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def _paid_order(load) -> dict:
    return copy.deepcopy(load("shopify/orders_paid.json"))


def test_orders_create_and_orders_paid_record_one_conversion_whichever_comes_first():
    for topics in (("orders/create", "orders/paid"), ("orders/paid", "orders/create")):
        nomi = FakeNomi()
        worker = make_worker(nomi, checkpoints=InMemoryCheckpoints())
        for index, topic in enumerate(topics):
            body = envelope_body("shopify", topic, _paid_order(load), event_id=f"d-{index}")
            worker.handle(as_record(body, message_id=f"m-{index}"))
        assert [c["id"] for c in nomi.conversions] == ["Qx7LmP"]


def test_orders_create_alone_records_the_conversion_of_a_paid_order():
    nomi = FakeNomi()
    make_worker(nomi).handle(as_record(envelope_body("shopify", "orders/create", _paid_order(load))))
    assert [c["id"] for c in nomi.conversions] == ["Qx7LmP"]


def test_orders_paid_with_junk_phone_keeps_the_conversion():
    order = _paid_order(load)
    order["phone"] = order["customer"]["phone"] = "555-555-SHIP"
    order["shipping_address"]["phone"] = order["billing_address"]["phone"] = None
    nomi = FakeNomi()
    result = make_worker(nomi).handle(as_record(envelope_body("shopify", "orders/paid", order)))
    assert [c["id"] for c in nomi.conversions] == ["Qx7LmP"]
    assert nomi.contacts == {}
    assert "invalid_phone" in [s["reason"] for s in result["events"][0]["skips"]]


def test_conversion_in_another_currency_is_skipped_with_a_reason_and_a_metric():
    order = _paid_order(load)
    order["currency"] = "JPY"  # the shop's currency, but NOMI revenue is recorded in USD
    nomi = FakeNomi()
    worker = make_worker(nomi, settings=MappingSettings(revenue_currency="USD"))
    result = worker.handle(as_record(envelope_body("shopify", "orders/paid", order)))
    assert nomi.conversions == []
    assert "currency_mismatch" in [s["reason"] for s in result["events"][0]["skips"]]
    assert worker.stats.skips["currency_mismatch"] == 1
