"""The HTTP edge: an API Gateway HTTP API (payload 2.0) event in, a proxy answer out."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from gateway_events.compact_json import compact_writer
from gateway_events.wire import raw_json_text

_dumps = compact_writer()  # json.dumps(..., separators=(",", ":")), built once


class BadRequestError(ValueError):
    """The request cannot be read at all (e.g. a body flagged base64 that is not)."""


@dataclass
class Request:
    """What the routes need from an event: names of headers lower-cased, the body as raw bytes.

    Not frozen: a frozen dataclass sets each field through `object.__setattr__`, which doubles the
    cost of building one (~1 µs of every request); nothing changes a request once read.
    """

    method: str
    path: str
    headers: dict[str, str]
    raw_body: str | None
    is_base64: bool
    source_ip: str | None = None
    user_agent: str | None = None
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    _decoded: bytes | None = field(default=None, init=False, repr=False, compare=False)

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
        # Decoded once per request: a 50 KB body is not copied again by each reader. A plain field
        # rather than functools.cached_property, whose first read runs ~0.4 µs of Python.
        if self._decoded is None:
            self._decoded = self._decode_body()
        return self._decoded

    @property
    def body_text(self) -> str | None:
        """The body as the event carried it, when that is the text of `body()` (not base64)."""
        return None if self.is_base64 else (self.raw_body or "")

    def json_text(self) -> str | None:
        """The body as the text `json.loads` parses, when that is its UTF-8 text (`raw_json_text`);
        None when only `body()` reads right. Parsing this text skips the decode `json.loads(bytes)`
        would make again, and the envelope splices the same text."""
        return raw_json_text(self.body(), self.body_text)

    def _decode_body(self) -> bytes:
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
    headers = _lower_case_names(event.get("headers") or {})
    return Request(
        method=str(http.get("method") or event.get("httpMethod") or "GET").upper(),
        path=_route_path(event, context, http),
        headers=headers,
        raw_body=event.get("body"),
        is_base64=bool(event.get("isBase64Encoded")),
        source_ip=http.get("sourceIp"),
        user_agent=headers.get("user-agent") or http.get("userAgent"),
    )


def _lower_case_names(headers: dict[Any, Any]) -> dict[str, str]:
    """Header names lower-cased (API Gateway already sends them so; `sam local` may not), values str."""
    try:
        names = "".join(headers)
    except TypeError:  # a name that is not a str
        lowered = {str(name).lower(): value for name, value in headers.items()}
    else:
        # One lower() of all the names tells whether any needs it: API Gateway's never do.
        lowered = (
            headers if names == names.lower() else {name.lower(): value for name, value in headers.items()}
        )
    for value in lowered.values():
        if type(value) is not str:
            return {name: str(value) for name, value in lowered.items()}
    return lowered


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
        "body": _dumps(body),
        "isBase64Encoded": False,
    }
