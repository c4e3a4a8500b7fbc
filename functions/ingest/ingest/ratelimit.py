"""Abuse limits of the signup route: accepted signups per phone and per client IP, per window.

One DynamoDB round trip per signup whatever the number of limits: a TransactWriteItems of one
conditional `ADD hits :one` per limit, so either every counter takes the signup or none does (a
signup refused for its IP does not use up its phone's allowance). Counters live in aligned windows
of `window_seconds` (key = pseudonym + window number) and expire by TTL one window after theirs
ends. Aligned windows bound a burst straddling a boundary at twice the limit within one window's
length; that is the price of one round trip (a sliding log needs a read first).

Keys never hold a phone or an IP: `gateway_events.identity.pseudonym` with the stack's
IdentityHashKey. Imported on the first signup only (webhooks never load it).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from gateway_events.identity import IdentityKind, pseudonym
from ingest.enqueue import CLIENT_CONFIG


class RateLimitUnavailableError(RuntimeError):
    """The counters could not be read or written (the visitor is asked to retry: 503)."""


@dataclass(frozen=True)
class Limit:
    """At most `limit` accepted signups per window for one identity (0 = no limit)."""

    kind: IdentityKind
    value: str
    limit: int


@dataclass(frozen=True)
class LimitExceeded:
    """The signup is over a limit: which kind, and seconds until its window ends."""

    kind: IdentityKind
    retry_after: int


@cache
def get_dynamodb_client() -> Any:
    return boto3.client("dynamodb", config=CLIENT_CONFIG)


def counter_key(limit: Limit, *, window: int, key: bytes) -> str:
    return f"signup-limit#{pseudonym(limit.kind, limit.value, key=key)}#{window}"


def take(
    limits: list[Limit],
    *,
    table: str,
    window_seconds: int,
    now: float,
    key: bytes,
    client: Any = None,
) -> LimitExceeded | None:
    """Count one accepted signup against every limit, or none if any is full (then say which)."""
    active = [limit for limit in limits if limit.limit > 0 and limit.value]
    if not active:
        return None
    window = int(now // window_seconds)
    retry_after = max(1, (window + 1) * window_seconds - int(now))
    expiration = (window + 2) * window_seconds  # TTL deletes lazily; the window number keeps it exact
    items = [
        {
            "Update": {
                "TableName": table,
                "Key": {"id": {"S": counter_key(limit, window=window, key=key)}},
                "UpdateExpression": "ADD hits :one SET expiration = if_not_exists(expiration, :exp)",
                "ConditionExpression": "attribute_not_exists(hits) OR hits < :limit",
                "ExpressionAttributeValues": {
                    ":one": {"N": "1"},
                    ":limit": {"N": str(limit.limit)},
                    ":exp": {"N": str(expiration)},
                },
            }
        }
        for limit in active
    ]
    try:
        (client or get_dynamodb_client()).transact_write_items(TransactItems=items)
    except ClientError as exc:
        full = _full_limits(exc, active)
        if full:
            return LimitExceeded(kind=full[0].kind, retry_after=retry_after)
        raise RateLimitUnavailableError(f"signup counters unavailable: {_code(exc)}") from exc
    except BotoCoreError as exc:
        raise RateLimitUnavailableError(f"signup counters unavailable: {type(exc).__name__}") from exc
    return None


def _full_limits(exc: ClientError, limits: list[Limit]) -> list[Limit]:
    """The limits whose condition failed, from a cancelled transaction's reasons (in item order)."""
    if _code(exc) != "TransactionCanceledException":
        return []
    codes = [reason.get("Code") for reason in exc.response.get("CancellationReasons") or []]
    if not codes:
        # Some endpoints give the reasons only in the message: "... [ConditionalCheckFailed, None]".
        message = str(exc.response.get("Error", {}).get("Message", ""))
        listed = message[message.rfind("[") + 1 : message.rfind("]")] if "[" in message else ""
        codes = [code.strip() for code in listed.split(",")]
    return [limit for limit, code in zip(limits, codes, strict=False) if code == "ConditionalCheckFailed"]


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "Unknown"))
