"""Write the SQS batch events under events/processor/ for `sam local invoke ProcessorFunction -e ...`.

    python events/processor/generate.py

Each file is an SQS event (the shape Lambda's event source mapping delivers) whose records carry a
queue message in one of the accepted shapes: an ingest envelope (shopify, stripe, signup), a bare
canonical event, or an EventBridge event. Bodies are reused from events/bodies/, events/canonical/
and events/eventbridge/. Deterministic: ids and times are fixed. Standard library only.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
EVENTS = HERE.parent
RECEIVED_AT = "2026-11-23T12:00:00Z"
SENT_MILLIS = "1795435200000"
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:nomi-gateway-EventQueue"

SHOPIFY = {
    "checkouts-create": "checkouts/create",
    "customers-marketing-consent-update": "customers_marketing_consent/update",
    "fulfillments-create": "fulfillments/create",
    "orders-create": "orders/create",
    "orders-paid": "orders/paid",
    "customers-redact": "customers/redact",
}
STRIPE = ("checkout-session-completed", "customer-created", "payment-intent-succeeded")

SIGNUP = {
    "reference": "SU-7F3K2Q",
    "phone": "+14155550199",
    "email": "grace.hopper@example.com",
    "first_name": "Grace",
    "last_name": "Hopper",
    "sms_consent": True,
    "email_consent": False,
    "consent_text": "By checking this box, you agree to receive recurring automated texts. Consent is not a condition of purchase.",
    "tags": ["newsletter"],
    "ip_address": "203.0.113.7",
    "user_agent": "Mozilla/5.0",
    "submitted_at": RECEIVED_AT,
}


def envelope(
    source: str, topic: str, event_id: str, payload: Any, headers: dict[str, str] | None = None
) -> str:
    body = {
        "version": 1,
        "source": source,
        "event_id": event_id,
        "topic": topic,
        "received_at": RECEIVED_AT,
        "headers": headers or {},
        "payload": payload,
    }
    return json.dumps(body, ensure_ascii=False)


def record(body: str, *, source: str, topic: str, event_id: str) -> dict[str, Any]:
    message_id = "msg-" + hashlib.sha256(body.encode()).hexdigest()[:24]
    return {
        "messageId": message_id,
        "receiptHandle": f"rh-{message_id}",
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": SENT_MILLIS,
            "SenderId": "AIDAEXAMPLE",
            "ApproximateFirstReceiveTimestamp": SENT_MILLIS,
        },
        "messageAttributes": {
            name: {"stringValue": value, "stringListValues": [], "binaryListValues": [], "dataType": "String"}
            for name, value in (("source", source), ("topic", topic), ("event_id", event_id))
        },
        "md5OfBody": hashlib.md5(body.encode()).hexdigest(),  # noqa: S324 - SQS's own checksum
        "eventSource": "aws:sqs",
        "eventSourceARN": QUEUE_ARN,
        "awsRegion": "us-east-1",
    }


def cases() -> dict[str, list[dict[str, Any]]]:
    files: dict[str, list[dict[str, Any]]] = {}
    for name, topic in SHOPIFY.items():
        payload = json.loads((EVENTS / "bodies" / "shopify" / f"{name}.json").read_text(encoding="utf-8"))
        webhook_id = f"b5c1e0d2-{name}"
        headers = {
            "x-shopify-topic": topic,
            "x-shopify-shop-domain": "nomi-demo.myshopify.com",
            "x-shopify-webhook-id": webhook_id,
            "x-shopify-event-id": f"e7a1-{name}",
            "x-shopify-triggered-at": RECEIVED_AT,
            "x-shopify-api-version": "2026-07",
        }
        body = envelope("shopify", topic, webhook_id, payload, headers)
        files[f"shopify-{name}"] = [record(body, source="shopify", topic=topic, event_id=webhook_id)]
    for name in STRIPE:
        event = json.loads((EVENTS / "bodies" / "stripe" / f"{name}.json").read_text(encoding="utf-8"))
        body = envelope("stripe", event["type"], event["id"], event)
        files[f"stripe-{name}"] = [record(body, source="stripe", topic=event["type"], event_id=event["id"])]
    body = envelope("signup", "signup", SIGNUP["reference"], SIGNUP)
    files["signup"] = [record(body, source="signup", topic="signup", event_id=SIGNUP["reference"])]
    for path in sorted((EVENTS / "canonical").glob("*.json")):
        event = json.loads(path.read_text(encoding="utf-8"))
        body = json.dumps(event, ensure_ascii=False)
        files[f"canonical-{path.stem}"] = [
            record(body, source="canonical", topic=event["type"], event_id=event["event_id"])
        ]
    for path in sorted((EVENTS / "eventbridge").glob("*.json")):
        event = json.loads(path.read_text(encoding="utf-8"))
        body = json.dumps(event, ensure_ascii=False)
        files[f"eventbridge-{path.stem}"] = [
            record(body, source="eventbridge", topic=event["detail-type"], event_id=event["id"])
        ]
    # One batch of independent events, as the event source mapping would deliver them.
    files["batch-mixed"] = [
        *files["shopify-orders-paid"],
        *files["canonical-order.shipped"],
        *files["stripe-checkout-session-completed"],
        *files["signup"],
    ]
    return files


def main() -> None:
    for name, records in cases().items():
        text = json.dumps({"Records": records}, indent=2, ensure_ascii=False) + "\n"
        (HERE / f"{name}.json").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
