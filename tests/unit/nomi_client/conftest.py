"""Fixtures of the client's unit tests: a client wired to the in-memory fake (`nomi_fake.py`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from nomi_fake import API_KEY, BASE_URL, FakeNomi, Sleeps

from nomi_client import NomiClient


@pytest.fixture
def fake() -> FakeNomi:
    return FakeNomi()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def make_client(fake: FakeNomi, sleeps: Sleeps) -> Iterator[Callable[..., NomiClient]]:
    made: list[NomiClient] = []

    def make(**overrides: Any) -> NomiClient:
        options: dict[str, Any] = {
            "api_key": API_KEY,
            "base_url": BASE_URL,
            "http_client": httpx.Client(transport=httpx.MockTransport(fake)),
            "sleep": sleeps,
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
