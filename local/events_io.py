"""Sending the files of events/ as their real senders would.

- Shopify: the file's headers and raw body, X-Shopify-Hmac-Sha256 recomputed with the stack's secret
  when the file was signed with the documented test secret (a file signed wrong stays wrong).
- Stripe: re-signed with a fresh timestamp (the files' fixed one is long past the 300 s tolerance),
  each v1 with the secret that produced it (the documented one mapped to the stack's).
- Browser: the form or JSON body with the file's Origin/User-Agent; a preflight as an OPTIONS.
- SQS producer: events/canonical/*.json and events/eventbridge/*.json with SendMessage.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field

from local.env import DEFAULT_SHOPIFY_SECRETS, DEFAULT_STRIPE_SECRETS

# Secrets the events/ files are signed with (events/README.md; events/generate.py). The "next" secret
# of a Stripe roll is unknown to the gateway on purpose; the wrong one makes the bad-signature files.
STRIPE_ROLL_NEXT_SECRET = "whsec_test_secret_next"  # noqa: S105 - a documented test value
WRONG_TEST_SECRET = "not_the_secret"  # noqa: S105 - a documented test value

# Headers API Gateway or the HTTP client sets itself: sending the file's copies would be wrong.
_TRANSPORT_HEADERS = {
    "host",
    "content-length",
    "x-forwarded-for",
    "x-forwarded-proto",
    "x-forwarded-port",
    "connection",
}
QUEUE_DIRS = ("canonical", "eventbridge")


class EventFileError(ValueError):
    """A file of events/ cannot be read."""


class HttpEventFile(BaseModel):
    """The parts of an API Gateway v2 event file that describe the request."""

    model_config = ConfigDict(extra="ignore")

    rawPath: str  # API Gateway's field names, kept as they are
    rawQueryString: str = ""
    headers: dict[str, str] = Field(default_factory=dict)
    requestContext: dict[str, Any]
    body: str | None = None
    isBase64Encoded: bool = False

    @property
    def method(self) -> str:
        return str(self.requestContext["http"]["method"]).upper()

    def raw_body(self) -> bytes:
        if self.body is None:
            return b""
        return base64.b64decode(self.body) if self.isBase64Encoded else self.body.encode("utf-8")


@dataclass(frozen=True)
class EventFile:
    """One file of events/: an HTTP request for the front door, or messages for the queue."""

    name: str
    """Path relative to events/, e.g. `shopify/orders-paid.json`."""
    kind: Literal["http", "queue"]
    data: Any

    @property
    def http(self) -> HttpEventFile:
        return HttpEventFile.model_validate(self.data)

    def queue_body(self) -> str:
        """The SQS message body: the file itself, as its producer writes it."""
        return json.dumps(self.data)


def classify(relative: str, data: Any) -> Literal["http", "queue"] | None:
    """How a file reaches the gateway: the front door, the queue, or not at all (None: e.g. the Lambda
    SQS events of events/processor/, fixtures of one function's tests whose bodies the other files
    already send)."""
    if relative.split("/", 1)[0] in QUEUE_DIRS:
        return "queue"
    if isinstance(data, dict) and "rawPath" in data and "requestContext" in data:
        return "http"
    return None


def _event_paths(events_dir: Path) -> Iterator[tuple[str, Path]]:
    for path in sorted(events_dir.rglob("*.json")):
        relative = path.relative_to(events_dir).as_posix()
        if not relative.startswith("bodies/") and "/" in relative:
            yield relative, path


def _load(relative: str, path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise EventFileError(f"events/{relative} is not JSON: {exc}") from exc


def list_event_files(events_dir: Path) -> list[EventFile]:
    """Every file of events/ that a sender sends (bodies/ and index.json aside), in name order."""
    files = []
    for relative, path in _event_paths(events_dir):
        data = _load(relative, path)
        kind = classify(relative, data)
        if kind is not None:
            files.append(EventFile(relative, kind, data))
    return files


def unsendable_files(events_dir: Path) -> list[str]:
    """The JSON files of events/ no sender sends (function test fixtures), for the demo to name."""
    return [
        relative
        for relative, path in _event_paths(events_dir)
        if classify(relative, _load(relative, path)) is None
    ]


# --- signing ---------------------------------------------------------------------------------------


def shopify_hmac(body: bytes, secret: str) -> str:
    """X-Shopify-Hmac-Sha256: base64 of HMAC-SHA256 of the raw body with the app secret."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def stripe_v1(body: bytes, secret: str, timestamp: int) -> str:
    """One Stripe v1 signature: hex HMAC-SHA256 of `timestamp.body` with the endpoint secret."""
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def _stripe_parts(header: str) -> tuple[int | None, list[str]]:
    timestamp, signatures = None, []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1":
            signatures.append(value)
    return timestamp, signatures


@dataclass
class Signer:
    """Re-signs files for a stack that uses `shopify_secrets`/`stripe_secrets` (newest first)."""

    shopify_secrets: Sequence[str] = DEFAULT_SHOPIFY_SECRETS
    stripe_secrets: Sequence[str] = DEFAULT_STRIPE_SECRETS
    clock: Any = field(default=time.time)

    def _known(self, documented: Sequence[str], current: Sequence[str]) -> dict[str, str]:
        """Secret a file may be signed with → the secret to sign with now."""
        mapping = {secret: current[0] for secret in documented}
        mapping.update({secret: secret for secret in current})
        mapping.setdefault(STRIPE_ROLL_NEXT_SECRET, STRIPE_ROLL_NEXT_SECRET)
        mapping.setdefault(WRONG_TEST_SECRET, WRONG_TEST_SECRET)
        return mapping

    def shopify(self, headers: dict[str, str], body: bytes) -> dict[str, str]:
        signature = headers.get("x-shopify-hmac-sha256")
        if signature is None:
            return headers
        for old, new in self._known(DEFAULT_SHOPIFY_SECRETS, self.shopify_secrets).items():
            if hmac.compare_digest(shopify_hmac(body, old), signature):
                return {**headers, "x-shopify-hmac-sha256": shopify_hmac(body, new)}
        return headers

    def stripe(self, headers: dict[str, str], body: bytes) -> dict[str, str]:
        header = headers.get("stripe-signature")
        if header is None:
            return headers
        timestamp, signatures = _stripe_parts(header)
        if timestamp is None:
            return headers
        known = self._known(DEFAULT_STRIPE_SECRETS, self.stripe_secrets)
        now = int(self.clock())
        fresh = []
        for signature in signatures:
            secret = next(
                (s for s in known if hmac.compare_digest(stripe_v1(body, s, timestamp), signature)), None
            )
            # An unknown signature stays what it was (invalid then, invalid now).
            fresh.append(stripe_v1(body, known[secret], now) if secret else signature)
        return {**headers, "stripe-signature": ",".join([f"t={now}", *(f"v1={s}" for s in fresh)])}

    def sign(self, headers: dict[str, str], body: bytes) -> dict[str, str]:
        return self.stripe(self.shopify(headers, body), body)


# --- sending ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    """What sending one file did."""

    name: str
    kind: Literal["http", "queue"]
    status: int | None = None
    """The front door's HTTP status (HTTP files)."""
    message_id: str | None = None
    """The SQS message id (queue files)."""
    body: str = ""


def send_http(client: httpx.Client, base_url: str, file: EventFile, signer: Signer) -> Sent:
    """POST (or OPTIONS…) the file's request to the front door, signed as its sender signs."""
    event = file.http
    body = event.raw_body()
    headers = {k.lower(): v for k, v in event.headers.items() if k.lower() not in _TRANSPORT_HEADERS}
    headers = signer.sign(headers, body)
    url = base_url.rstrip("/") + event.rawPath + (f"?{event.rawQueryString}" if event.rawQueryString else "")
    response = client.request(event.method, url, content=body, headers=headers)
    return Sent(file.name, "http", status=response.status_code, body=response.text[:500])


def send_queue(sqs: Any, queue_url: str, file: EventFile) -> Sent:
    """SendMessage the file as another system (or the EventBridge rule) puts it on the queue."""
    answer = sqs.send_message(QueueUrl=queue_url, MessageBody=file.queue_body())
    return Sent(file.name, "queue", message_id=answer["MessageId"])
