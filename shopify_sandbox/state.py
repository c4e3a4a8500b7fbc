"""What the local Shopify holds: customers, orders, bulk operations and the cost bucket, thread-safe.

Objects are stored in GraphQL shape (camelCase, gids, upper-case enums) so that queries resolve over
them directly. `seed()` builds N customers and M orders from a seed: the same seed gives the same shop.
"""

from __future__ import annotations

import json
import random
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

_FIRST = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Ken", "Margaret", "Dennis", "Frances", "Linus")
_LAST = ("Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Thompson", "Hamilton", "Ritchie", "Allen")
BASE_TIME = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
ORDER_ID_BASE = 5931082317000
CUSTOMER_ID_BASE = 7001000000


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def customer_node(index: int) -> dict[str, Any]:
    """Customer number `index`: a spread of consent states, sources and missing phones.

    index % 10: 0–4 SMS subscribed (0–1 collected by Shopify checkout, 2–4 elsewhere), 5 pending,
    6 unsubscribed, 7 not subscribed, 8 subscribed without a consent time, 9 no phone. Email is
    subscribed for two customers in three.
    """
    kind = index % 10
    consent_time = BASE_TIME + timedelta(minutes=index)
    has_phone = kind != 9
    sms_state = {5: "PENDING", 6: "UNSUBSCRIBED", 7: "NOT_SUBSCRIBED"}.get(kind, "SUBSCRIBED")
    first, last = _FIRST[index % len(_FIRST)], _LAST[index % len(_LAST)]
    return {
        "__typename": "Customer",
        "id": f"gid://shopify/Customer/{CUSTOMER_ID_BASE + index}",
        "email": f"customer{index}@example.com",
        "phone": f"+1212{5550000 + index:07d}" if has_phone else None,
        "firstName": first,
        "lastName": last,
        "createdAt": _iso(BASE_TIME - timedelta(days=30)),
        "updatedAt": _iso(consent_time),
        "smsMarketingConsent": (
            {
                "marketingState": sms_state,
                "marketingOptInLevel": "SINGLE_OPT_IN" if kind != 5 else "CONFIRMED_OPT_IN",
                "consentUpdatedAt": None if kind == 8 else _iso(consent_time),
                "consentCollectedFrom": "SHOPIFY" if kind in (0, 1) else "OTHER",
            }
            if has_phone
            else None
        ),
        "emailMarketingConsent": {
            "marketingState": "SUBSCRIBED" if index % 3 else "NOT_SUBSCRIBED",
            "marketingOptInLevel": "SINGLE_OPT_IN",
            "consentUpdatedAt": _iso(consent_time) if index % 3 else None,
        },
        "defaultAddress": {
            "firstName": first,
            "lastName": last,
            "phone": None,
            "provinceCode": "NY",
            "countryCodeV2": "US",
        },
    }


def order_node(index: int, customer: dict[str, Any] | None) -> dict[str, Any]:
    """Order number `index` of `customer`: paid, with a click id, and a shipped fulfillment every other."""
    placed = BASE_TIME + timedelta(hours=index)
    order_id = ORDER_ID_BASE + index
    total = f"{20 + index % 80}.{index % 100:02d}"
    money = {"shopMoney": {"amount": total, "currencyCode": "USD"}}
    fulfillments = []
    if index % 2 == 0:
        fulfillments.append(
            {
                "id": f"gid://shopify/Fulfillment/{4100000000 + index}",
                "name": f"#{1000 + index}.1",
                "status": "SUCCESS",
                "createdAt": _iso(placed + timedelta(days=1)),
                "updatedAt": _iso(placed + timedelta(days=1)),
                "trackingInfo": [
                    {
                        "company": "UPS",
                        "number": f"1Z999AA1{index:010d}",
                        "url": f"https://www.ups.com/track?tracknum=1Z999AA1{index:010d}",
                    }
                ],
            }
        )
    return {
        "__typename": "Order",
        "id": f"gid://shopify/Order/{order_id}",
        "name": f"#{1000 + index}",
        "email": customer["email"] if customer else f"buyer{index}@example.com",
        "phone": None,
        "createdAt": _iso(placed),
        "updatedAt": _iso(placed + timedelta(minutes=2)),
        "processedAt": _iso(placed),
        "cancelledAt": None,
        "test": False,
        "displayFinancialStatus": "PAID",
        "displayFulfillmentStatus": "FULFILLED" if fulfillments else "UNFULFILLED",
        "customerAcceptsMarketing": index % 2 == 0,
        "clientIp": "203.0.113.7",
        "currencyCode": "USD",
        "presentmentCurrencyCode": "USD",
        "totalPriceSet": money,
        "currentTotalPriceSet": money,
        "customAttributes": [{"key": "gift_wrap", "value": "no"}],
        "customerJourneySummary": {
            "firstVisit": {
                "landingPage": f"https://shop.example.com/?sub=Clk{index:05d}",
                "referrerUrl": None,
            },
            "lastVisit": {
                "landingPage": f"https://shop.example.com/products/tee?sub=Clk{index:05d}",
                "referrerUrl": None,
            },
        },
        "customer": customer,
        "shippingAddress": {
            "firstName": customer["firstName"] if customer else "Ada",
            "lastName": customer["lastName"] if customer else "Lovelace",
            "phone": customer["phone"] if customer else "+12125550100",
            "provinceCode": "NY",
            "countryCodeV2": "US",
        },
        "billingAddress": None,
        "fulfillments": fulfillments,
    }


@dataclass
class Bucket:
    """Shopify's leaky bucket of query cost points for this app and shop."""

    maximum: float = 2000.0
    restore_rate: float = 100.0
    available: float = 2000.0
    updated: float = field(default_factory=time.monotonic)

    def refill(self) -> None:
        now = time.monotonic()
        self.available = min(self.maximum, self.available + (now - self.updated) * self.restore_rate)
        self.updated = now

    def status(self) -> dict[str, float]:
        return {
            "maximumAvailable": self.maximum,
            "currentlyAvailable": round(self.available, 1),
            "restoreRate": self.restore_rate,
        }


@dataclass
class BulkOperation:
    id: str
    query: str
    status: str = "CREATED"
    polls: int = 0
    created_at: str = field(default_factory=lambda: _iso(datetime.now(UTC)))
    completed_at: str | None = None
    lines: list[str] = field(default_factory=list)
    root_object_count: int = 0
    error_code: str | None = None

    @property
    def file_name(self) -> str:
        return f"bulk-{self.id.rsplit('/', 1)[-1]}.jsonl"

    @property
    def body(self) -> bytes:
        return ("".join(line + "\n" for line in self.lines)).encode()

    def node(self, base_url: str) -> dict[str, Any]:
        done = self.status == "COMPLETED"
        return {
            "__typename": "BulkOperation",
            "id": self.id,
            "status": self.status,
            "errorCode": self.error_code,
            "createdAt": self.created_at,
            "completedAt": self.completed_at,
            "objectCount": str(len(self.lines) if done else min(len(self.lines), self.polls * 1000)),
            "rootObjectCount": str(self.root_object_count if done else 0),
            "fileSize": str(len(self.body)) if done else None,
            "url": f"{base_url}/_files/{self.file_name}" if done and self.lines else None,
            "partialDataUrl": None,
            "query": self.query,
            "type": "QUERY",
        }


class ShopState:
    """Customers and orders by gid, bulk operations, the bucket; every access under one lock."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.customers: dict[str, dict[str, Any]] = {}
        self.orders: dict[str, dict[str, Any]] = {}
        self.bulk_operations: dict[str, BulkOperation] = {}
        self.bucket = Bucket()
        self.requests: list[dict[str, Any]] = []
        self._next_bulk = 1

    def seed(self, *, customers: int = 0, orders: int = 0, seed: int = 0) -> None:
        """Replace the shop's data with `customers` customers and `orders` orders (deterministic)."""
        rng = random.Random(seed)
        with self.lock:
            self.customers = {}
            for index in range(customers):
                node = customer_node(index)
                self.customers[node["id"]] = node
            people = list(self.customers.values())
            self.orders = {}
            for index in range(orders):
                node = order_node(index, rng.choice(people) if people else None)
                self.orders[node["id"]] = node

    def add_order(self, node: dict[str, Any]) -> None:
        with self.lock:
            self.orders[str(node["id"])] = {"__typename": "Order", **node}

    def new_bulk_operation(self, query: str) -> BulkOperation:
        with self.lock:
            operation = BulkOperation(id=f"gid://shopify/BulkOperation/{self._next_bulk}", query=query)
            self._next_bulk += 1
            self.bulk_operations[operation.id] = operation
            return operation

    def running_bulk_operation(self) -> BulkOperation | None:
        with self.lock:
            return next(
                (b for b in self.bulk_operations.values() if b.status in ("CREATED", "RUNNING")), None
            )

    def current_bulk_operation(self) -> BulkOperation | None:
        with self.lock:
            return list(self.bulk_operations.values())[-1] if self.bulk_operations else None

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "customers": len(self.customers),
                "orders": len(self.orders),
                "bulk_operations": [
                    {"id": b.id, "status": b.status, "lines": len(b.lines)}
                    for b in self.bulk_operations.values()
                ],
                "bucket": self.bucket.status(),
                "requests": len(self.requests),
            }

    def to_json(self) -> str:
        return json.dumps(self.snapshot())
