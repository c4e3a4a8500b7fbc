"""Helpers for the local stack's tests: waiting for a condition without timing anything."""

import time
from collections.abc import Callable
from typing import Any

import pytest


def _wait_for(condition: Callable[[], Any], *, timeout: float = 20.0, interval: float = 0.05) -> Any:
    """Poll `condition` until it returns something truthy; fail with its last value otherwise."""
    deadline = time.monotonic() + timeout
    value = condition()
    while not value and time.monotonic() < deadline:
        time.sleep(interval)
        value = condition()
    assert value, f"condition still false after {timeout} s"
    return value


@pytest.fixture
def wait_for() -> Callable[..., Any]:
    return _wait_for
