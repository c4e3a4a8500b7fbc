"""The Shopify GraphQL Admin API transport: one place for timeouts, retries, the cost-based rate limit
and the invocation's time budget.

Shape as `nomi_client._transport` (one request loop that decides per failure whether to retry and how
long to wait; sleep, clock and jitter injectable), written for Shopify's rules:
- cost: every answer carries `extensions.cost.throttleStatus` (`maximumAvailable`,
  `currentlyAvailable`, `restoreRate` points/second). A `THROTTLED` error (HTTP 200, or 429) is
  waited out for `(requestedQueryCost - currentlyAvailable) / restoreRate` seconds; before each
  request the client also waits when the bucket it last saw, refilled since, cannot pay the cost the
  same query asked for last time, so it rarely gets throttled at all;
- time: `remaining_seconds()` is the time left to the caller (a Lambda invocation: its context).
  No sleep and no request timeout reaches past it: when the wait does not fit, the error is raised
  at once as transient, with `retry_after`, so that SQS redelivers the record later.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from processor.shopify_admin.errors import (
    ShopifyAuthError,
    ShopifyQueryError,
    ShopifyThrottledError,
    ShopifyTransientError,
)

logger = logging.getLogger("processor.shopify_admin")

DEFAULT_API_VERSION = "2026-07"
TIMEOUT_SECONDS = 10.0
CONNECT_TIMEOUT_SECONDS = 3.0
MAX_RETRIES = 3
INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
# Kept back from the budget for what follows the call (NOMI steps, the DLQ send, the response).
SAFETY_MARGIN_SECONDS = 2.0
_REDACTED = "***"


@dataclass(frozen=True)
class ThrottleStatus:
    """The cost bucket as Shopify last reported it, and when (the client's monotonic clock)."""

    maximum_available: float
    currently_available: float
    restore_rate: float
    read_at: float

    def available_at(self, now: float) -> float:
        refilled = self.currently_available + self.restore_rate * max(0.0, now - self.read_at)
        return min(self.maximum_available, refilled)

    def wait_for(self, cost: float, now: float) -> float:
        """Seconds until the bucket holds `cost` points (0 when it does now)."""
        missing = min(cost, self.maximum_available) - self.available_at(now)
        if missing <= 0 or self.restore_rate <= 0:
            return 0.0
        return missing / self.restore_rate


@dataclass(frozen=True)
class _Retry:
    """One failed attempt worth retrying: the error to raise if not, and how long to wait."""

    error: ShopifyTransientError
    delay: float


class AdminClient:
    """Sends GraphQL Admin API requests for one shop over one reused `httpx.Client`."""

    def __init__(
        self,
        *,
        shop_domain: str,
        access_token: str | Callable[[], str],
        api_version: str = DEFAULT_API_VERSION,
        base_url: str | None = None,
        timeout: float = TIMEOUT_SECONDS,
        max_retries: int = MAX_RETRIES,
        remaining_seconds: Callable[[], float] = lambda: math.inf,
        http_client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.shop_domain = shop_domain.strip().lower()
        # base_url points the client at a local imitation (shopify_sandbox); deployed it is the shop.
        self.base_url = (base_url or f"https://{self.shop_domain}").rstrip("/")
        self.api_version = api_version
        # A callable is read per request, so that a rotated secret is picked up without a restart.
        self._token = access_token if callable(access_token) else (lambda: access_token)
        self.timeout = timeout
        self.max_retries = max_retries
        self.remaining_seconds = remaining_seconds
        self._http = http_client if http_client is not None else httpx.Client()
        self._sleep = sleep
        self._clock = clock
        self._jitter = jitter
        self.throttle: ThrottleStatus | None = None
        self._last_cost: dict[str, float] = {}

    def __repr__(self) -> str:
        return f"AdminClient(shop_domain={self.shop_domain!r}, access_token={_REDACTED!r})"

    def close(self) -> None:
        self._http.close()

    def endpoint(self, api_version: str | None = None) -> str:
        return f"{self.base_url}/admin/api/{api_version or self.api_version}/graphql.json"

    # --- the request loop ------------------------------------------------------------------------

    def graphql(
        self, query: str, variables: dict[str, Any] | None = None, *, api_version: str | None = None
    ) -> dict[str, Any]:
        """The `data` of one GraphQL request, after the retry policy; raises a ShopifyAdminError."""
        body = json.dumps({"query": query, "variables": variables or {}}, separators=(",", ":")).encode()
        url = self.endpoint(api_version)
        for attempt in range(self.max_retries + 1):
            self._pace(query)
            outcome = self._attempt(url, body, query, attempt)
            if not isinstance(outcome, _Retry):
                return outcome
            if attempt == self.max_retries:
                raise outcome.error
            self._wait(outcome.delay, outcome.error)
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover

    def _attempt(self, url: str, body: bytes, query: str, attempt: int) -> dict[str, Any] | _Retry:
        timeout = self._request_timeout()
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "X-Shopify-Access-Token": self._token(),
        }
        try:
            response = self._http.post(url, content=body, headers=headers, timeout=timeout)
        except httpx.TimeoutException as exc:
            return _Retry(
                ShopifyTransientError(f"Shopify Admin API timed out: {type(exc).__name__}"),
                self._backoff(attempt),
            )
        except httpx.TransportError as exc:
            return _Retry(
                ShopifyTransientError(f"Shopify Admin API unreachable: {type(exc).__name__}"),
                self._backoff(attempt),
            )
        return self._interpret(response, query, attempt)

    def _interpret(self, response: httpx.Response, query: str, attempt: int) -> dict[str, Any] | _Retry:
        status = response.status_code
        if status in (401, 403):
            raise ShopifyAuthError(
                f"Shopify refused the Admin API access token for {self.shop_domain} ({status}): check the "
                "token secret and its scopes (read_orders, read_customers)"
            )
        payload = _json_or_none(response)
        cost = _cost(payload)
        if cost is not None:
            self._remember_cost(query, cost)
        if status == 429 or _has_code(payload, "THROTTLED"):
            delay = self._throttle_delay(cost, response.headers.get("retry-after"))
            return _Retry(
                ShopifyThrottledError("Shopify throttled the request (cost bucket empty)", retry_after=delay),
                delay,
            )
        if status >= 500:
            return _Retry(
                ShopifyTransientError(f"Shopify Admin API answered {status}"), self._backoff(attempt)
            )
        if status != 200 or not isinstance(payload, dict):
            raise ShopifyQueryError(f"Shopify Admin API answered {status} with no GraphQL body")
        errors = payload.get("errors")
        if errors:
            if _has_code(payload, "ACCESS_DENIED"):
                raise ShopifyAuthError(
                    f"Shopify denied access: {_messages(errors)} (token scopes: read_orders, read_customers)"
                )
            if _has_code(payload, "INTERNAL_SERVER_ERROR"):
                return _Retry(
                    ShopifyTransientError(f"Shopify internal error: {_messages(errors)}"),
                    self._backoff(attempt),
                )
            raise ShopifyQueryError(f"Shopify refused the query: {_messages(errors)}")
        data = payload.get("data")
        if not isinstance(data, dict):
            raise ShopifyQueryError("Shopify answered without data")
        return data

    # --- waiting -----------------------------------------------------------------------------------

    def _remember_cost(self, query: str, cost: dict[str, Any]) -> None:
        status = cost.get("throttleStatus")
        if isinstance(status, dict):
            # A malformed cost report only costs us the pacing.
            with contextlib.suppress(KeyError, TypeError, ValueError):
                self.throttle = ThrottleStatus(
                    maximum_available=float(status["maximumAvailable"]),
                    currently_available=float(status["currentlyAvailable"]),
                    restore_rate=float(status["restoreRate"]),
                    read_at=self._clock(),
                )
        requested = cost.get("requestedQueryCost")
        if isinstance(requested, int | float):
            self._last_cost[query] = float(requested)

    def _throttle_delay(self, cost: dict[str, Any] | None, retry_after: str | None) -> float:
        """How long until the bucket can pay for the throttled request (restore rate), else Retry-After."""
        requested = (cost or {}).get("requestedQueryCost")
        if self.throttle is not None and isinstance(requested, int | float):
            return max(0.1, self.throttle.wait_for(float(requested), self._clock()))
        try:
            return max(0.1, float(retry_after)) if retry_after else 1.0
        except ValueError:
            return 1.0

    def _pace(self, query: str) -> None:
        """Wait before sending when the bucket, refilled since last seen, cannot pay this query's cost."""
        expected = self._last_cost.get(query)
        if self.throttle is None or expected is None:
            return
        delay = self.throttle.wait_for(expected, self._clock())
        if delay > 0:
            self._wait(delay, ShopifyThrottledError("Shopify cost bucket is empty", retry_after=delay))

    def _wait(self, delay: float, error: ShopifyTransientError) -> None:
        """Sleep `delay` unless that would overrun the time budget: then raise `error` at once."""
        if delay + SAFETY_MARGIN_SECONDS > self.remaining_seconds():
            error.retry_after = max(error.retry_after or 0.0, delay)
            raise error
        logger.info("Shopify Admin API: waiting %.2fs (%s)", delay, error)
        self._sleep(delay)

    def _request_timeout(self) -> httpx.Timeout:
        left = self.remaining_seconds() - SAFETY_MARGIN_SECONDS
        if left <= 0:
            raise ShopifyTransientError("no time left in this invocation for a Shopify Admin API call")
        read = min(self.timeout, left)
        return httpx.Timeout(read, connect=min(CONNECT_TIMEOUT_SECONDS, read))

    def _backoff(self, attempt: int) -> float:
        # Exponential with full jitter, as nomi_client's policy.
        return min(MAX_RETRY_DELAY, INITIAL_RETRY_DELAY * 2**attempt) * min(1.0, max(0.0, self._jitter()))

    # --- files -------------------------------------------------------------------------------------

    def download_lines(self, url: str) -> Iterator[str]:
        """The lines of a bulk operation's result file. The URL is pre-signed: no token is sent with it."""
        try:
            with self._http.stream(
                "GET", url, timeout=httpx.Timeout(60.0, connect=CONNECT_TIMEOUT_SECONDS)
            ) as response:
                if response.status_code != 200:
                    raise ShopifyTransientError(f"bulk result file answered {response.status_code}")
                for line in response.iter_lines():
                    if line.strip():
                        yield line
        except httpx.HTTPError as exc:
            raise ShopifyTransientError(f"bulk result file download failed: {type(exc).__name__}") from exc


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (ValueError, UnicodeDecodeError):
        return None


def _cost(payload: Any) -> dict[str, Any] | None:
    if not isinstance(payload, dict):
        return None
    cost = (
        (payload.get("extensions") or {}).get("cost") if isinstance(payload.get("extensions"), dict) else None
    )
    return cost if isinstance(cost, dict) else None


def _has_code(payload: Any, code: str) -> bool:
    """Whether a GraphQL error carries `extensions.code == code`."""
    if not isinstance(payload, dict) or not isinstance(payload.get("errors"), list):
        return False
    return any(
        isinstance(e, dict) and isinstance(e.get("extensions"), dict) and e["extensions"].get("code") == code
        for e in payload["errors"]
    )


def _messages(errors: Any) -> str:
    if isinstance(errors, list):
        return "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors)[:500]
    return str(errors)[:500]
