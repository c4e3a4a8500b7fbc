"""In-memory fake of NOMI for the client's unit tests: an `httpx.MockTransport` that answers from a script and
records every request. No internals of the client are mocked."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

API_KEY = "sk-live-SECRET-123"
BASE_URL = "https://nomi.test"

Answer = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


def ok(data: Any = None, message: str = "ok", status: int = 200, **headers: str) -> httpx.Response:
    """A NOMI success envelope (`data: []` when there is nothing, as NOMI answers)."""
    return httpx.Response(
        status,
        json={"success": True, "data": [] if data is None else data, "message": message},
        headers=headers,
    )


def fail(status: int, message: str = "failed", data: Any = None, **headers: str) -> httpx.Response:
    return httpx.Response(
        status,
        json={"success": False, "data": [] if data is None else data, "message": message},
        headers=headers,
    )


def form_fields(request: httpx.Request) -> list[tuple[str, str]]:
    """Decode a multipart/form-data body independently of the client's encoder."""
    content_type = request.headers["content-type"]
    assert content_type.startswith("multipart/form-data; boundary=")
    boundary = content_type.split("boundary=", 1)[1].encode()
    parts = request.content.split(b"--" + boundary)
    assert parts[-1] == b"--\r\n"
    fields = []
    for part in parts[1:-1]:
        head, _, value = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        name = re.search(rb'name="([^"]*)"', head)
        assert name is not None
        fields.append((name.group(1).decode(), value.removesuffix(b"\r\n").decode()))
    return fields


def form_dict(request: httpx.Request) -> dict[str, str]:
    return dict(form_fields(request))


@dataclass
class FakeNomi:
    """Answers requests from a per-path script (FIFO; the last answer repeats) and records them."""

    script: dict[str, list[Answer]] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)

    def on(self, path: str, *answers: Answer) -> FakeNomi:
        self.script.setdefault(path, []).extend(answers)
        return self

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        answers = self.script.get(request.url.path)
        if not answers:
            return fail(404, f"no script for {request.url.path}")
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(answer, Exception):
            raise answer
        if callable(answer) and not isinstance(answer, httpx.Response):
            return answer(request)
        return answer

    def calls(self, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path == path]


@dataclass
class Sleeps:
    delays: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def json_body(request: httpx.Request) -> Any:
    return json.loads(request.content)
