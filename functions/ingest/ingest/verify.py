"""Webhook signature verification on the raw body bytes, before anything parses them.

Stripe's check is our own few lines of stdlib HMAC rather than `stripe.WebhookSignature`: importing
the `stripe` package costs ~0.5 s of cold start for 20 lines of arithmetic. The tests cross-check
these functions against the official package.
"""

from __future__ import annotations

import base64
import hmac
import time
from collections.abc import Sequence

STRIPE_SCHEME = "v1"  # v0 (and any other scheme) is not a live signature and is ignored


class SignatureVerificationError(Exception):
    """The request does not carry a valid signature for any of the configured secrets."""


def shopify_signature(body: bytes, secret: str) -> str:
    """`X-Shopify-Hmac-Sha256` for `body`: base64 of HMAC-SHA256 with the app's client secret."""
    return _shopify_signature_bytes(body, secret).decode("ascii")


def _shopify_signature_bytes(body: bytes, secret: str) -> bytes:
    # Bytes, as compared: no str round trip per request.
    return base64.b64encode(_hmac_sha256(secret.encode("utf-8"), body))


def _hmac_sha256(key: bytes, message: bytes) -> bytes:
    # hmac.digest with the digest's name is the one-shot HMAC of OpenSSL: no HMAC object is built.
    return hmac.digest(key, message, "sha256")


def verify_shopify(body: bytes, signature: str | None, secrets: Sequence[str]) -> None:
    """Accept `body` if `signature` matches any secret (several during a rotation), else raise."""
    if not signature:
        raise SignatureVerificationError("missing X-Shopify-Hmac-Sha256 header")
    if not secrets:
        raise SignatureVerificationError("no Shopify secret configured")
    received = signature.strip().encode("utf-8")
    # Compare bytes, not str: compare_digest refuses non-ASCII str, and a header is attacker-controlled.
    for secret in secrets:
        if hmac.compare_digest(_shopify_signature_bytes(body, secret), received):
            return
    raise SignatureVerificationError("X-Shopify-Hmac-Sha256 matches no configured secret")


def stripe_signature(body: bytes, secret: str, timestamp: int) -> str:
    """The hex `v1` signature Stripe computes over `"<timestamp>." + body`."""
    signed_payload = str(timestamp).encode("ascii") + b"." + body
    return _hmac_sha256(secret.encode("utf-8"), signed_payload).hex()


def stripe_signature_header(body: bytes, secrets: Sequence[str], timestamp: int) -> str:
    """A `Stripe-Signature` header as Stripe sends it: one `v1` per secret (two during a roll)."""
    signatures = ",".join(f"{STRIPE_SCHEME}={stripe_signature(body, s, timestamp)}" for s in secrets)
    return f"t={timestamp},{signatures}"


def parse_stripe_header(header: str) -> tuple[int, list[str]]:
    """The timestamp and the `v1` signatures of a `Stripe-Signature` header."""
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep:
            continue
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError as exc:
                raise SignatureVerificationError("Stripe-Signature timestamp is not an integer") from exc
        elif key == STRIPE_SCHEME:
            signatures.append(value.strip())
    if timestamp is None:
        raise SignatureVerificationError("Stripe-Signature has no timestamp")
    if not signatures:
        raise SignatureVerificationError(f"Stripe-Signature has no {STRIPE_SCHEME} signature")
    return timestamp, signatures


def verify_stripe(
    body: bytes,
    header: str | None,
    secrets: Sequence[str],
    *,
    tolerance: int,
    now: float | None = None,
) -> int:
    """Accept `body` if a `v1` signature matches any secret and is recent enough; return its timestamp.

    `now` (Unix seconds) is injectable so that recorded events verify in tests. As in Stripe's own
    libraries only age is limited: a timestamp in the future still needs a valid signature.
    """
    if tolerance <= 0:
        raise ValueError("tolerance must be a positive number of seconds")
    if not header:
        raise SignatureVerificationError("missing Stripe-Signature header")
    if not secrets:
        raise SignatureVerificationError("no Stripe secret configured")
    timestamp, received = parse_stripe_header(header)
    expected = [stripe_signature(body, s, timestamp).encode("ascii") for s in secrets]
    if not any(hmac.compare_digest(e, r.encode("utf-8")) for e in expected for r in received):
        raise SignatureVerificationError("Stripe-Signature matches no configured secret")
    current = time.time() if now is None else now
    if timestamp < current - tolerance:
        raise SignatureVerificationError(f"Stripe-Signature timestamp is older than {tolerance} s")
    return timestamp
