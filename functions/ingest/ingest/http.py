"""The HTTP edge: an API Gateway HTTP API (payload 2.0) event in, a proxy answer out."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


class BadRequestError(ValueError):
    """The request cannot be read at all (e.g. a body flagged base64 that is not)."""


@dataclass(frozen=True)
class Request:
    """What the routes need from an event: names of headers lower-cased, the body as raw bytes."""

    method: str
    path: str
    headers: dict[str, str]
    raw_body: str | None
    is_base64: bool
    source_ip: str | None = None
    user_agent: str | None = None
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def encoded_size(self) -> int:
        """An upper bound of the body size known without decoding it (base64 grows by 4/3)."""
        if self.raw_body is None:
            return 0
        if self.is_base64:
            return len(self.raw_body) * 3 // 4
        return len(self.raw_body.encode("utf-8"))

    def body(self) -> bytes:
        """The exact bytes the sender signed: base64-decoded when API Gateway encoded them."""
        if self.raw_body is None:
            return b""
        if not self.is_base64:
            return self.raw_body.encode("utf-8")
        try:
            return base64.b64decode(self.raw_body, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise BadRequestError("body is flagged base64 but is not valid base64") from exc


def request_from_event(event: dict[str, Any]) -> Request:
    """Read an HTTP API v2 event (as API Gateway, `sam local` and the local stack send it)."""
    context = event.get("requestContext") or {}
    http = context.get("http") or {}
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    return Request(
        method=str(http.get("method") or event.get("httpMethod") or "GET").upper(),
        path=_route_path(event, context, http),
        headers=headers,
        raw_body=event.get("body"),
        is_base64=bool(event.get("isBase64Encoded")),
        source_ip=http.get("sourceIp"),
        user_agent=headers.get("user-agent") or http.get("userAgent"),
    )


def _route_path(event: dict[str, Any], context: dict[str, Any], http: dict[str, Any]) -> str:
    path = str(event.get("rawPath") or http.get("path") or "/")
    stage = context.get("stage")
    # On a named stage the raw path starts with the stage; routes are declared without it.
    if stage and stage != "$default" and path.startswith(f"/{stage}/"):
        path = path[len(stage) + 1 :]
    return path.rstrip("/") or "/"


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """An HTTP API proxy answer with a JSON body."""
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json", **(headers or {})},
        "body": json.dumps(body, separators=(",", ":")),
        "isBase64Encoded": False,
    }
