"""`nomi-gateway send`: one test event to a deployed or local gateway, signed as its real sender signs.

What it sends, by the file's shape:
- an `events/` HTTP file (API Gateway v2 event): its route, headers and raw body, re-signed with the
  secret you give (Shopify: `X-Shopify-Hmac-Sha256`; Stripe: a fresh `t=` and `v1=`, since Stripe's
  300 s tolerance has long passed for a committed file);
- a bare webhook body (`--source shopify --topic orders/paid`, or a Stripe event, whose `type` is the
  topic): wrapped in the headers Shopify or Stripe would send;
- a bare signup body (`--source signup`): posted with an `Origin`, as a browser would;
- a canonical event, an envelope or an EventBridge event: put on the event queue with SendMessage
  (there is no HTTP route for them), as another system or the EventBridge rule would.

Signing here is our own few lines of stdlib HMAC, so that the tests can cross-check them against the
ingest function's verifiers (`ingest.verify`) rather than against themselves.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from cli.common import (
    CliError,
    aws_client,
    local_stack_info,
    read_secret,
    split_secrets,
    stack_output,
    stack_outputs,
)

ROUTES: dict[str, str] = {"/webhooks/shopify": "shopify", "/webhooks/stripe": "stripe", "/signup": "signup"}
ROUTE_OF: dict[str, str] = {source: route for route, source in ROUTES.items()}
SECRET_ENV: dict[str, str] = {"shopify": "SHOPIFY_WEBHOOK_SECRETS", "stripe": "STRIPE_WEBHOOK_SECRETS"}
SECRET_OUTPUT: dict[str, str] = {"shopify": "ShopifyWebhookSecretArn", "stripe": "StripeWebhookSecretArn"}
SECRET_LOGICAL_ID: dict[str, str] = {"shopify": "ShopifyWebhookSecret", "stripe": "StripeWebhookSecret"}
DEFAULT_SHOP_DOMAIN = "example-store.myshopify.com"
DEFAULT_SHOPIFY_API_VERSION = "2026-07"
DEFAULT_ORIGIN = "https://shop.example.com"
# Headers the HTTP client or API Gateway sets itself: copying a file's values would be wrong.
TRANSPORT_HEADERS = frozenset(
    {"host", "content-length", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-port", "connection"}
)


@dataclass(frozen=True)
class TestRequest:
    """One HTTP request as its sender would make it (before signing)."""

    __test__ = False  # not a pytest test class, whatever its name says

    source: str  # shopify | stripe | signup | other
    method: str
    path: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def topic(self) -> str:
        if self.source == "shopify":
            return self.headers.get("x-shopify-topic", "?")
        if self.source == "stripe":
            try:
                return str(json.loads(self.body).get("type", "?"))
            except (ValueError, AttributeError):
                return "?"
        return self.source


@dataclass(frozen=True)
class QueueMessage:
    """A message for the event queue (canonical event, envelope or EventBridge event)."""

    body: str
    kind: str


# --- reading what to send --------------------------------------------------------------------------


def load(
    path: Path,
    *,
    source: str | None = None,
    topic: str | None = None,
    origin: str | None = None,
    shop_domain: str = DEFAULT_SHOP_DOMAIN,
    now: datetime | None = None,
) -> TestRequest | QueueMessage:
    """What `path` asks to send: an HTTP request, or a queue message."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CliError(f"cannot read {path}: {exc}") from exc
    if is_api_gateway_event(data):
        request = request_from_event(data)
        return replace(request, headers={**request.headers, "origin": origin}) if origin else request
    if source is None:
        kind = queue_message_kind(data)
        if kind is not None:
            return QueueMessage(json.dumps(data, separators=(",", ":"), ensure_ascii=False), kind)
        source = guess_source(data)
    return request_from_body(
        data, source=source, topic=topic, origin=origin, shop_domain=shop_domain, now=now or datetime.now(UTC)
    )


def is_api_gateway_event(data: Any) -> bool:
    return isinstance(data, dict) and "rawPath" in data and "requestContext" in data


def queue_message_kind(data: Any) -> str | None:
    """`canonical`, `envelope` or `eventbridge` when `data` is something producers put on the queue."""
    if not isinstance(data, dict):
        return None
    if "detail-type" in data and "detail" in data:
        return "eventbridge"
    if "schema_version" in data and "type" in data and "event_id" in data:
        return "canonical"
    if "source" in data and "event_id" in data and ("payload" in data or "payload_ref" in data):
        return "envelope"
    return None


def guess_source(data: Any) -> str:
    """A bare body's sender, when `--source` was not given: only a Stripe event says who it is."""
    if isinstance(data, dict) and data.get("object") == "event" and "type" in data:
        return "stripe"
    raise CliError(
        "cannot tell who sends this body: pass --source shopify|stripe|signup (and --topic for Shopify)"
    )


def request_from_event(event: dict[str, Any]) -> TestRequest:
    """The request an API Gateway v2 event file describes (headers lower-cased, body decoded)."""
    raw = event.get("body") or ""
    body = base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode("utf-8")
    path = str(event["rawPath"])
    query = event.get("rawQueryString") or ""
    method = str(event["requestContext"].get("http", {}).get("method", "POST")).upper()
    headers = {
        str(k).lower(): str(v)
        for k, v in (event.get("headers") or {}).items()
        if str(k).lower() not in TRANSPORT_HEADERS
    }
    return TestRequest(
        ROUTES.get(path, "other"), method, path + (f"?{query}" if query else ""), body, headers
    )


def request_from_body(
    data: Any,
    *,
    source: str,
    topic: str | None,
    origin: str | None,
    shop_domain: str = DEFAULT_SHOP_DOMAIN,
    now: datetime,
) -> TestRequest:
    """A bare body wrapped in the headers its sender adds (new delivery ids each time)."""
    body = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    if source == "shopify":
        if not topic:
            raise CliError("a bare Shopify body needs --topic (e.g. orders/paid)")
        headers = {
            "content-type": "application/json",
            "x-shopify-topic": topic,
            "x-shopify-shop-domain": shop_domain,
            "x-shopify-api-version": DEFAULT_SHOPIFY_API_VERSION,
            "x-shopify-webhook-id": str(uuid.uuid4()),
            "x-shopify-event-id": str(uuid.uuid4()),
            "x-shopify-triggered-at": now.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "user-agent": "Shopify-Captain-Hook",
        }
    elif source == "stripe":
        headers = {"content-type": "application/json; charset=utf-8", "user-agent": "Stripe/1.0"}
    elif source == "signup":
        headers = {"content-type": "application/json", "origin": origin or DEFAULT_ORIGIN}
    else:
        raise CliError(f"unknown --source {source!r}: shopify, stripe or signup")
    return TestRequest(source, "POST", ROUTE_OF[source], body, headers)


# --- signing ---------------------------------------------------------------------------------------


def shopify_hmac(body: bytes, secret: str) -> str:
    """`X-Shopify-Hmac-Sha256`: base64 of HMAC-SHA256 of the raw body with the app's client secret."""
    return base64.b64encode(hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()).decode("ascii")


def stripe_signature_header(body: bytes, secrets: Sequence[str], timestamp: int) -> str:
    """`Stripe-Signature: t=<unix>,v1=<hex>[,v1=…]`, one `v1` per secret (two during a roll)."""
    signed = str(timestamp).encode("ascii") + b"." + body
    v1 = [hmac.new(s.encode("utf-8"), signed, hashlib.sha256).hexdigest() for s in secrets]
    return ",".join([f"t={timestamp}", *(f"v1={sig}" for sig in v1)])


def sign(request: TestRequest, secrets: Sequence[str], *, now: float) -> TestRequest:
    """The request with its sender's signature: Shopify with the newest secret, Stripe with each."""
    if request.source == "shopify":
        return replace(
            request,
            headers={**request.headers, "x-shopify-hmac-sha256": shopify_hmac(request.body, secrets[0])},
        )
    if request.source == "stripe":
        header = stripe_signature_header(request.body, secrets, int(now))
        return replace(request, headers={**request.headers, "stripe-signature": header})
    return request


def with_fresh_ids(request: TestRequest) -> TestRequest:
    """The same event as a new delivery of a new fact: new Shopify delivery ids, a new Stripe event id.

    Without this, resending an events/ file is (rightly) a duplicate the processor acknowledges and
    skips. Business keys (one conversion per order, one SMS per shipment) still hold.
    """
    if request.source == "shopify":
        fresh = {"x-shopify-webhook-id": str(uuid.uuid4()), "x-shopify-event-id": str(uuid.uuid4())}
        return replace(request, headers={**request.headers, **fresh})
    if request.source == "stripe":
        try:
            data = json.loads(request.body)
        except ValueError:
            return request
        if isinstance(data, dict) and "id" in data:
            data["id"] = f"evt_test_{uuid.uuid4().hex[:24]}"
            body = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
            return replace(request, body=body)
    return request


def needs_secret(request: TestRequest) -> bool:
    return request.source in SECRET_ENV


# --- where to send, with which secret ----------------------------------------------------------------


@dataclass
class Target:
    """Where to send: the HTTP base URL, the queue, and how to find the webhook secrets."""

    base_url: str | None = None
    queue_url: str | None = None
    endpoint_url: str | None = None
    secret_ids: dict[str, str] = field(default_factory=dict)  # source → Secrets Manager id


def resolve_target(args: Any, *, cloudformation: Any = None) -> Target:
    """`--url`/`--queue-url` win; else the deployed stack's outputs (`--stack`) or the local stack."""
    target = Target(endpoint_url=args.endpoint_url)
    if args.stack:
        outputs = stack_outputs(args.stack, cloudformation=cloudformation, endpoint_url=args.endpoint_url)
        target.base_url = stack_output(outputs, "ApiUrl", args.stack)
        target.queue_url = outputs.get("EventQueueUrl")
        target.secret_ids = {s: outputs[key] for s, key in SECRET_OUTPUT.items() if key in outputs}
    elif args.local:
        info = local_stack_info()
        target.base_url = info.get("front_door_url")
        target.queue_url = info.get("queue_url")
        target.endpoint_url = args.endpoint_url or info.get("aws_endpoint_url")
        secrets = info.get("secrets") or {}
        target.secret_ids = {s: secrets[lid] for s, lid in SECRET_LOGICAL_ID.items() if lid in secrets}
    target.base_url = args.url or target.base_url
    target.queue_url = args.queue_url or target.queue_url
    return target


def secrets_for(
    source: str,
    *,
    given: Sequence[str],
    target: Target,
    environ: dict[str, str] | None = None,
    secretsmanager: Any = None,
) -> list[str]:
    """The secrets to sign with: `--secret`, else the env variable, else the stack's own secret."""
    environ = dict(os.environ) if environ is None else environ
    if given:
        return list(given)
    from_env = split_secrets(environ.get(SECRET_ENV[source]))
    if from_env:
        return from_env
    secret_id = target.secret_ids.get(source)
    if secret_id:
        # Signing with the stack's secret (newest first), as the platform would sign.
        stored = split_secrets(
            read_secret(secret_id, secretsmanager=secretsmanager, endpoint_url=target.endpoint_url)
        )
        if stored:
            return stored[:1]
    raise CliError(
        f"no {source} secret to sign with: set {SECRET_ENV[source]}, pass --secret, or name the stack (--stack / --local)"
    )


# --- sending -----------------------------------------------------------------------------------------


def post(request: TestRequest, base_url: str, *, http: Any = None, timeout: float = 15.0) -> tuple[int, str]:
    """Send the request; the status and (the start of) the answer's body."""
    import httpx

    url = base_url.rstrip("/") + request.path
    try:
        if http is not None:
            response = http.request(request.method, url, content=request.body, headers=request.headers)
        else:
            with httpx.Client(timeout=timeout) as client:
                response = client.request(request.method, url, content=request.body, headers=request.headers)
    except httpx.HTTPError as exc:
        raise CliError(f"{request.method} {url} failed: {type(exc).__name__}: {exc}") from exc
    return response.status_code, response.text[:500]


def enqueue(
    message: QueueMessage, queue_url: str, *, sqs: Any = None, endpoint_url: str | None = None
) -> str:
    """SendMessage the message as a producer would; returns the SQS message id."""
    sqs = sqs or aws_client("sqs", endpoint_url)
    return str(sqs.send_message(QueueUrl=queue_url, MessageBody=message.body)["MessageId"])


# --- command line ----------------------------------------------------------------------------------


def add_parser(subparsers: Any) -> None:
    """Register `send` on the main CLI."""
    send = subparsers.add_parser(
        "send",
        help="send a signed test event to a deployed or local gateway",
        description="Send one test event, signed as Shopify/Stripe sign it. Secrets come from "
        "--secret, else SHOPIFY_WEBHOOK_SECRETS / STRIPE_WEBHOOK_SECRETS, else the stack's own secret.",
    )
    send.add_argument(
        "file", type=Path, help="an events/ file, a bare webhook/signup body, or a canonical event"
    )
    where = send.add_argument_group("where (one of)")
    where.add_argument(
        "--url",
        default=None,
        help="the gateway's base URL, e.g. https://abc.execute-api.../ or http://127.0.0.1:3000",
    )
    where.add_argument(
        "--stack", default=None, help="a deployed stack's name: its ApiUrl, EventQueueUrl and secrets"
    )
    where.add_argument("--local", action="store_true", help="the local stack started by `make run`")
    where.add_argument(
        "--queue-url", default=None, help="the event queue, for canonical events and envelopes"
    )
    send.add_argument("--source", choices=sorted(ROUTE_OF), default=None, help="who sends a bare body")
    send.add_argument("--topic", default=None, help="X-Shopify-Topic for a bare Shopify body")
    send.add_argument("--origin", default=None, help="Origin header for signup posts")
    send.add_argument(
        "--shop-domain", default=DEFAULT_SHOP_DOMAIN, help="X-Shopify-Shop-Domain for a bare body"
    )
    send.add_argument(
        "--secret",
        action="append",
        default=[],
        help="webhook secret to sign with (repeat for a Stripe roll); prefer the env variables, "
        "a command line lands in shell history",
    )
    send.add_argument(
        "--fresh-ids",
        action="store_true",
        help="new Shopify delivery ids / Stripe event id, so a resent file is not a duplicate",
    )
    send.add_argument("--no-sign", action="store_true", help="send an events/ file's headers as they are")
    send.add_argument("--dry-run", action="store_true", help="print the request instead of sending it")
    send.add_argument(
        "--endpoint-url", default=None, help="AWS endpoint (moto/LocalStack; default AWS_ENDPOINT_URL)"
    )
    send.set_defaults(handler=run)


def run(
    args: Any,
    *,
    out: TextIO | None = None,
    http: Any = None,
    sqs: Any = None,
    secretsmanager: Any = None,
    cloudformation: Any = None,
    clock: Callable[[], float] = time.time,
) -> int:
    """Run `send`; 0 when the gateway answered 2xx (or the message was queued), else 1."""
    out = out or sys.stdout
    what = load(
        args.file, source=args.source, topic=args.topic, origin=args.origin, shop_domain=args.shop_domain
    )
    target = resolve_target(args, cloudformation=cloudformation)
    if isinstance(what, QueueMessage):
        if not target.queue_url:
            raise CliError(
                f"a {what.kind} message goes on the event queue: pass --queue-url, --stack or --local"
            )
        if args.dry_run:
            out.write(f"SendMessage {target.queue_url}\n{what.body}\n")
            return 0
        message_id = enqueue(what, target.queue_url, sqs=sqs, endpoint_url=target.endpoint_url)
        out.write(f"queued {what.kind} message {message_id} on {target.queue_url}\n")
        return 0
    request = with_fresh_ids(what) if args.fresh_ids else what
    if needs_secret(request) and not args.no_sign:
        secrets = secrets_for(request.source, given=args.secret, target=target, secretsmanager=secretsmanager)
        request = sign(request, secrets, now=clock())
    if not target.base_url:
        raise CliError("no gateway to send to: pass --url, --stack or --local")
    label = f"{request.source} {request.topic}"
    if args.dry_run:
        out.write(f"{request.method} {target.base_url.rstrip('/')}{request.path}  ({label})\n")
        for name, value in sorted(request.headers.items()):
            out.write(f"{name}: {value}\n")
        out.write(f"\n{request.body.decode('utf-8', errors='replace')}\n")
        return 0
    status, answer = post(request, target.base_url, http=http)
    out.write(
        f"{request.method} {target.base_url.rstrip('/')}{request.path}  ({label}) → {status} {answer}\n"
    )
    return 0 if 200 <= status < 300 else 1
