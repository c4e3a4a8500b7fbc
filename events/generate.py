"""Regenerate the signed API Gateway events under events/ from the bodies in events/bodies/.

    python events/generate.py            # deterministic: Stripe files signed at a fixed time
    python events/generate.py --fresh    # Stripe files signed now (for `sam local invoke`; don't commit)

Signatures come from the ingest function's own helpers (functions/ingest/ingest/verify.py) with the
documented test secrets below. Also writes events/index.json: each file's route and expected status,
which the tests and `make demo` read. Standard library only (plus the ingest helpers).
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

EVENTS = Path(__file__).resolve().parent
sys.path.insert(0, str(EVENTS.parent / "functions" / "ingest"))

from ingest.verify import shopify_signature, stripe_signature_header  # noqa: E402

# Test secrets only (documented in events/README.md); never a real deployment's.
SHOPIFY_SECRET = "shpss_test_secret"  # noqa: S105
STRIPE_SECRET = "whsec_test_secret"  # noqa: S105
STRIPE_NEXT_SECRET = "whsec_test_secret_next"  # noqa: S105 - the new secret of a roll: both signatures arrive
WRONG_SECRET = "not_the_secret"  # noqa: S105
STRIPE_TIMESTAMP = 1795420800  # 2026-11-23T08:00:00Z
SHOP_DOMAIN = "example-store.myshopify.com"
SHOPIFY_API_VERSION = "2026-07"
SIGNUP_ORIGIN = "https://shop.example.com"
# The example form's SMS consent text (docs/signup-form.md), template.yaml's SignupConsentTexts default.
SIGNUP_CONSENT_TEXT = (
    "By checking this box, you agree to receive recurring automated marketing text messages from Example Store "
    "at the number provided. Consent is not a condition of purchase. Msg frequency varies. Msg & data rates "
    "may apply. Reply HELP for help and STOP to cancel. See our Terms and Privacy Policy."
)
BROWSER_UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15"


@dataclass
class Case:
    """One event file: where it goes, how it is signed, what the handler answers."""

    name: str
    route: str
    body: bytes
    expect_status: int
    description: str
    headers: dict[str, str] = field(default_factory=dict)
    method: str = "POST"
    base64: bool = False
    source_ip: str = "203.0.113.24"
    user_agent: str = "Shopify-Captain-Hook"


def body_file(path: str) -> bytes:
    """A body as the sender puts it on the wire: compact JSON, non-ASCII kept as UTF-8."""
    data = json.loads((EVENTS / "bodies" / path).read_text(encoding="utf-8"))
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def shopify_headers(topic: str, body: bytes, n: int, *, secret: str = SHOPIFY_SECRET) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "x-shopify-topic": topic,
        "x-shopify-hmac-sha256": shopify_signature(body, secret),
        "x-shopify-shop-domain": SHOP_DOMAIN,
        "x-shopify-api-version": SHOPIFY_API_VERSION,
        "x-shopify-webhook-id": f"b54557e4-bdd9-4b37-8a5f-bf7d70bcd{n:03d}",
        "x-shopify-event-id": f"98880550-7158-44d4-b7cd-2c97c8a0a{n:03d}",
        "x-shopify-triggered-at": "2026-11-23T08:00:00.000000Z",
    }


def stripe_headers(body: bytes, timestamp: int, secrets: list[str]) -> dict[str, str]:
    return {
        "content-type": "application/json; charset=utf-8",
        "stripe-signature": stripe_signature_header(body, secrets, timestamp),
    }


def shopify_cases() -> list[Case]:
    cases = []
    topics = [
        ("orders-paid", "orders/paid", "an order paid, with ?sub= in landing_site and note_attributes"),
        ("checkouts-create", "checkouts/create", "a checkout with buyer_accepts_sms_marketing"),
        ("fulfillments-create", "fulfillments/create", "a shipment with UPS tracking"),
        (
            "customers-marketing-consent-update",
            "customers_marketing_consent/update",
            "SMS consent (2025-01+)",
        ),
        ("customers-redact", "customers/redact", "mandatory privacy topic"),
    ]
    for n, (name, topic, what) in enumerate(topics, start=1):
        body = body_file(f"shopify/{name}.json")
        cases.append(
            Case(
                f"shopify/{name}.json",
                "/webhooks/shopify",
                body,
                200,
                f"queued: {what}",
                shopify_headers(topic, body, n),
            )
        )
    body = body_file("shopify/products-update.json")
    cases.append(
        Case(
            "shopify/unhandled-topic.json",
            "/webhooks/shopify",
            body,
            200,
            "ignored: products/update is not a gateway topic (200, nothing queued)",
            shopify_headers("products/update", body, 10),
        )
    )
    body = body_file("shopify/orders-paid.json")
    cases.append(
        Case(
            "shopify/bad-signature.json",
            "/webhooks/shopify",
            body,
            401,
            "rejected: signed with the wrong secret (401, nothing queued)",
            shopify_headers("orders/paid", body, 11, secret=WRONG_SECRET),
        )
    )
    headers = shopify_headers("orders/paid", body, 12)
    del headers["x-shopify-topic"]
    cases.append(
        Case(
            "shopify/missing-topic.json",
            "/webhooks/shopify",
            body,
            400,
            "malformed: valid signature but no X-Shopify-Topic (400)",
            headers,
        )
    )
    body = body_file("shopify/orders-create.json")
    # Mixed-case header names (as `sam local start-api` passes them) and a base64 body.
    mixed = {
        "-".join(p.capitalize() for p in k.split("-")): v
        for k, v in shopify_headers("orders/create", body, 13).items()
    }
    cases.append(
        Case(
            "shopify/base64-body.json",
            "/webhooks/shopify",
            body,
            200,
            "queued: orders/create with isBase64Encoded and mixed-case header names",
            mixed,
            base64=True,
        )
    )
    return cases


def stripe_cases(timestamp: int) -> list[Case]:
    ua = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
    cases = []
    for name, what in [
        (
            "checkout-session-completed",
            "Checkout in JPY (zero-decimal), consent.promotions opt_in, client_reference_id",
        ),
        ("customer-created", "a new customer with a phone"),
        (
            "payment-intent-succeeded",
            "a Payment Element payment (no Checkout): receipt email, shipping phone, metadata click id",
        ),
    ]:
        body = body_file(f"stripe/{name}.json")
        cases.append(
            Case(
                f"stripe/{name}.json",
                "/webhooks/stripe",
                body,
                200,
                f"queued: {what}",
                stripe_headers(body, timestamp, [STRIPE_SECRET]),
                user_agent=ua,
            )
        )
    body = body_file("stripe/payment-intent-created.json")
    cases.append(
        Case(
            "stripe/unhandled-type.json",
            "/webhooks/stripe",
            body,
            200,
            "ignored: payment_intent.created is not a gateway type (200, nothing queued)",
            stripe_headers(body, timestamp, [STRIPE_SECRET]),
            user_agent=ua,
        )
    )
    body = body_file("stripe/checkout-session-completed.json")
    cases.append(
        Case(
            "stripe/bad-signature.json",
            "/webhooks/stripe",
            body,
            401,
            "rejected: signed with the wrong secret (401, nothing queued)",
            stripe_headers(body, timestamp, [WRONG_SECRET]),
            user_agent=ua,
        )
    )
    body = body_file("stripe/customer-created.json")
    cases.append(
        Case(
            "stripe/secret-roll.json",
            "/webhooks/stripe",
            body,
            200,
            "queued: during a secret roll, one v1 per secret (the gateway knows the old one)",
            stripe_headers(body, timestamp, [STRIPE_NEXT_SECRET, STRIPE_SECRET]),
            user_agent=ua,
        )
    )
    return cases


def signup_cases() -> list[Case]:
    browser = {"origin": SIGNUP_ORIGIN, "referer": f"{SIGNUP_ORIGIN}/pages/join", "user-agent": BROWSER_UA}
    json_headers = {**browser, "content-type": "application/json", "accept": "application/json"}
    form_headers = {**browser, "content-type": "application/x-www-form-urlencoded", "accept": "text/html"}
    pairs = [tuple(pair) for pair in json.loads((EVENTS / "bodies/signup/form.json").read_text())]
    form = urlencode(pairs).encode("ascii")
    common = {"route": "/signup", "user_agent": BROWSER_UA, "source_ip": "198.51.100.7"}
    return [
        Case(
            "signup/json.json",
            body=body_file("signup/json.json"),
            expect_status=202,
            description="accepted: JSON from a script, SMS + email consent, tags list, custom object",
            headers=json_headers,
            **common,
        ),
        Case(
            "signup/form-urlencoded.json",
            body=form,
            expect_status=202,
            base64=True,
            description="accepted: plain HTML form post (API Gateway base64-encodes it), checkbox `on`",
            headers=form_headers,
            **common,
        ),
        Case(
            "signup/invalid.json",
            body=body_file("signup/invalid.json"),
            expect_status=400,
            description="invalid: bad phone, bad email, long first_name, SMS opt-in without consent text",
            headers=json_headers,
            **common,
        ),
        Case(
            "signup/honeypot.json",
            body=body_file("signup/honeypot.json"),
            expect_status=202,
            description="honeypot `website` filled: 202 as if accepted, nothing queued",
            headers=json_headers,
            **common,
        ),
        Case(
            "signup/email-only.json",
            body=body_file("signup/email-only.json"),
            expect_status=400,
            description="invalid: an email without a phone (NOMI keys contacts on the phone); 400 names `phone`",
            headers=json_headers,
            **common,
        ),
        Case(
            "signup/forged-consent.json",
            body=body_file("signup/forged-consent.json"),
            expect_status=400,
            description="invalid: SMS opt-in with a consent text the merchant's forms do not show",
            headers=json_headers,
            **common,
        ),
        Case(
            "signup/no-origin.json",
            body=body_file("signup/json.json"),
            expect_status=403,
            description="refused: no Origin header (a script, not a browser)",
            headers={k: v for k, v in json_headers.items() if k not in ("origin", "referer")},
            **common,
        ),
        Case(
            "signup/disallowed-origin.json",
            body=body_file("signup/json.json"),
            expect_status=403,
            description="refused: Origin not on SIGNUP_ALLOWED_ORIGINS",
            headers={**json_headers, "origin": "https://evil.example.net"},
            **common,
        ),
        Case(
            "signup/preflight.json",
            body=b"",
            expect_status=204,
            method="OPTIONS",
            description="CORS preflight from an allowed origin (API Gateway answers it when deployed)",
            headers={
                "origin": SIGNUP_ORIGIN,
                "access-control-request-method": "POST",
                "access-control-request-headers": "content-type",
                "user-agent": BROWSER_UA,
            },
            **common,
        ),
    ]


def other_cases() -> list[Case]:
    return [
        Case(
            "http/unknown-route.json",
            "/webhooks/paypal",
            b"{}",
            404,
            "no such route",
            {"content-type": "application/json"},
        ),
        Case(
            "http/wrong-method.json", "/webhooks/shopify", b"", 405, "GET on a POST route", {}, method="GET"
        ),
    ]


def api_gateway_event(case: Case, now: datetime) -> dict[str, Any]:
    """An HTTP API payload 2.0 event, shaped as `sam local generate-event apigateway http-api-proxy`."""
    route_key = f"{case.method} {case.route}"
    body_text = base64.b64encode(case.body).decode("ascii") if case.base64 else case.body.decode("utf-8")
    return {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": case.route,
        "rawQueryString": "",
        "headers": {
            **case.headers,
            "host": "abc123def4.execute-api.us-east-1.amazonaws.com",
            "content-length": str(len(case.body)),
            "x-forwarded-for": case.source_ip,
            "x-forwarded-proto": "https",
            "user-agent": case.user_agent,
            **case.headers,
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123def4",
            "domainName": "abc123def4.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abc123def4",
            "http": {
                "method": case.method,
                "path": case.route,
                "protocol": "HTTP/1.1",
                "sourceIp": case.source_ip,
                "userAgent": case.user_agent,
            },
            "requestId": f"req-{case.name.replace('/', '-').removesuffix('.json')}",
            "routeKey": route_key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "body": body_text if case.body or case.method == "POST" else None,
        "isBase64Encoded": case.base64,
    }


def eventbridge_events(now: datetime) -> dict[str, dict[str, Any]]:
    """What the partner event buses put on the queue through the EventBridge rule (no signature)."""
    order = json.loads(body_file("shopify/orders-paid.json"))
    checkout = json.loads(body_file("stripe/checkout-session-completed.json"))
    when = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    common = {"version": "0", "account": "123456789012", "time": when, "region": "us-east-1", "resources": []}
    return {
        "eventbridge/shopify-orders-paid.json": {
            **common,
            "id": "2f3a4b5c-6d7e-8f90-a1b2-c3d4e5f60718",
            "detail-type": "shopifyWebhook",
            "source": "aws.partner/shopify.com/123456789/nomi-gateway",
            "detail": {
                "payload": order,
                "metadata": {
                    "Content-Type": "application/json",
                    "X-Shopify-Topic": "orders/paid",
                    "X-Shopify-API-Version": SHOPIFY_API_VERSION,
                    "X-Shopify-Shop-Domain": SHOP_DOMAIN,
                    "X-Shopify-Webhook-Id": "e8a1c2d3-0f4e-4b5a-9c6d-7e8f9a0b1c2d",
                    "X-Shopify-Event-Id": "98880550-7158-44d4-b7cd-2c97c8a0a900",
                    "X-Shopify-Triggered-At": "2026-11-23T08:00:00.000000Z",
                    "X-Shopify-Order-Id": str(order["id"]),
                },
            },
        },
        "eventbridge/stripe-checkout-session-completed.json": {
            **common,
            "id": "7a8b9c0d-1e2f-3a4b-5c6d-7e8f9a0b1c2d",
            "detail-type": checkout["type"],
            "source": "aws.partner/stripe.com/ed_test_61SWt4QJx9LmPq7Rk",
            "detail": checkout,
        },
    }


def write_json(relative: str, data: Any) -> None:
    path = EVENTS / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--fresh", action="store_true", help="sign Stripe events with the current time")
    args = parser.parse_args(argv)
    timestamp = int(time.time()) if args.fresh else STRIPE_TIMESTAMP
    now = datetime.fromtimestamp(timestamp, UTC)
    cases = shopify_cases() + stripe_cases(timestamp) + signup_cases() + other_cases()
    index: dict[str, Any] = {}
    for case in cases:
        write_json(case.name, api_gateway_event(case, now))
        index[case.name] = {
            "route": case.route,
            "method": case.method,
            "expect_status": case.expect_status,
            "expect_queued": case.description.startswith(("queued", "accepted")),
            "description": case.description,
        }
    for name, event in eventbridge_events(now).items():
        write_json(name, event)
        index[name] = {"route": "queue", "description": "EventBridge event as the rule puts it on EventQueue"}
    write_json(
        "index.json",
        {"stripe_timestamp": timestamp, "signup_consent_texts": [SIGNUP_CONSENT_TEXT], "files": index},
    )
    print(f"wrote {len(index)} events (Stripe timestamp {timestamp})")


if __name__ == "__main__":
    main()
