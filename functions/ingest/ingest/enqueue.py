"""Put an envelope on the queue; a payload too big for one SQS message goes to S3 (claim check)."""

from __future__ import annotations

import hashlib
from functools import cache
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import quote

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from gateway_events.wire import OutgoingEnvelope, raw_json_text

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient

# Room kept under the SQS limit for what our size estimate cannot see (request framing, rounding).
SIZE_MARGIN_BYTES = 8_192

# Shopify gives a webhook 5 s: fail fast and let the sender retry rather than time out. Every AWS
# client of the front door uses it (ingest.ratelimit too).
CLIENT_CONFIG = Config(
    connect_timeout=1, read_timeout=2, retries={"mode": "standard", "total_max_attempts": 3}
)


class EnqueueError(RuntimeError):
    """The event could not be stored durably; the sender must retry."""


class Enqueued(NamedTuple):
    """What was sent (a tuple: built on every queued request at half a frozen dataclass's cost)."""

    message_id: str
    claim_checked: bool


@cache
def get_sqs_client() -> SQSClient:
    return boto3.client("sqs", config=CLIENT_CONFIG)


@cache
def get_s3_client() -> S3Client:
    return boto3.client("s3", config=CLIENT_CONFIG)


def message_attributes(envelope: OutgoingEnvelope) -> dict[str, dict[str, str]]:
    """What lets an operator filter the queue and the DLQ without reading bodies."""
    return {
        "source": {"DataType": "String", "StringValue": envelope.source},
        "topic": {"DataType": "String", "StringValue": envelope.topic},
        "event_id": {"DataType": "String", "StringValue": envelope.event_id},
    }


def message_size(body: str, attributes: dict[str, dict[str, str]]) -> int:
    """The size SQS counts: body plus each attribute's name, type and value."""
    size = len(body) if body.isascii() else len(body.encode("utf-8"))  # isascii: O(1), no copy
    for name, attribute in attributes.items():
        size += len(name.encode()) + len(attribute["DataType"].encode())
        size += len(attribute["StringValue"].encode("utf-8"))
    return size


def claim_check_key(envelope: OutgoingEnvelope) -> str:
    """`<source>/<yyyy>/<mm>/<dd>/<event id>.json`: one object per delivery, easy to expire by prefix."""
    day = envelope.received_at.strftime("%Y/%m/%d")
    return f"{envelope.source}/{day}/{quote(envelope.event_id, safe='')}.json"


def store_payload(envelope: OutgoingEnvelope, payload_bytes: bytes, bucket: str) -> dict[str, Any]:
    """Write the payload to S3 and return the reference the envelope carries instead (the fields of
    `gateway_events.PayloadRef`)."""
    key = claim_check_key(envelope)
    try:
        get_s3_client().put_object(Bucket=bucket, Key=key, Body=payload_bytes, ContentType="application/json")
    except (BotoCoreError, ClientError) as exc:
        raise EnqueueError(f"cannot store the payload in S3: {type(exc).__name__}") from exc
    return {
        "bucket": bucket,
        "key": key,
        "size": len(payload_bytes),
        "sha256": hashlib.sha256(payload_bytes).hexdigest(),
    }


def send_envelope(
    envelope: OutgoingEnvelope,
    queue_url: str,
    body: str | None = None,
    attributes: dict[str, dict[str, str]] | None = None,
) -> str:
    """SendMessage (with `body`, the envelope's JSON, and `attributes`, its `message_attributes`, when
    already made); failures are EnqueueError."""
    try:
        answer: dict[str, Any] = get_sqs_client().send_message(  # type: ignore[assignment]
            QueueUrl=queue_url,
            MessageBody=envelope.to_json() if body is None else body,
            MessageAttributes=message_attributes(envelope) if attributes is None else attributes,  # type: ignore[arg-type]
        )
    except (BotoCoreError, ClientError) as exc:
        raise EnqueueError(f"cannot send to SQS: {type(exc).__name__}") from exc
    return str(answer["MessageId"])


def _render(envelope: OutgoingEnvelope, payload_bytes: bytes, payload_text: str | None = None) -> str:
    """The envelope's JSON, splicing in the original body's text when that is its JSON text
    (`payload_text`, when given, is that text: `raw_json_text(payload_bytes)`)."""
    raw = payload_text if payload_text is not None else raw_json_text(payload_bytes)
    if raw is None:
        return envelope.to_json()  # json.loads also takes UTF-16/32 bodies: re-encode those as UTF-8
    return envelope.to_json_with_raw_payload(raw)


def enqueue(
    envelope: OutgoingEnvelope,
    *,
    payload_bytes: bytes,
    queue_url: str,
    bucket: str,
    max_message_bytes: int,
    payload_text: str | None = None,
) -> Enqueued:
    """Queue `envelope`; when it would not fit, park `payload_bytes` (the original body) in S3 first.
    `payload_text` is `raw_json_text(payload_bytes)`, when the caller has it already.

    Never a rejection for size: HTTP API accepts 10 MB bodies, SQS 1 MiB messages.
    """
    body = _render(envelope, payload_bytes, payload_text)
    attributes = message_attributes(envelope)  # the claim check keeps source, topic and event id
    if message_size(body, attributes) <= max_message_bytes - SIZE_MARGIN_BYTES:
        return Enqueued(send_envelope(envelope, queue_url, body, attributes), claim_checked=False)
    ref = store_payload(envelope, payload_bytes, bucket)
    return Enqueued(
        send_envelope(envelope.with_payload_ref(ref), queue_url, attributes=attributes), claim_checked=True
    )
