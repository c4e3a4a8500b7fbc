"""The ingest function: `POST /webhooks/shopify`, `POST /webhooks/stripe`, `POST /signup`.

Verify (or validate), wrap in the envelope, queue, answer - and answer 2xx only once SQS took it.
Routing is a dict rather than Powertools' APIGatewayHttpResolver: three fixed routes do not repay
the resolver's ~50 ms of import time, and the signup route's per-origin CORS/403 rules are ours anyway.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from gateway_events.topics import SHOPIFY_TOPICS, STRIPE_EVENT_TYPES
from gateway_events.wire import EnvelopeWriteError, OutgoingEnvelope
from ingest.config import (
    ConfigError,
    IngestConfig,
    SecretsUnavailableError,
    get_config,
    get_secret_text,
    get_webhook_secrets,
)
from ingest.enqueue import EnqueueError, enqueue
from ingest.http import BadRequestError, Request, json_response, request_from_event
from ingest.observe import EmfMetrics, JsonLogger
from ingest.verify import SignatureVerificationError, verify_shopify, verify_stripe

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from ingest.ratelimit import LimitExceeded
    from ingest.signup import SignupForm

# Powertools' log line and EMF formats, written without Powertools (ingest.observe says why).
logger = JsonLogger()
metrics = EmfMetrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "NomiGateway"))

# Injectable for tests that replay recorded (time-bound) Stripe signatures.
wall_clock: Callable[[], float] = time.time

SHOPIFY_KEPT_HEADERS = (
    "x-shopify-topic",
    "x-shopify-shop-domain",
    "x-shopify-webhook-id",
    "x-shopify-event-id",
    "x-shopify-triggered-at",
    "x-shopify-api-version",
    "x-shopify-name",
)

Answer = dict[str, Any]


class MalformedRequestError(ValueError):
    """A signed request whose content is not what the source promises (400)."""


def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Answer:
    # The correlation id is what Powertools' correlation_paths.API_GATEWAY_HTTP selects.
    logger.start(context, correlation_id=(event.get("requestContext") or {}).get("requestId"))
    try:
        return route(request_from_event(event))
    finally:
        metrics.flush()  # also when the handler raises, as Powertools' log_metrics does
        logger.flush()


def route(request: Request) -> Answer:
    """Dispatch on path and method; map the failures every route shares to their status."""
    methods = ROUTES.get(request.path)
    if methods is None:
        count("Unrouted", "none")
        return json_response(404, {"error": "not found"})
    handler = methods.get(request.method)
    if handler is None:
        count("Unrouted", "none")
        return json_response(405, {"error": "method not allowed"}, {"allow": ", ".join(methods)})
    try:
        return handler(request)
    except (BadRequestError, MalformedRequestError) as exc:
        logger.warning("malformed request", extra={"path": request.path, "reason": str(exc)})
        count("Malformed", route_name(request))
        return json_response(400, {"status": "invalid", "error": str(exc)})
    except ConfigError:
        logger.exception("ingest is misconfigured")
        count("Misconfigured", route_name(request))
        return json_response(500, {"status": "error", "error": "gateway misconfigured"})
    except (SecretsUnavailableError, EnqueueError) as exc:
        # The sender retries a 5xx: Shopify for 4 hours, Stripe for 3 days.
        logger.error("event not stored; asking the sender to retry", extra={"reason": str(exc)})
        count("EnqueueFailed", route_name(request))
        return json_response(503, {"status": "error", "error": "temporarily unavailable, retry later"})


def handle_shopify(request: Request) -> Answer:
    config = get_config()
    body = request.body()
    signature = request.header("x-shopify-hmac-sha256")
    try:
        if not signature:
            raise SignatureVerificationError("missing X-Shopify-Hmac-Sha256 header")
        verify_shopify(body, signature, get_webhook_secrets(config.shopify_secret_name))
    except SignatureVerificationError as exc:
        return reject_signature("shopify", exc)
    topic = required_header(request, "x-shopify-topic")
    webhook_id = required_header(request, "x-shopify-webhook-id")
    text = request.json_text()
    payload = parse_json_object(body, text)
    if topic not in SHOPIFY_TOPICS:
        return ignore("shopify", topic, webhook_id)
    headers = {name: request.headers[name] for name in SHOPIFY_KEPT_HEADERS if name in request.headers}
    envelope = build_envelope(
        source="shopify", event_id=webhook_id, topic=topic, request=request, headers=headers, payload=payload
    )
    return queue(envelope, body, text)


def handle_stripe(request: Request) -> Answer:
    config = get_config()
    body = request.body()
    header = request.header("stripe-signature")
    try:
        if not header:
            raise SignatureVerificationError("missing Stripe-Signature header")
        secrets = get_webhook_secrets(config.stripe_secret_name)
        verify_stripe(body, header, secrets, tolerance=config.stripe_tolerance_seconds, now=wall_clock())
    except SignatureVerificationError as exc:
        return reject_signature("stripe", exc)
    text = request.json_text()
    event = parse_json_object(body, text)
    event_id, event_type = event.get("id"), event.get("type")
    if not isinstance(event_id, str) or not event_id or not isinstance(event_type, str) or not event_type:
        raise MalformedRequestError("a Stripe event needs a string `id` and `type`")
    if event_type not in STRIPE_EVENT_TYPES:
        return ignore("stripe", event_type, event_id)
    envelope = build_envelope(
        source="stripe", event_id=event_id, topic=event_type, request=request, headers={}, payload=event
    )
    return queue(envelope, body, text)


def handle_signup(request: Request) -> Answer:
    from ingest import signup  # here, not at the top: webhooks need not pay for phonenumbers' import

    config = get_config()
    cors = signup.cors_headers(request.header("origin"), config.signup_allowed_origins)
    refusal = refuse_signup(request, config, cors)
    if refusal is not None:
        return refusal
    try:
        fields = signup.parse_body(request.body(), request.header("content-type"))
        if signup.is_honeypot_filled(fields):
            return drop_honeypot(cors)
        form = signup.validate_signup(
            fields,
            default_region=config.default_phone_region,
            consent_texts=config.signup_consent_texts,
            email_consent_texts=config.signup_email_consent_texts,
        )
        check_captcha(fields, request, config)
        exceeded = take_signup_limits(form, request, config)
        if exceeded is not None:
            count("RateLimited", "signup")
            headers = {**cors, "retry-after": str(exceeded.retry_after)}
            return json_response(429, {"error": "too many signups, try again later"}, headers)
        reference = queue_signup(form, request)
    except signup.SignupBodyError as exc:
        count("Invalid", "signup")
        return json_response(exc.status, {"errors": [{"field": "body", "message": str(exc)}]}, cors)
    except signup.SignupValidationError as exc:
        count("Invalid", "signup")
        return json_response(400, {"errors": exc.errors}, cors)
    except SignupRefusedError as exc:
        count("CaptchaFailed", "signup")
        return json_response(400, {"errors": [{"field": "captcha", "message": str(exc)}]}, cors)
    except (EnqueueError, SecretsUnavailableError, SignupDependencyError) as exc:
        logger.error("signup not stored", extra={"reason": str(exc)})
        count("EnqueueFailed", "signup")
        return json_response(503, {"error": "temporarily unavailable, please try again"}, cors)
    return json_response(202, {"status": "accepted", "reference": reference}, cors)


class SignupRefusedError(ValueError):
    """The CAPTCHA was missing or not accepted (400, field `captcha`)."""


class SignupDependencyError(RuntimeError):
    """A service the signup needs (counters, CAPTCHA provider) did not answer (503)."""


def check_captcha(fields: dict[str, Any], request: Request, config: IngestConfig) -> None:
    """The provider's verdict on the form's CAPTCHA token, when a provider is configured."""
    if config.signup_captcha_provider == "none":
        return
    from ingest import captcha  # only deployments with a CAPTCHA load httpx here

    try:
        captcha.verify(
            fields,
            provider=config.signup_captcha_provider,
            secret=get_secret_text(str(config.signup_captcha_secret_name)),
            remote_ip=request.source_ip,
            verify_url=config.signup_captcha_verify_url,
        )
    except captcha.CaptchaRejectedError as exc:
        raise SignupRefusedError(str(exc)) from exc
    except captcha.CaptchaUnavailableError as exc:
        raise SignupDependencyError(str(exc)) from exc


def take_signup_limits(form: SignupForm, request: Request, config: IngestConfig) -> LimitExceeded | None:
    """Count the signup against its phone's and its IP's limits (None: within both)."""
    if not config.signup_limit_table:
        return None
    from ingest import ratelimit

    limits = [
        ratelimit.Limit("phone", form.phone or "", config.signup_limit_per_phone),
        ratelimit.Limit("ip", request.source_ip or "", config.signup_limit_per_ip),
    ]
    key = get_secret_text(str(config.identity_hash_secret_name)).encode("utf-8")
    try:
        return ratelimit.take(
            limits,
            table=config.signup_limit_table,
            window_seconds=config.signup_limit_window_seconds,
            now=wall_clock(),
            key=key,
        )
    except (ratelimit.RateLimitUnavailableError, ValueError) as exc:
        # ValueError: an IdentityHashKey too short to be a key is a broken stack, not a bad signup.
        raise SignupDependencyError(str(exc)) from exc


def refuse_signup(request: Request, config: IngestConfig, cors: dict[str, str]) -> Answer | None:
    """403 without an Origin or for one off the allowlist, 413 for a body over the limit (before
    decoding it).

    The 403 carries no CORS headers: API Gateway's CORS configuration would drop them anyway, and a
    page of another site has no business reading our answers. The log line names the origin (a
    site's, not a person's), so whoever set up the form sees what to add to the allowlist.
    """
    from ingest import signup

    origin = request.header("origin")
    if not signup.origin_allowed(origin, config.signup_allowed_origins):
        reason = "no Origin header" if origin is None else "origin not on SIGNUP_ALLOWED_ORIGINS"
        logger.warning("signup refused: " + reason, extra={"origin": origin})
        count("Rejected", "signup")
        return json_response(403, {"error": "origin not allowed" if origin else "Origin header required"})
    limit = config.signup_max_body_bytes
    if request.encoded_size > limit + 4 or len(request.body()) > limit:
        count("TooLarge", "signup")
        return json_response(413, {"error": "body too large", "max_bytes": limit}, cors)
    return None


def drop_honeypot(cors: dict[str, str]) -> Answer:
    """Answer as if accepted, so the bot learns nothing; queue nothing."""
    from ingest import signup

    logger.info("signup honeypot filled; dropped")  # no IP: it is personal data
    count("Honeypot", "signup")
    return json_response(202, {"status": "accepted", "reference": signup.new_reference()}, cors)


def queue_signup(form: SignupForm, request: Request) -> str:
    """Queue the validated signup with what the server observed; return its reference."""
    from ingest import signup

    reference = signup.new_reference()
    payload = signup.build_payload(
        form,
        reference=reference,
        ip_address=request.source_ip,
        user_agent=request.user_agent,
        origin=request.header("origin"),
        referer=request.header("referer"),
        received_at=request.received_at,
    )
    envelope = build_envelope(
        source="signup",
        event_id=reference,
        topic="signup",
        request=request,
        headers={},
        payload=payload.model_dump(mode="json", exclude_none=True),
    )
    queue(envelope, envelope_payload_bytes(envelope))
    return reference


def handle_signup_preflight(request: Request) -> Answer:
    """CORS preflight, for stacks without API Gateway's CorsConfiguration in front (sam local)."""
    from ingest import signup

    origin = request.header("origin")
    cors = signup.cors_headers(origin, get_config().signup_allowed_origins)
    count("Preflight", "signup")
    if not cors:
        return json_response(403, {"error": "origin not allowed"})
    return {"statusCode": 204, "headers": cors, "body": "", "isBase64Encoded": False}


ROUTES: dict[str, dict[str, Callable[[Request], Answer]]] = {
    "/webhooks/shopify": {"POST": handle_shopify},
    "/webhooks/stripe": {"POST": handle_stripe},
    "/signup": {"POST": handle_signup, "OPTIONS": handle_signup_preflight},
}


def required_header(request: Request, name: str) -> str:
    value = (request.header(name) or "").strip()
    if not value:
        raise MalformedRequestError(f"missing {name} header")
    return value


def parse_json_object(body: bytes, text: str | None = None) -> dict[str, Any]:
    """json.loads, and nothing more: the processor owns the payload's shape. `text`, when given, is
    the body's JSON text (`Request.json_text`): parsed as is, rather than decoding the bytes again."""
    try:
        data = json.loads(body if text is None else text)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        # RecursionError: JSON nested deeper than Python's recursion limit is bad input, not a crash.
        raise MalformedRequestError("body is not valid JSON") from exc
    if not isinstance(data, dict):
        raise MalformedRequestError("body is not a JSON object")
    return data


def build_envelope(
    *, source: str, event_id: str, topic: str, request: Request, headers: dict[str, str], payload: Any
) -> OutgoingEnvelope:
    try:
        return OutgoingEnvelope(
            source=source,  # type: ignore[arg-type]
            event_id=event_id,
            topic=topic,
            received_at=request.received_at,
            headers=headers,
            payload=payload,
            # What consent receipts cite: the request exactly as the sender made it.
            body_sha256=hashlib.sha256(request.body()).hexdigest(),
        )
    except EnvelopeWriteError as exc:
        raise MalformedRequestError(f"cannot form an envelope: {exc}") from exc


def envelope_payload_bytes(envelope: OutgoingEnvelope) -> bytes:
    return json.dumps(envelope.payload, separators=(",", ":")).encode("utf-8")


def queue(envelope: OutgoingEnvelope, payload_bytes: bytes, payload_text: str | None = None) -> Answer:
    """Enqueue and answer 200; EnqueueError propagates (→ 503). `payload_text`: the JSON text of
    `payload_bytes` (`raw_json_text`), when the caller has it (saves decoding them again)."""
    config = get_config()
    result = enqueue(
        envelope,
        payload_bytes=payload_bytes,
        payload_text=payload_text,
        queue_url=config.queue_url,
        bucket=config.payload_bucket,
        max_message_bytes=config.sqs_max_message_bytes,
    )
    logger.info(
        "event queued",
        extra={
            "source": envelope.source,
            "topic": envelope.topic,
            "event_id": envelope.event_id,
            "message_id": result.message_id,
            "claim_checked": result.claim_checked,
        },
    )
    count("ClaimChecked" if result.claim_checked else "Queued", envelope.source)
    return json_response(200, {"status": "queued", "event_id": envelope.event_id})


def reject_signature(source: str, exc: SignatureVerificationError) -> Answer:
    logger.warning("signature verification failed", extra={"source": source, "reason": str(exc)})
    count("Unauthorized", source)
    return json_response(401, {"status": "rejected", "error": "invalid signature"})


def ignore(source: str, topic: str, event_id: str) -> Answer:
    # 200, not an error: an error would only make the sender retry, then disable the subscription.
    logger.info("topic not handled; ignored", extra={"source": source, "topic": topic, "event_id": event_id})
    count("Ignored", source)
    return json_response(200, {"status": "ignored", "event_id": event_id, "topic": topic})


def route_name(request: Request) -> str:
    return request.path.rsplit("/", 1)[-1]


def count(metric: str, source: str) -> None:
    metrics.count(metric, source)
