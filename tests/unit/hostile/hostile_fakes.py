"""Stand-ins for the hostile-input tests: the ingest function with its seams faked in memory (webhook
secrets, SQS, S3, the clock), and request builders that sign as Shopify and Stripe sign."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from dataclasses import dataclass, field
from typing import Any

SHOPIFY_SECRET = "shpss_hostile_secret"
STRIPE_SECRET = "whsec_hostile_secret"
OTHER_SECRET = "whsec_someone_else"
NOW = 1_795_420_800
ALLOWED_ORIGIN = "https://shop.example.com"
CONSENT_TEXT = (
    "Text me offers from Example Store. Consent is not a condition of purchase. Reply STOP to cancel."
)
ENVIRONMENT = {
    "QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/EventQueue",
    "PAYLOAD_BUCKET": "payloads",
    "SHOPIFY_SECRET_NAME": "shopify",
    "STRIPE_SECRET_NAME": "stripe",
    "STRIPE_TOLERANCE_SECONDS": "300",
    "SIGNUP_ALLOWED_ORIGINS": ALLOWED_ORIGIN,
    "SIGNUP_CONSENT_TEXTS": json.dumps([CONSENT_TEXT]),
    "SIGNUP_MAX_BODY_BYTES": "16384",
    "DEFAULT_PHONE_REGION": "US",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_METRICS_NAMESPACE": "Hostile",
    "POWERTOOLS_TRACE_DISABLED": "true",
}


class ClientError(Exception):
    """Stands in for botocore's ClientError where a test only needs 'SQS said no'."""


@dataclass
class RecordingSqs:
    """SendMessage into a list; `fail` makes every send raise botocore's ClientError."""

    sent: list[dict[str, Any]] = field(default_factory=list)
    fail: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def send_message(self, **kwargs: Any) -> dict[str, str]:
        if self.fail:
            from botocore.exceptions import ClientError as BotoClientError

            raise BotoClientError({"Error": {"Code": "ServiceUnavailable", "Message": "down"}}, "SendMessage")
        with self._lock:
            self.sent.append(kwargs)
            return {"MessageId": f"m-{len(self.sent)}"}

    def envelopes(self) -> list[dict[str, Any]]:
        return [json.loads(m["MessageBody"]) for m in self.sent]


@dataclass
class RecordingS3:
    objects: dict[str, bytes] = field(default_factory=dict)

    def put_object(self, *, Bucket: str, Key: str, Body: bytes, **_: Any) -> dict[str, str]:
        self.objects[f"{Bucket}/{Key}"] = Body
        return {}


def shopify_hmac(body: bytes, secret: str = SHOPIFY_SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def stripe_header(body: bytes, *, secret: str = STRIPE_SECRET, timestamp: int = NOW) -> str:
    signed = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={signed}"


def http_event(
    path: str,
    body: bytes | None,
    headers: dict[str, str] | None = None,
    *,
    method: str = "POST",
    base64_body: bool = True,
) -> dict[str, Any]:
    """An API Gateway HTTP API 2.0 event; bodies go base64 (as API Gateway sends any binary body)."""
    if body is None:
        text = None
    elif base64_body:
        text = base64.b64encode(body).decode("ascii")
    else:
        text = body.decode("utf-8")
    return {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers or {},
        "requestContext": {
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "198.51.100.7"},
            "requestId": "hostile",
            "stage": "$default",
        },
        "body": text,
        "isBase64Encoded": base64_body and body is not None,
    }


def shopify_request(
    body: bytes, *, secret: str = SHOPIFY_SECRET, topic: str = "orders/paid", **headers: str
) -> dict[str, Any]:
    signed = {
        "content-type": "application/json",
        "x-shopify-topic": topic,
        "x-shopify-webhook-id": "wh-hostile-1",
        "x-shopify-hmac-sha256": shopify_hmac(body, secret),
        **headers,
    }
    return http_event("/webhooks/shopify", body, signed)


def stripe_request(body: bytes, *, secret: str = STRIPE_SECRET, timestamp: int = NOW) -> dict[str, Any]:
    headers = {
        "content-type": "application/json",
        "stripe-signature": stripe_header(body, secret=secret, timestamp=timestamp),
    }
    return http_event("/webhooks/stripe", body, headers)


def nested(depth: int) -> bytes:
    """A JSON object holding `depth` nested arrays (deeper than Python's recursion limit if asked)."""
    return b'{"a":' + b"[" * depth + b"]" * depth + b"}"


@dataclass
class FakeContext:
    function_name: str = "IngestFunction"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:IngestFunction"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"
