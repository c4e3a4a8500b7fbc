"""Keyed pseudonyms for phones and emails, so that what the gateway keeps names nobody.

DynamoDB keys, rate-limit counters and consent-receipt paths carry `pseudonym(...)` instead of a
phone or email: without the stack's secret (Secrets Manager, `IDENTITY_HASH_SECRET_NAME`) the value
cannot be guessed back from the hash, as a plain SHA-256 of a phone number can (the space is small).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Literal

IdentityKind = Literal["phone", "email", "ip"]


class IdentityKeyError(ValueError):
    """The pseudonym key is missing or too short to be a secret."""


MIN_KEY_BYTES = 16


def normalize_identity(kind: IdentityKind, value: str) -> str:
    """The form hashed: a phone as given (callers pass E.164), an email or IP stripped and lower-cased."""
    text = value.strip()
    return text if kind == "phone" else text.lower()


def pseudonym(kind: IdentityKind, value: str, *, key: bytes) -> str:
    """`<kind>:<hex>`: HMAC-SHA256 of the normalised value under the stack's key (64 hex digits)."""
    if len(key) < MIN_KEY_BYTES:
        raise IdentityKeyError(f"the pseudonym key must be at least {MIN_KEY_BYTES} bytes")
    message = f"{kind}:{normalize_identity(kind, value)}".encode()
    return f"{kind}:{hmac.new(key, message, hashlib.sha256).hexdigest()}"
