"""Builders shared by the ingest tests: HTTP API v2 events, signatures, moto resources."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from ingest.verify import shopify_signature, stripe_signature_header

REPO = Path(__file__).resolve().parents[3]
EVENTS = REPO / "events"
SHOPIFY_SECRET = "shpss_test_secret"
STRIPE_SECRET = "whsec_test_secret"
STRIPE_NEXT_SECRET = "whsec_test_secret_next"
NOW = 1795420800  # the fixed signing time of events/ (events/index.json "stripe_timestamp")


@dataclass
class FakeContext:
    """The attributes Powertools' Logger reads from a Lambda context."""

    function_name: str = "IngestFunction"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:IngestFunction"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"


@dataclass
class AwsFakes:
    queue_url: str
    bucket: str
    sqs: Any
    s3: Any
    secretsmanager: Any

    @classmethod
    def create(cls, *, shopify_secrets: str, stripe_secrets: str) -> AwsFakes:
        sqs = boto3.client("sqs", region_name="us-east-1")
        s3 = boto3.client("s3", region_name="us-east-1")
        sm = boto3.client("secretsmanager", region_name="us-east-1")
        queue_url = sqs.create_queue(QueueName="EventQueue")["QueueUrl"]
        s3.create_bucket(Bucket="nomi-gateway-payloads")
        sm.create_secret(Name="nomi-gateway/shopify", SecretString=shopify_secrets)
        sm.create_secret(Name="nomi-gateway/stripe", SecretString=stripe_secrets)
        return cls(queue_url=queue_url, bucket="nomi-gateway-payloads", sqs=sqs, s3=s3, secretsmanager=sm)

    def messages(self) -> list[dict[str, Any]]:
        """Every message on the queue (received once, with attributes)."""
        found: list[dict[str, Any]] = []
        while True:
            batch = self.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
            ).get("Messages", [])
            if not batch:
                return found
            found.extend(batch)

    def set_secret(self, name: str, value: str) -> None:
        self.secretsmanager.put_secret_value(SecretId=name, SecretString=value)


def http_event(
    path: str,
    body: bytes | str | None,
    headers: dict[str, str] | None = None,
    *,
    method: str = "POST",
    base64_body: bool = False,
    source_ip: str = "203.0.113.9",
) -> dict[str, Any]:
    """A minimal API Gateway HTTP API payload 2.0 event."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    if raw is None:
        text = None
    elif base64_body:
        text = base64.b64encode(raw).decode("ascii")
    else:
        text = raw.decode("utf-8")
    return {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers or {},
        "requestContext": {
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": (headers or {}).get("user-agent", "test-agent"),
            },
            "requestId": "test-request",
            "stage": "$default",
        },
        "body": text,
        "isBase64Encoded": base64_body,
    }


def shopify_event(
    payload: dict[str, Any] | bytes,
    *,
    topic: str = "orders/paid",
    secret: str = SHOPIFY_SECRET,
    webhook_id: str = "wh-0001",
    extra_headers: dict[str, str] | None = None,
    base64_body: bool = False,
) -> dict[str, Any]:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {
        "content-type": "application/json",
        "x-shopify-topic": topic,
        "x-shopify-hmac-sha256": shopify_signature(body, secret),
        "x-shopify-shop-domain": "example-store.myshopify.com",
        "x-shopify-webhook-id": webhook_id,
        "x-shopify-event-id": "evt-0001",
        "x-shopify-triggered-at": "2026-11-23T08:00:00Z",
        "x-shopify-api-version": "2026-07",
        **(extra_headers or {}),
    }
    return http_event("/webhooks/shopify", body, headers, base64_body=base64_body)


def stripe_event(
    payload: dict[str, Any] | bytes,
    *,
    secrets: list[str] | None = None,
    timestamp: int = NOW,
) -> dict[str, Any]:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    header = stripe_signature_header(body, secrets or [STRIPE_SECRET], timestamp)
    return http_event(
        "/webhooks/stripe", body, {"content-type": "application/json", "stripe-signature": header}
    )


def signup_event(
    fields: dict[str, Any] | str,
    *,
    origin: str | None = "https://shop.example.com",
    form: bool = False,
    base64_body: bool = False,
    content_type: str | None = None,
) -> dict[str, Any]:
    if isinstance(fields, str):
        body = fields
    elif form:
        from urllib.parse import urlencode

        body = urlencode(fields, doseq=True)
    else:
        body = json.dumps(fields)
    headers = {
        "content-type": content_type or ("application/x-www-form-urlencoded" if form else "application/json"),
        "user-agent": "Mozilla/5.0 (test)",
    }
    if origin is not None:
        headers["origin"] = origin
    return http_event("/signup", body, headers, base64_body=base64_body, source_ip="198.51.100.7")


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


def answer_json(answer: dict[str, Any]) -> Any:
    return json.loads(answer["body"])
