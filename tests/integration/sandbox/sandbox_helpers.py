"""Helpers shared by the sandbox tests (a unique module name: test dirs have no __init__.py)."""

from __future__ import annotations

from typing import Any

import httpx

API_KEY = "sandbox-test-key"


def loopback_client(base_url: str, **options: Any) -> httpx.Client:
    """A client for plain HTTP on 127.0.0.1: no TLS context and no proxy lookup (each costs ~70 ms)."""
    options.setdefault("timeout", 5.0)
    return httpx.Client(base_url=base_url, verify=False, trust_env=False, **options)  # noqa: S501 - plain http


def multipart(fields: dict[str, str | list[str]]) -> list[tuple[str, tuple[None, str]]]:
    """NOMI's wire format: multipart form-data, one text part per field (lists repeat the name)."""
    parts: list[tuple[str, tuple[None, str]]] = []
    for name, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            parts.append((name, (None, item)))
    return parts


def post(client: httpx.Client, path: str, fields: dict[str, Any]) -> httpx.Response:
    return client.post(path, files=multipart(fields))


def create_contact(client: httpx.Client, phone: str = "4155552671", **fields: Any) -> dict[str, Any]:
    response = post(client, "/contacts/create", {"phone": phone, **fields})
    assert response.status_code == 200, response.text
    return response.json()["data"]


SMS_OPT_IN = {
    "sms_consent[status]": "subscribed",
    "sms_consent[timestamp]": "2026-01-15T10:30:00Z",
    "sms_consent[source]": "webform",
    "sms_consent[consent_text]": "I agree to receive SMS marketing messages.",
    "sms_consent[ip_address]": "192.0.2.1",
    "sms_consent[user_agent]": "Mozilla/5.0",
}
