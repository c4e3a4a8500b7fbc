"""Faults and fast time for the chaos harness, applied at the seams of the running local stack.

Nothing here is deployed code: the harness swaps objects the functions already take from outside
(the ingest's cached SQS client, the processor's NOMI client, SQS client and clock).
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError


def chaos_client_error(operation: str) -> ClientError:
    return ClientError(
        {"Error": {"Code": "ServiceUnavailable", "Message": "chaos: injected SQS failure"}}, operation
    )


class FlakySqs:
    """The ingest's SQS client, failing a share of SendMessage calls.

    Half of the failures happen before the message reaches the queue; the other half after it (the
    queue has the event but the front door answers 5xx, so the sender delivers it again) — only for
    webhooks, whose redelivery carries the same id (a browser's retried signup is a new submission).
    """

    def __init__(self, inner: Any, *, rate: float, seed: int | None = None) -> None:
        self._inner = inner
        self.rate = rate
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self.failed_before = 0
        self.failed_after = 0

    def _draw(self) -> float:
        with self._lock:
            return self._random.random()

    def send_message(self, **kwargs: Any) -> Any:
        draw = self._draw()
        if draw < self.rate / 2:
            with self._lock:
                self.failed_before += 1
            raise chaos_client_error("SendMessage")
        answer = self._inner.send_message(**kwargs)
        source = kwargs.get("MessageAttributes", {}).get("source", {}).get("StringValue")
        if draw < self.rate and source in ("shopify", "stripe"):
            with self._lock:
                self.failed_after += 1
            raise chaos_client_error("SendMessage")
        return answer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class ShortVisibility:
    """The processor's SQS client with its retry backoff cut to `seconds`, or, while `scale` is set,
    divided by `scale` (at least a second): the schedule's shape kept, so that receives thin out
    with time as they do in AWS instead of racing through MaxReceiveCount at processing speed."""

    def __init__(self, inner: Any, *, seconds: int) -> None:
        self._inner = inner
        self.seconds = seconds
        self.scale: float | None = None
        self.delays_asked: list[int] = []

    def change_message_visibility(self, **kwargs: Any) -> Any:
        asked = int(kwargs.get("VisibilityTimeout", 0))
        self.delays_asked.append(asked)
        if self.scale:
            kwargs["VisibilityTimeout"] = max(1, math.ceil(asked / self.scale))
        else:
            kwargs["VisibilityTimeout"] = min(asked, self.seconds)
        return self._inner.change_message_visibility(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def short_sleep(cap: float) -> Callable[[float], None]:
    """The NOMI client's backoff sleep, capped: the policy is kept, the waiting is not."""

    def sleep(seconds: float) -> None:
        time.sleep(min(seconds, cap))

    return sleep


class ShiftedClock:
    """A UTC clock that can be moved forward (deliveries 'hours apart' in simulated time)."""

    def __init__(self, now: Callable[[], datetime]) -> None:
        self._now = now
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return self._now() + self.offset

    def advance(self, delta: timedelta) -> None:
        self.offset += delta
