"""Id-only Shopify order webhooks (a payload over EventBridge's size limit): completed through the
Admin API when it is configured, dead-lettered with how to configure it otherwise."""

from __future__ import annotations

from decimal import Decimal

import pytest
from adapter_support import make_envelope

from gateway_events import Order
from processor.errors import InvalidEventError
from processor.settings import MappingSettings
from processor.shopify_admin import orders
from processor.shopify_admin.errors import ShopifyNotConfiguredError, ShopifyNotFoundError
from processor.shopify_admin.shapes import order_webhook
from processor.sources import adapt
from shopify_sandbox.state import customer_node, order_node

SHOP = "acme.myshopify.com"
HEADERS = {"x-shopify-shop-domain": SHOP, "x-shopify-api-version": "2025-10"}


class FakeAdmin:
    """Answers the order query from a dict of GraphQL Order nodes, recording the calls."""

    shop_domain = SHOP
    api_version = "2026-07"

    def __init__(self, *nodes):
        self.nodes = {n["id"]: n for n in nodes}
        self.calls: list[tuple[str, str | None]] = []

    def graphql(self, query, variables=None, *, api_version=None):
        self.calls.append((variables["id"], api_version))
        return {"order": self.nodes.get(variables["id"])}


@pytest.fixture
def admin(monkeypatch):
    node = order_node(3, customer_node(0))
    fake = FakeAdmin(node)
    fetcher = orders.OrderFetcher(fake)
    monkeypatch.setattr(orders, "order_fetcher", lambda: fetcher)
    return fake, node


def _id_only(topic: str, order_id: str, headers=HEADERS):
    envelope = make_envelope("shopify", topic, {"id": int(order_id)}, headers=headers)
    return adapt(envelope, envelope.payload, MappingSettings())


def _order_id(node) -> str:
    return node["id"].rsplit("/", 1)[1]


def test_id_only_order_paid_is_completed_as_the_full_webhook(admin):
    _, node = admin
    [event] = _id_only("orders/paid", _order_id(node))
    full = make_envelope("shopify", "orders/paid", order_webhook(node), headers=HEADERS)
    assert event == adapt(full, full.payload, MappingSettings())[0]
    assert isinstance(event, Order)
    assert (event.amount, event.currency, event.click_id) == (Decimal("23.03"), "USD", "Clk00003")


def test_id_only_order_is_fetched_in_the_webhooks_api_version(admin):
    fake, node = admin
    _id_only("orders/create", _order_id(node))
    assert fake.calls == [(node["id"], "2025-10")]


def test_id_only_order_is_fetched_once_for_ordering_and_processing(admin):
    fake, node = admin
    _id_only("orders/paid", _order_id(node))
    _id_only("orders/paid", _order_id(node))
    assert len(fake.calls) == 1


def test_id_only_order_that_no_longer_exists_is_invalid(admin):
    with pytest.raises(ShopifyNotFoundError, match="not found"):
        _id_only("orders/paid", "1")


def test_id_only_order_of_another_shop_is_not_configured(admin):
    with pytest.raises(ShopifyNotConfiguredError, match=r"other\.myshopify\.com"):
        _id_only("orders/paid", "1", headers={"x-shopify-shop-domain": "other.myshopify.com"})


def test_id_only_fulfillment_is_invalid_because_only_orders_are_fetched(admin):
    with pytest.raises(InvalidEventError, match="fetches only orders"):
        _id_only("fulfillments/create", "1")


def test_id_only_order_without_a_token_names_the_secret_to_configure(monkeypatch):
    monkeypatch.setattr(orders, "order_fetcher", lambda: None)
    with pytest.raises(ShopifyNotConfiguredError, match="ShopifyAdminTokenSecret") as caught:
        _id_only("orders/paid", "5931082317003")
    assert isinstance(caught.value, InvalidEventError)  # permanent: dead-lettered with the reason


def test_order_fetcher_is_none_without_shop_domain_and_secret(monkeypatch):
    monkeypatch.delenv("SHOPIFY_SHOP_DOMAIN", raising=False)
    monkeypatch.setenv("SHOPIFY_ADMIN_TOKEN_SECRET_NAME", "arn:secret")
    orders.order_fetcher.cache_clear()
    try:
        assert orders.order_fetcher() is None
    finally:
        orders.order_fetcher.cache_clear()
