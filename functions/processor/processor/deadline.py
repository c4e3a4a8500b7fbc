"""The invocation's time budget, shared by everything in the processor that waits on a remote API.

Lambda stops a function at its timeout whatever it is doing; a batch cut off that way reports nothing,
so SQS retries every record of it, finished ones included, and innocent records climb towards the
DLQ. So no NOMI (or other API) retry may sleep past the invocation's remaining time minus a margin
in which the batch still answers: visibility changes for the failed records, the partial-batch
response, metrics.

One invocation runs at a time in a container, so one `Deadline`, `INVOCATION`, is set by the handler
and read by every record's thread and every client: the NOMI client takes its `seconds_left` (a plain
callable: `nomi_client` knows nothing of Lambda), the Shopify Admin API client `remaining_seconds`.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Any

RESPONSE_MARGIN_SECONDS = 3.0
"""Kept back for answering: a few AWS calls per failed record and the response (Lambda's default
30 s processor timeout leaves 27 s of work)."""


class Deadline:
    """Seconds left in the current invocation, minus the response margin; None outside one."""

    def __init__(
        self,
        *,
        margin_seconds: float = RESPONSE_MARGIN_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.margin_seconds = margin_seconds
        self._monotonic = monotonic
        self._ends_at: float | None = None
        self._lock = threading.Lock()

    def start(self, context: Any) -> None:
        """Begin an invocation: its end is now + `context.get_remaining_time_in_millis()` − margin."""
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        with self._lock:
            if remaining is None:
                self._ends_at = None
                return
            self._ends_at = self._monotonic() + remaining() / 1000 - self.margin_seconds

    def finish(self) -> None:
        with self._lock:
            self._ends_at = None

    def seconds_left(self) -> float | None:
        """What may still be spent (negative once past), or None when no invocation set a deadline."""
        with self._lock:
            ends_at = self._ends_at
        return None if ends_at is None else ends_at - self._monotonic()

    def expired(self) -> bool:
        left = self.seconds_left()
        return left is not None and left <= 0


INVOCATION = Deadline()
"""The current invocation's deadline (the handler starts and finishes it)."""


def remaining_seconds() -> float:
    """What the current invocation may still spend; unlimited outside one (CLI, tests)."""
    left = INVOCATION.seconds_left()
    return math.inf if left is None else left
