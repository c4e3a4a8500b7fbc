"""Helpers for the source adapter tests: fixture files, envelopes, and one call to `adapt`.

A module with its own name (not only conftest) so that tests can import the helpers unambiguously."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from gateway_events import CanonicalEvent, Envelope
from processor.settings import MappingSettings
from processor.sources import adapt

FIXTURES = Path(__file__).parent / "fixtures"
RECEIVED_AT = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

Run = Callable[..., list[CanonicalEvent]]


def load_fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def make_envelope(source: str, topic: str, payload: Any, headers: dict[str, str] | None = None) -> Envelope:
    return Envelope(
        source=source,
        event_id=f"{source}-delivery-1",
        topic=topic,
        received_at=RECEIVED_AT,
        headers=headers or {},
        payload=payload if payload is not None else {},
    )


@pytest.fixture
def load() -> Callable[[str], Any]:
    return load_fixture


@pytest.fixture
def run() -> Run:
    """`run(source, topic, payload, headers=None, settings=None)` → the canonical events."""

    def _run(
        source: str,
        topic: str,
        payload: Any,
        headers: dict[str, str] | None = None,
        settings: MappingSettings | None = None,
    ) -> list[CanonicalEvent]:
        envelope = make_envelope(source, topic, payload, headers)
        return adapt(envelope, payload, settings or MappingSettings())

    return _run
