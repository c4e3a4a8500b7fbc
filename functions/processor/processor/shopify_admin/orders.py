"""Completing an id-only Shopify order webhook: the order, fetched through the GraphQL Admin API, in
the shape of the webhook Shopify would have sent.

Over EventBridge, Shopify replaces a payload over the size limit with `{"id": …}` (FACTS.md,
changelog 2026-11-17). With an Admin API token configured the order is fetched in the API version the
webhook names and handed to the adapter as if it had come whole; without one the event is
dead-lettered with a reason that says how to configure it (and so no conversion of 0 is recorded).
The order is its state when fetched, which may be newer than the webhook's moment.
"""

from __future__ import annotations

import functools
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from gateway_events import Envelope
from processor.deadline import remaining_seconds
from processor.errors import InvalidEventError
from processor.shopify_admin.client import DEFAULT_API_VERSION, AdminClient
from processor.shopify_admin.errors import ShopifyNotConfiguredError, ShopifyNotFoundError
from processor.shopify_admin.shapes import ORDER_QUERY, order_gid, order_webhook

# Topics whose resource is an order (the adapter's orders/* topics).
ORDER_TOPICS = frozenset({"orders/create", "orders/paid", "orders/fulfilled"})
SECRET_MAX_AGE_SECONDS = 300
CACHE_SECONDS = 30.0
CACHE_SIZE = 256
_API_VERSION = re.compile(r"^(\d{4}-\d{2}|unstable)$")

HOW_TO_CONFIGURE = (
    "set the ShopifyShopDomain parameter and put an Admin API access token with the read_orders scope "
    "in the ShopifyAdminTokenSecret secret (docs/shopify.md#admin-api-access), then redrive this event"
)


def is_id_only(payload: Any) -> bool:
    """Whether a webhook body is Shopify's stand-in for a payload over the size limit: `{"id": …}`."""
    return isinstance(payload, dict) and set(payload) == {"id"}


class OrderFetcher:
    """Fetches orders of one shop; keeps each for a few seconds, because the batch's ordering pass
    (contact_key) and the processing of the same record would otherwise fetch it twice."""

    def __init__(
        self,
        client: AdminClient,
        *,
        cache_seconds: float = CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self._cache: OrderedDict[tuple[str, str], tuple[float, dict[str, Any]]] = OrderedDict()
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._lock = threading.Lock()

    @property
    def shop_domain(self) -> str:
        return self.client.shop_domain

    def order_webhook(self, order_id: str, api_version: str) -> dict[str, Any]:
        key = (order_id, api_version)
        now = self._clock()
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None and now - hit[0] < self._cache_seconds:
                return hit[1]
        data = self.client.graphql(ORDER_QUERY, {"id": order_gid(order_id)}, api_version=api_version)
        node = data.get("order")
        if not isinstance(node, dict):
            raise ShopifyNotFoundError(f"Shopify order {order_id} was not found in {self.shop_domain}")
        webhook = order_webhook(node)
        with self._lock:
            self._cache[key] = (now, webhook)
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return webhook


# --- the deployment's fetcher, from the environment ---------------------------------------------


def _token_from_secret(secret_name: str) -> Callable[[], str]:
    def read() -> str:
        from aws_lambda_powertools.utilities import parameters

        return str(parameters.get_secret(secret_name, max_age=SECRET_MAX_AGE_SECONDS)).strip()

    return read


@functools.cache
def order_fetcher() -> OrderFetcher | None:
    """The fetcher the environment configures (SHOPIFY_SHOP_DOMAIN + SHOPIFY_ADMIN_TOKEN_SECRET_NAME), or
    None when no Admin API access is configured. Cached per process; tests call `cache_clear()`."""
    shop = (os.getenv("SHOPIFY_SHOP_DOMAIN") or "").strip()
    secret = (os.getenv("SHOPIFY_ADMIN_TOKEN_SECRET_NAME") or "").strip()
    if not shop or not secret:
        return None
    client = AdminClient(
        shop_domain=shop,
        access_token=_token_from_secret(secret),
        api_version=os.getenv("SHOPIFY_API_VERSION") or DEFAULT_API_VERSION,
        base_url=os.getenv("SHOPIFY_ADMIN_API_URL") or None,
        remaining_seconds=remaining_seconds,
    )
    return OrderFetcher(client)


def complete_id_only(envelope: Envelope, payload: dict[str, Any]) -> dict[str, Any]:
    """The full webhook body for an id-only delivery, fetched from the Admin API."""
    what = f"Shopify {envelope.topic} body holds only the resource id (payload over the size limit)"
    if envelope.topic not in ORDER_TOPICS:
        raise InvalidEventError(f"{what}; the gateway fetches only orders through the Admin API")
    fetcher = order_fetcher()
    if fetcher is None:
        raise ShopifyNotConfiguredError(
            f"{what} and no Admin API access token is configured: {HOW_TO_CONFIGURE}"
        )
    shop = (envelope.headers.get("x-shopify-shop-domain") or "").strip().lower()
    if shop and shop != fetcher.shop_domain:
        raise ShopifyNotConfiguredError(
            f"{what}; the configured Admin API token is for {fetcher.shop_domain}, not {shop}"
        )
    version = (envelope.headers.get("x-shopify-api-version") or "").strip()
    if not _API_VERSION.match(version):
        version = fetcher.client.api_version
    return fetcher.order_webhook(str(payload["id"]).strip(), version)
