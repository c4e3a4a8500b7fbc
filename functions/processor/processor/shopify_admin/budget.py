"""The time the current invocation has left, for Admin API calls (no sleep or timeout may outlast it).

Set once per invocation by the handler from the Lambda context; outside Lambda (CLI, tests) the
budget is unlimited unless a caller passes its own `remaining_seconds` to the client.
"""

from __future__ import annotations

import math
from collections.abc import Callable

_remaining: Callable[[], float] = lambda: math.inf  # noqa: E731 - replaced per invocation


def set_time_budget(remaining_seconds: Callable[[], float]) -> None:
    """Tell Admin API calls how long the current invocation has left (seconds)."""
    global _remaining
    _remaining = remaining_seconds


def remaining_seconds() -> float:
    return _remaining()
