"""Helpers of the client's contract tests (a module of its own: `conftest` is not importable by name
when several test folders have one)."""

from __future__ import annotations

from typing import Any

from sandbox import SandboxServer

SANDBOX_KEY = "test-key"


def nomi_requests(sandbox: SandboxServer, path: str | None = None) -> list[dict[str, Any]]:
    """What the sandbox received (key already redacted by the sandbox), optionally for one path."""
    return [r for r in sandbox.state.request_log() if path is None or r["path"] == path]
