"""Contract tests of the NOMI client against the NOMI sandbox, over real HTTP on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from nomi_contract import SANDBOX_KEY

from nomi_client import NomiClient
from sandbox import FaultConfig, SandboxServer


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxServer]:
    with SandboxServer(api_key=SANDBOX_KEY, host="127.0.0.1", port=0) as server:
        yield server


@pytest.fixture
def sandbox(sandbox_server: SandboxServer) -> Iterator[SandboxServer]:
    """The shared sandbox, emptied and fault-free for each test."""
    sandbox_server.reset()
    sandbox_server.set_faults(FaultConfig())
    yield sandbox_server
    sandbox_server.set_faults(FaultConfig())


@pytest.fixture(scope="session")
def http_client() -> Iterator[httpx.Client]:
    """One connection pool for the whole run, as in production (and building one costs ~0.1 s)."""
    with httpx.Client() as pool:
        yield pool


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make_client(
    sandbox: SandboxServer, sleeps: list[float], http_client: httpx.Client
) -> Iterator[Callable[..., NomiClient]]:
    made: list[NomiClient] = []

    def make(**overrides: Any) -> NomiClient:
        options: dict[str, Any] = {
            "api_key": SANDBOX_KEY,
            "base_url": sandbox.url,
            "timeout": 2.0,
            "http_client": http_client,
            "sleep": sleeps.append,  # retries wait for nobody: the delays are recorded instead
            "jitter": lambda: 1.0,
        }
        options.update(overrides)
        client = NomiClient(**options)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., NomiClient]) -> NomiClient:
    return make_client()
