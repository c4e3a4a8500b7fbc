"""Who gets an order's shipped SMS: the buyer remembered from orders/*, whichever shipping topic comes
first; the parcel's destination (maybe a gift recipient) only when no buyer phone is known."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from processor_fakes import FakeNomi, as_record, envelope_body, make_worker

from processor.checkpoints import InMemoryCheckpoints
from processor.settings import MappingSettings

FIXTURES = Path(__file__).parent / "sources" / "fixtures" / "shopify"
BUYER = "+13125550142"
GIFT = "+13125550199"


def _load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def _gift_fulfillment() -> dict:
    fulfillment = _load("fulfillments_update_tracking.json")
    fulfillment["destination"] = {
        **fulfillment["destination"],
        "first_name": "Sam",
        "last_name": "Friend",
        "phone": "(312) 555-0199",
    }
    return fulfillment


def _orders_fulfilled() -> dict:
    order = copy.deepcopy(_load("orders_paid.json"))
    order["fulfillments"] = [_gift_fulfillment()]
    return order


def _deliver(worker, topic: str, payload: dict, delivery: str) -> None:
    worker.handle(as_record(envelope_body("shopify", topic, payload, event_id=delivery), message_id=delivery))


@pytest.mark.parametrize("first", ["fulfillments/update", "orders/fulfilled"])
def test_shipped_sms_goes_to_the_remembered_buyer_whichever_topic_comes_first(first):
    nomi = FakeNomi()
    worker = make_worker(nomi, checkpoints=InMemoryCheckpoints())
    _deliver(worker, "orders/paid", _load("orders_paid.json"), "d-paid")
    shipping = {"fulfillments/update": _gift_fulfillment(), "orders/fulfilled": _orders_fulfilled()}
    for topic in sorted(shipping, key=lambda t: t != first):
        _deliver(worker, topic, shipping[topic], f"d-{topic}")
    assert [m["phone"] for m in nomi.messages] == [BUYER]
    assert nomi.messages[0]["message"].startswith("Hi Maya,")
    assert GIFT not in nomi.contacts


def test_shipped_sms_without_a_known_buyer_goes_to_the_destination_without_buyer_email():
    nomi = FakeNomi()
    _deliver(make_worker(nomi), "fulfillments/update", _gift_fulfillment(), "d-1")
    assert [m["phone"] for m in nomi.messages] == [GIFT]
    assert nomi.messages[0]["message"].startswith("Hi Sam,")
    assert "email" not in nomi.contacts[GIFT]
    assert "Maya" not in json.dumps(nomi.contacts[GIFT])


def test_buyer_is_not_remembered_when_no_fulfillment_topic_is_enabled():
    store = InMemoryCheckpoints()
    settings = MappingSettings(enabled_topics={"shopify": ["orders/paid", "orders/create"]})
    _deliver(
        make_worker(FakeNomi(), checkpoints=store, settings=settings),
        "orders/paid",
        _load("orders_paid.json"),
        "d",
    )
    assert store.get("order:5893247710294:buyer") is None


def test_remembered_buyer_is_forgotten_with_the_buyers_phone():
    store = InMemoryCheckpoints()
    _deliver(make_worker(FakeNomi(), checkpoints=store), "orders/paid", _load("orders_paid.json"), "d")
    assert store.get("order:5893247710294:buyer").result["phone"] == BUYER
    store.forget((MappingSettings().pseudonym("phone", BUYER),))
    assert store.get("order:5893247710294:buyer") is None


def test_fulfillment_of_a_test_order_sends_no_sms_by_default():
    order = _load("orders_paid.json")
    order["test"] = True
    nomi = FakeNomi()
    worker = make_worker(nomi, checkpoints=InMemoryCheckpoints())
    _deliver(worker, "orders/paid", order, "d-paid")
    _deliver(worker, "fulfillments/update", _gift_fulfillment(), "d-ship")
    assert nomi.messages == []
    assert nomi.contacts == {}


def test_fulfillment_of_a_test_order_without_a_phone_still_learns_it_is_a_test():
    order = _load("orders_paid.json")
    order["test"] = True
    order["phone"] = order["customer"]["phone"] = None
    for address in ("shipping_address", "billing_address"):
        order[address]["phone"] = None
    nomi = FakeNomi()
    worker = make_worker(nomi, checkpoints=InMemoryCheckpoints())
    _deliver(worker, "orders/paid", order, "d-paid")
    _deliver(worker, "fulfillments/update", _gift_fulfillment(), "d-ship")
    assert nomi.messages == []
