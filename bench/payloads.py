"""Benchmark inputs: Shopify orders of a chosen size, a Stripe Checkout event, their signatures, the API
Gateway HTTP API (v2) events that carry them, and canonical `order.shipped` events for the processor."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

SHOP_DOMAIN = "bench-shop.myshopify.com"
CLICK_ID = "BenchClk1"  # the short-link id in the orders' landing URL; seed it in the sandbox


def _line_item(index: int) -> dict[str, Any]:
    return {
        "id": 866550311766439000 + index,
        "admin_graphql_api_id": f"gid://shopify/LineItem/{866550311766439000 + index}",
        "product_id": 632910392 + index,
        "variant_id": 808950810 + index,
        "title": f"Organic cotton T-shirt, model {index}",
        "variant_title": "Large / Forest green",
        "sku": f"TEE-ORG-L-GRN-{index:04d}",
        "vendor": "Bench Apparel",
        "quantity": 1 + index % 3,
        "price": "24.00",
        "total_discount": "0.00",
        "taxable": True,
        "requires_shipping": True,
        "fulfillment_status": None,
        "properties": [{"name": "Gift wrap", "value": "no"}],
        "tax_lines": [{"title": "State tax", "price": "1.92", "rate": 0.08}],
    }


def shopify_order(target_bytes: int, *, order_id: int = 5512345678901) -> bytes:
    """An orders/paid payload of at least `target_bytes` (line items are added until it is that big)."""
    order: dict[str, Any] = {
        "id": order_id,
        "name": "#1042",
        "email": "ada@example.com",
        "phone": "+12025550123",
        "created_at": "2026-11-20T10:15:00-05:00",
        "currency": "USD",
        "financial_status": "paid",
        "total_price": "24.00",
        "landing_site": f"/?sub={CLICK_ID}",
        "customer": {
            "id": 706405506930370000,
            "email": "ada@example.com",
            "phone": "+12025550123",
            "first_name": "Ada",
            "last_name": "Lovelace",
        },
        "billing_address": {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "province_code": "CA",
            "country_code": "US",
        },
        "line_items": [],
    }
    while len(json.dumps(order)) < target_bytes:
        order["line_items"].append(_line_item(len(order["line_items"])))
    return json.dumps(order).encode()


def stripe_checkout_event() -> bytes:
    """A checkout.session.completed event as Stripe sends it (about 3 KB)."""
    event = {
        "id": f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "api_version": "2025-09-30.clover",
        "created": int(time.time()),
        # Live traffic: a test-mode event is skipped before any NOMI call (process_test_events).
        "livemode": True,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": "checkout.session.completed",
        "data": {
            "object": {
                "id": f"cs_test_{uuid.uuid4().hex}",
                "object": "checkout.session",
                "amount_subtotal": 2400,
                "amount_total": 2400,
                "currency": "usd",
                "client_reference_id": CLICK_ID,
                "consent": {"promotions": "opt_in", "terms_of_service": None},
                "consent_collection": {"promotions": "auto", "terms_of_service": "none"},
                "created": int(time.time()) - 60,
                "customer": "cus_bench0001",
                "customer_creation": "always",
                "customer_details": {
                    "address": {
                        "city": "San Francisco",
                        "country": "US",
                        "line1": "1 Market St",
                        "line2": None,
                        "postal_code": "94105",
                        "state": "CA",
                    },
                    "email": "ada@example.com",
                    "name": "Ada Lovelace",
                    "phone": "+12025550123",
                    "tax_exempt": "none",
                    "tax_ids": [],
                },
                "livemode": True,
                "metadata": {"campaign": "autumn"},
                "mode": "payment",
                "payment_intent": "pi_bench0001",
                "payment_method_types": ["card"],
                "payment_status": "paid",
                "phone_number_collection": {"enabled": True},
                "status": "complete",
                "success_url": "https://shop.example.com/thanks",
                "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
                "url": None,
            }
        },
    }
    return json.dumps(event).encode()


def shopify_hmac(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def stripe_signature(secret: str, body: bytes, *, timestamp: int | None = None) -> str:
    stamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{stamp}.".encode() + body
    return f"t={stamp},v1={hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()}"


def http_api_event(path: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    """An API Gateway HTTP API payload v2.0 event (header names lower-cased, as API Gateway sends them)."""
    now = datetime.now(UTC)
    return {
        "version": "2.0",
        "routeKey": f"POST {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {
            "content-type": "application/json",
            "content-length": str(len(body)),
            "host": "abc123.execute-api.us-east-1.amazonaws.com",
            "user-agent": "bench/1.0",
            "x-forwarded-for": "203.0.113.9",
            **{name.lower(): value for name, value in headers.items()},
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abc123",
            "http": {
                "method": "POST",
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.9",
                "userAgent": "bench/1.0",
            },
            "requestId": uuid.uuid4().hex,
            "routeKey": f"POST {path}",
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "body": body.decode(),
        "isBase64Encoded": False,
    }


def shopify_request(secret: str, body: bytes, *, topic: str = "orders/paid") -> dict[str, Any]:
    return http_api_event(
        "/webhooks/shopify",
        body,
        {
            "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": shopify_hmac(secret, body),
            "X-Shopify-Shop-Domain": SHOP_DOMAIN,
            "X-Shopify-API-Version": "2026-07",
            "X-Shopify-Webhook-Id": str(uuid.uuid4()),
            "X-Shopify-Event-Id": str(uuid.uuid4()),
            "X-Shopify-Triggered-At": datetime.now(UTC).isoformat(),
        },
    )


def stripe_request(secret: str, body: bytes) -> dict[str, Any]:
    return http_api_event("/webhooks/stripe", body, {"Stripe-Signature": stripe_signature(secret, body)})


def order_shipped(index: int, *, run: str) -> dict[str, Any]:
    """A canonical order.shipped event for a distinct contact (202-555 numbers, valid but unassigned)."""
    return {
        "type": "order.shipped",
        "schema_version": 1,
        "event_id": f"bench-{run}-{index}",
        "occurred_at": datetime.now(UTC).isoformat(),
        "order_id": f"{run}-{index}",
        "order_name": f"#{1000 + index}",
        "shipment_id": f"ship-{run}-{index}",
        "person": {
            "phone": f"+1202555{index % 10000:04d}",
            "first_name": "Ada",
            "last_name": f"Bench{index}",
        },
        "tracking_numbers": [f"1Z999AA1{index:010d}"],
        "tracking_urls": [f"https://track.example.com/1Z999AA1{index:010d}"],
        "carrier": "UPS",
    }


def sqs_event(
    bodies: list[str], *, queue_arn: str = "arn:aws:sqs:us-east-1:123456789012:bench-events"
) -> dict[str, Any]:
    """An SQS event-source batch as Lambda delivers it."""
    now_ms = str(int(time.time() * 1000))
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": f"bench-{index}",
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": now_ms,
                    "SenderId": "AIDAEXAMPLE",
                    "ApproximateFirstReceiveTimestamp": now_ms,
                },
                "messageAttributes": {},
                "md5OfBody": hashlib.md5(body.encode(), usedforsecurity=False).hexdigest(),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": "us-east-1",
            }
            for index, body in enumerate(bodies)
        ]
    }


class LambdaContext:
    """The attributes of the Lambda context object that handlers and Powertools read."""

    function_name = "bench"
    function_version = "$LATEST"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    log_group_name = "/aws/lambda/bench"
    log_stream_name = "bench"

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return 60_000
