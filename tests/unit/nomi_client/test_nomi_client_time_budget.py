"""The caller's time budget (`time_left`): no retry sleeps, and no attempt waits, past what is left.

A Lambda that sleeps 3 × 60 s for a `Retry-After: 60` inside a 30 s timeout is killed, and its whole
batch is retried; with a budget the failure is raised at once, carrying `retry_after`, so the queue
waits instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from nomi_fake import FakeNomi, Sleeps, fail, ok

from nomi_client import NomiClient
from nomi_client.errors import AmbiguousSendError, DeadlineExceededError, RateLimitError, ServerError

BALANCE = "/account/balance"
CREATE = "/messages/create"
LOOKUP = "/messages/lookup"


@dataclass
class Budget:
    """A time budget that the client's sleeps spend, as a wall clock would."""

    left: float

    def __call__(self) -> float:
        return self.left

    def sleep(self, seconds: float) -> None:
        self.left -= seconds


def test_retry_after_longer_than_time_left_raises_at_once_with_retry_after(
    make_client: Callable[..., NomiClient], fake: FakeNomi, sleeps: Sleeps
) -> None:
    fake.on(BALANCE, fail(429, **{"Retry-After": "60"}), ok({"balance": 1}))
    client = make_client(time_left=lambda: 12.0)

    with pytest.raises(RateLimitError) as caught:
        client.get_balance()

    assert (caught.value.retry_after, sleeps.delays, len(fake.calls(BALANCE))) == (60.0, [], 1)


def test_retry_after_within_time_left_is_waited_and_retried(
    make_client: Callable[..., NomiClient], fake: FakeNomi, sleeps: Sleeps
) -> None:
    fake.on(BALANCE, fail(429, **{"Retry-After": "3"}), ok({"balance": 1}))

    assert make_client(time_left=lambda: 30.0).get_balance().balance == 1
    assert sleeps.delays == [3.0]


def test_backoff_sleeps_never_add_up_past_the_budget(
    make_client: Callable[..., NomiClient], fake: FakeNomi
) -> None:
    budget = Budget(left=2.0)
    fake.on(BALANCE, fail(500))
    client = make_client(time_left=budget, sleep=budget.sleep, max_retries=10)

    with pytest.raises(ServerError):
        client.get_balance()

    # 0.5 and 1.0 fit (each leaves time for an attempt); 2.0 does not.
    assert (budget.left, len(fake.calls(BALANCE))) == (0.5, 3)


def test_attempt_timeout_is_shortened_to_the_time_left(
    make_client: Callable[..., NomiClient], fake: FakeNomi
) -> None:
    fake.on(BALANCE, ok({"balance": 1}))

    make_client(time_left=lambda: 4.0, timeout=10.0).get_balance()

    assert fake.calls(BALANCE)[0].extensions["timeout"]["read"] == 4.0


def test_no_time_left_sends_nothing_and_raises_deadline_exceeded(
    make_client: Callable[..., NomiClient], fake: FakeNomi
) -> None:
    fake.on(CREATE, ok())

    with pytest.raises(DeadlineExceededError):
        make_client(time_left=lambda: 0.1).send_message(contact_id=7, message="Hi")

    assert fake.calls(CREATE) == []


def test_safe_send_does_not_wait_to_resend_past_the_time_left(
    make_client: Callable[..., NomiClient], fake: FakeNomi, sleeps: Sleeps
) -> None:
    fake.on(CREATE, fail(503), ok())
    fake.on(LOOKUP, ok({"messages": [], "total_messages": 0, "per_page": 100, "current_page": 1}))

    with pytest.raises(AmbiguousSendError):
        make_client(time_left=lambda: 0.6, jitter=lambda: 1.0).send_message_safely(contact_id=7, message="Hi")

    assert (len(fake.calls(CREATE)), sleeps.delays) == (1, [])


def test_without_a_budget_the_client_keeps_its_timeout(client: NomiClient, fake: FakeNomi) -> None:
    fake.on(BALANCE, ok({"balance": 1}))

    client.get_balance()

    assert fake.calls(BALANCE)[0].extensions["timeout"]["read"] == 10.0
