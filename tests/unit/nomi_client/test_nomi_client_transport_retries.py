"""Retry policy: which failures are retried, how long the client waits, and when it gives up."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from nomi_fake import FakeNomi, Sleeps, fail, ok

from nomi_client import NomiClient
from nomi_client._transport import MAX_RETRY_AFTER, backoff_delay, parse_retry_after
from nomi_client.errors import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    RateLimitError,
    ServerError,
)

BALANCE = "/account/balance"


def test_get_balance_after_two_503s_retries_and_succeeds(client: NomiClient, fake: FakeNomi) -> None:
    fake.on(BALANCE, fail(503), fail(503), ok({"balance": 7}))

    assert client.get_balance().balance == 7
    assert len(fake.calls(BALANCE)) == 3


def test_backoff_without_retry_after_doubles_from_half_a_second(
    client: NomiClient, fake: FakeNomi, sleeps: Sleeps
) -> None:
    fake.on(BALANCE, fail(500), fail(500), fail(500), ok({"balance": 1}))

    client.get_balance()

    assert sleeps.delays == [0.5, 1.0, 2.0]


def test_backoff_with_full_jitter_scales_the_ceiling_by_the_jitter_draw(
    make_client: Callable[..., NomiClient], fake: FakeNomi, sleeps: Sleeps
) -> None:
    fake.on(BALANCE, fail(500), fail(500), ok({"balance": 1}))
    draws = iter([0.25, 0.5])

    make_client(jitter=lambda: next(draws)).get_balance()

    assert sleeps.delays == [0.125, 0.5]


def test_backoff_delay_is_capped_at_eight_seconds() -> None:
    assert backoff_delay(10, None, lambda: 1.0) == 8.0


def test_retry_after_seconds_on_429_is_the_wait(client: NomiClient, fake: FakeNomi, sleeps: Sleeps) -> None:
    fake.on(BALANCE, fail(429, **{"Retry-After": "3"}), ok({"balance": 1}))

    client.get_balance()

    assert sleeps.delays == [3.0]


def test_retry_after_http_date_is_converted_to_seconds() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    header = format_datetime(now + timedelta(seconds=30), usegmt=True)

    assert parse_retry_after(header, now=now) == 30.0


def test_retry_after_longer_than_the_cap_is_capped(
    client: NomiClient, fake: FakeNomi, sleeps: Sleeps
) -> None:
    fake.on(BALANCE, fail(503, **{"Retry-After": "3600"}), ok({"balance": 1}))

    client.get_balance()

    assert sleeps.delays == [MAX_RETRY_AFTER]


def test_retry_after_unreadable_falls_back_to_backoff() -> None:
    assert parse_retry_after("soon") is None


def test_retry_after_in_the_past_means_no_wait() -> None:
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


def test_429_after_max_retries_raises_rate_limit_error_with_retry_after(
    make_client: Callable[..., NomiClient], fake: FakeNomi, sleeps: Sleeps
) -> None:
    fake.on(BALANCE, fail(429, "slow down", **{"Retry-After": "2"}))

    with pytest.raises(RateLimitError) as caught:
        make_client(max_retries=2).get_balance()

    assert (caught.value.retry_after, caught.value.retryable) == (2.0, True)
    assert len(fake.calls(BALANCE)) == 3
    assert sleeps.delays == [2.0, 2.0]


def test_500_after_max_retries_raises_server_error(client: NomiClient, fake: FakeNomi) -> None:
    fake.on(BALANCE, fail(500))

    with pytest.raises(ServerError):
        client.get_balance()

    assert len(fake.calls(BALANCE)) == 4  # 1 + max_retries (3)


def test_max_retries_zero_makes_a_single_attempt(
    make_client: Callable[..., NomiClient], fake: FakeNomi, sleeps: Sleeps
) -> None:
    fake.on(BALANCE, fail(503))

    with pytest.raises(ServerError):
        make_client(max_retries=0).get_balance()

    assert (len(fake.calls(BALANCE)), sleeps.delays) == (1, [])


def test_read_timeout_is_retried_for_an_idempotent_call(client: NomiClient, fake: FakeNomi) -> None:
    fake.on(BALANCE, httpx.ReadTimeout("timed out"), ok({"balance": 1}))

    assert client.get_balance().balance == 1


def test_timeouts_until_max_retries_raise_api_timeout_error(client: NomiClient, fake: FakeNomi) -> None:
    fake.on(BALANCE, httpx.ReadTimeout("timed out"))

    with pytest.raises(APITimeoutError) as caught:
        client.get_balance()

    assert caught.value.retryable is True
    assert isinstance(caught.value.__cause__, httpx.ReadTimeout)


def test_connect_errors_until_max_retries_raise_api_connection_error(
    client: NomiClient, fake: FakeNomi
) -> None:
    fake.on(BALANCE, httpx.ConnectError("refused"))

    with pytest.raises(APIConnectionError):
        client.get_balance()

    assert len(fake.calls(BALANCE)) == 4


def test_401_is_not_retried(client: NomiClient, fake: FakeNomi, sleeps: Sleeps) -> None:
    fake.on(BALANCE, httpx.Response(401))

    with pytest.raises(AuthenticationError):
        client.get_balance()

    assert (len(fake.calls(BALANCE)), sleeps.delays) == (1, [])


def test_timeout_is_set_on_every_request(make_client: Callable[..., NomiClient], fake: FakeNomi) -> None:
    fake.on(BALANCE, ok({"balance": 1}))

    make_client(timeout=2.5).get_balance()

    assert fake.requests[0].extensions["timeout"] == {"connect": 2.5, "read": 2.5, "write": 2.5, "pool": 2.5}


def test_one_http_client_is_reused_across_calls(
    make_client: Callable[..., NomiClient], fake: FakeNomi
) -> None:
    transport = httpx.MockTransport(fake)
    shared = httpx.Client(transport=transport)
    fake.on(BALANCE, ok({"balance": 1}))
    client = make_client(http_client=shared)

    client.get_balance()
    client.get_balance()
    client.close()

    assert len(fake.requests) == 2
    assert not shared.is_closed  # a caller's client stays the caller's to close
