"""Shopify: orders/create of a paid order is the paid fact; a checkout identified by its token alone
is processed."""

from __future__ import annotations

import copy

import pytest

from processor.errors import InvalidEventError
from processor.sources.shopify import Checkout, checkout_token


def _paid_order(load) -> dict:
    order = copy.deepcopy(load("shopify/orders_paid.json"))
    assert order["financial_status"] == "paid"
    return order


def test_orders_create_of_a_paid_order_is_the_paid_fact(run, load):
    [event] = run("shopify", "orders/create", _paid_order(load))
    assert (event.type, event.event_id) == ("order.paid", "shopify:order:5893247710294:paid")
    assert event.click_id == "Qx7LmP"


def test_orders_create_of_a_pending_order_is_placed(run, load):
    [event] = run("shopify", "orders/create", load("shopify/orders_create_japan.json"))
    assert event.type == "order.placed"


def test_checkout_identified_by_token_alone_is_processed(run, load):
    checkout = copy.deepcopy(load("shopify/checkouts_create.json"))
    del checkout["id"]
    [event] = run("shopify", "checkouts/create", checkout)
    assert event.event_id.startswith("shopify:checkout:9f2c5a1e7b3d4c60a8e1f0b2c3d4e5f6:")


def test_checkout_token_is_preferred_over_the_id():
    assert checkout_token(Checkout(id="1", token="tok")) == "tok"
    assert checkout_token(Checkout(id="1")) == "1"


def test_checkout_without_token_or_id_is_invalid(run, load):
    checkout = copy.deepcopy(load("shopify/checkouts_create.json"))
    del checkout["id"], checkout["token"]
    with pytest.raises(InvalidEventError, match="neither token nor id"):
        run("shopify", "checkouts/create", checkout)
