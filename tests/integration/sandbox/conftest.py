"""Fixtures: a fresh sandbox on a free loopback port per test, and an httpx client for it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sandbox_helpers import API_KEY, loopback_client

from sandbox import SandboxServer


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(api_key=API_KEY, host="127.0.0.1", port=0, seed=7) as server:
        yield server


@pytest.fixture
def nomi(sandbox: SandboxServer) -> Iterator[httpx.Client]:
    """A client that authenticates the documented way: `apikey` as a query parameter."""
    with loopback_client(sandbox.url, params={"apikey": API_KEY}) as client:
        yield client


@pytest.fixture
def http(sandbox: SandboxServer) -> Iterator[httpx.Client]:
    """A client without the key: for /_sandbox/*, /conversion and the 401 cases."""
    with loopback_client(sandbox.url) as client:
        yield client
