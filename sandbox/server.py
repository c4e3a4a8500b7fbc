"""The sandbox's HTTP server: NOMI's 12 requests, the /_sandbox inspection API, and socket-level faults.

Built on the standard library's ThreadingHTTPServer rather than a WSGI server because faults must
be real at the socket level: a dropped connection is a reset with no answer, a timeout is a
connection that hangs and then closes without a byte of response.
"""

from __future__ import annotations

import contextlib
import hmac
import io
import json
import logging
import re
import signal
import socket
import struct
import threading
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from werkzeug.formparser import parse_form_data

from sandbox import api
from sandbox.faults import Fault, FaultConfig, FaultInjector
from sandbox.state import DEFAULT_BALANCE, Campaign, SandboxState, ShortLink

logger = logging.getLogger("sandbox")

REDACTED = "[REDACTED]"
MAX_BODY_BYTES = 10 * 1024 * 1024
_ERROR_MESSAGES = {
    "429": (429, "Too Many Attempts."),
    "500": (500, "Server Error"),
    "503": (503, "Service Unavailable"),
}

Endpoint = Callable[..., api.Answer]


class _Route:
    def __init__(self, method: str, pattern: str, name: str, *, auth: bool = True) -> None:
        self.method = method
        self.pattern = re.compile(f"^{pattern}$")
        self.name = name
        self.auth = auth


ROUTES = (
    _Route("GET", "/account/balance", "balance"),
    _Route("POST", "/campaigns/lookup", "lookup_campaigns"),
    _Route("POST", "/contacts/create", "create_contact"),
    _Route("POST", "/contacts/lookup", "lookup_contacts"),
    _Route("POST", "/contacts/update", "update_contact"),
    _Route("POST", "/contacts/unsubscribe", "unsubscribe"),
    _Route("POST", r"/contacts/(\d+)/consent", "record_consent"),
    _Route("GET", r"/contacts/(\d+)/consent", "consent_history"),
    _Route("GET", r"/contacts/(\d+)/consent/status", "consent_status"),
    _Route("POST", "/conversion", "record_conversion", auth=False),
    _Route("POST", "/messages/lookup", "lookup_messages"),
    _Route("POST", "/messages/create", "send_message"),
)


class CampaignSeed(BaseModel):
    """A campaign for `POST /_sandbox/campaigns`: NOMI has no API to create one, so tests seed them."""

    model_config = ConfigDict(extra="forbid")

    campaign_id: int | None = Field(default=None, ge=1)
    name: str = "Sandbox campaign"
    status: Literal["draft", "pending", "failed", "complete"] = "complete"
    number: str = "8888888888"
    url: str = "https://example.com/?sub=[code]"
    message: str = "[name], see what is new: [link] Reply STOP to end."
    media: str = ""
    short_link_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$")
    sent: int = Field(default=0, ge=0)
    filtered: int = Field(default=0, ge=0)
    unsubscribed: int = Field(default=0, ge=0)
    delivered: int = Field(default=0, ge=0)
    failed: bool = False
    revenue: Decimal = Field(default=Decimal(0), ge=0)
    conversions: int = Field(default=0, ge=0)
    send_at: datetime | None = None
    sent_at: datetime | None = None
    completed_at: datetime | None = None


class _BodyError(Exception):
    """A request body that cannot be read: malformed framing (400) or too large (413)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class _AdminError(Exception):
    def __init__(self, status: int, detail: Any) -> None:
        super().__init__(str(detail))
        self.status = status
        self.detail = detail


class _HTTPServer(ThreadingHTTPServer):
    # Non-daemon handler threads that server_close() joins: stop() first wakes or cuts each one,
    # so joining is quick and no thread outlives the server.
    daemon_threads = False
    block_on_close = True

    def __init__(self, address: tuple[str, int], sandbox: SandboxServer) -> None:
        self.sandbox = sandbox
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:  # noqa: ARG002 - stdlib signature
        # A client that gives up (timeout, reset) is business as usual for a fault injector.
        logger.debug("connection from %s ended with an error", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        # Headers and body leave in separate writes: without NODELAY, Nagle + delayed ACK add ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        with contextlib.suppress(OSError):  # the socket was cut by a drop fault or by stop()
            super().finish()

    def do_GET(self) -> None:
        self.server.sandbox.handle(self)

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the stdlib's access log: it would print the `apikey` query parameter."""

    # -- raw I/O used by SandboxServer ---------------------------------------------------------

    def read_body(self) -> bytes:
        try:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                return self._read_chunked()
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError as exc:
            raise _BodyError(400, "Malformed request body.") from exc
        if length > MAX_BODY_BYTES:
            raise _BodyError(413, "Request body too large.")
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes:
        chunks = bytearray()
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                self.rfile.readline()
                return bytes(chunks)
            chunks += self.rfile.read(size)
            self.rfile.readline()
            if len(chunks) > MAX_BODY_BYTES:
                raise _BodyError(413, "Request body too large.")

    def send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def send_redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def close_without_answer(self, *, reset: bool) -> None:
        """End the exchange with no response: a FIN after a hang, an RST for a dropped connection."""
        self.close_connection = True
        if reset:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def wait_for_stop_signal() -> None:
    """Block until SIGINT or SIGTERM (a second one while stopping stops at once).

    Handlers are installed explicitly rather than relying on KeyboardInterrupt: a process started in
    the background by a non-interactive shell (`make test &`, CI scripts) inherits SIGINT *ignored*,
    and Python then never raises KeyboardInterrupt, so Ctrl-C or a test's SIGINT would not stop it.
    """
    stop = threading.Event()

    def handle(signum: int, _frame: Any) -> None:
        stop.set()
        signal.signal(signum, signal.SIG_DFL)

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)
    while not stop.wait(0.5):
        pass


class SandboxServer:
    """A NOMI look-alike on a background thread. Starts on construction; use it as a context manager.

    >>> with SandboxServer(api_key="test-key") as sb:   # port 0: a free port
    ...     sb.url
    """

    def __init__(
        self,
        api_key: str = "test-key",
        host: str = "127.0.0.1",
        port: int = 0,
        faults: FaultConfig | None = None,
        *,
        initial_balance: int = DEFAULT_BALANCE,
        seed: int | None = None,
        log_requests: bool = False,
    ) -> None:
        self._api_key = api_key
        self._startup_faults = faults or FaultConfig()
        self._faults = FaultInjector(self._startup_faults)
        self._log_requests = log_requests
        self._stopping = threading.Event()
        self.state = SandboxState(initial_balance=initial_balance, seed=seed)
        self._httpd = _HTTPServer((host, port), self)
        bound_host, bound_port = self._httpd.server_address[:2]
        self.url = f"http://{bound_host}:{bound_port}"
        self._thread: threading.Thread | None = None
        self.start()

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> SandboxServer:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, name="nomi-sandbox"
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop promptly: wake hanging and slow requests, cut open connections, join every thread."""
        if self._thread is None or self._stopping.is_set():
            return
        self._stopping.set()
        self._httpd.shutdown()
        with self._httpd.connections_lock:
            connections = list(self._httpd.connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by its handler
                connection.shutdown(socket.SHUT_RDWR)
        self._httpd.server_close()
        self._thread.join()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- control (also reachable over HTTP under /_sandbox) ----------------------------------

    @property
    def faults(self) -> FaultConfig:
        return self._faults.config

    def set_faults(self, faults: FaultConfig) -> None:
        self._faults.configure(faults)

    def reset(self) -> None:
        """Empty state and request log; faults go back to the ones the server started with."""
        self.state.reset()
        self._faults.configure(self._startup_faults)

    def seed_campaign(self, **fields: Any) -> dict[str, Any]:
        """Add a campaign (with its short-link id) so conversions can be attributed to it."""
        return self._seed_campaign(CampaignSeed(**fields))

    # -- request handling --------------------------------------------------------------------

    def handle(self, handler: _Handler) -> None:
        parts = urlsplit(handler.path)
        path = parts.path.rstrip("/") or "/"
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        try:
            body = handler.read_body()
        except _BodyError as error:
            handler.close_connection = True  # the rest of the body is still unread on this connection
            handler.send_json(error.status, api.failure(error.status, error.message).body)
            return
        if path.startswith("/_sandbox"):
            self._handle_admin(handler, path, body)
        elif handler.command == "GET" and (match := re.fullmatch(r"/s/([A-Za-z0-9_-]+)", path)):
            self._follow_short_link(handler, match.group(1))
        else:
            self._handle_nomi(handler, path, query, body)

    def _handle_nomi(self, handler: _Handler, path: str, query: dict[str, str], body: bytes) -> None:
        request, body_error = self._parse_request(handler, path, query, body)
        entry = self._record(request, handler)
        config = self._faults.config
        if config.latency_ms:
            self._stopping.wait(config.latency_ms / 1000)
        fault = self._faults.draw(path)
        if fault is not None:
            with self.state.lock:
                entry["fault"] = {"kind": fault.kind, "when": fault.when}
        if fault is not None and fault.when == "before":
            if fault.kind != "slow":
                self._fail(handler, fault, entry)
                return
            self._stopping.wait(config.slow_seconds)
        answer = self._dispatch(request, body_error)
        with self.state.lock:
            entry["effect_applied"] = True
            entry["handler_status"] = answer.status
        if fault is not None and fault.when == "after":
            if fault.kind != "slow":
                self._fail(handler, fault, entry)
                return
            self._stopping.wait(config.slow_seconds)
        self._answer(handler, answer, entry, path)

    def _parse_request(
        self, handler: _Handler, path: str, query: dict[str, str], body: bytes
    ) -> tuple[api.ApiRequest, str | None]:
        content_type = handler.headers.get("Content-Type", "")
        request = api.ApiRequest(method=handler.command, path=path, query=query)
        request.api_key = query.get("apikey") or handler.headers.get("apikey")
        body_error = None
        if content_type.startswith("application/json"):
            try:
                request.json = json.loads(body or b"null")
            except ValueError:
                body_error = "The request body is not valid JSON."
        elif body:
            request.form = _parse_form(body, content_type)
        return request, body_error

    def _dispatch(self, request: api.ApiRequest, body_error: str | None) -> api.Answer:
        route, match = _find_route(request.method, request.path)
        if route is None:
            allowed = any(r.pattern.match(request.path) for r in ROUTES)
            return api.failure(405, "Method not allowed.") if allowed else api.failure(404, "Not found.")
        if route.auth and not self._authorized(request.api_key):
            return api.failure(401, "Unauthenticated.")
        if body_error is not None:
            return api.failure(400, body_error)
        endpoint: Endpoint = getattr(api, route.name)
        args: list[Any] = [*match.groups()] if match else []
        if route.name == "send_message":
            args.append(self.url)
        with self.state.lock:
            try:
                return endpoint(self.state, request, *args)
            except api.ApiError as error:
                return api.failure(error.status, error.message, error.data)

    def _authorized(self, key: str | None) -> bool:
        return key is not None and hmac.compare_digest(key.encode(), self._api_key.encode())

    def _fail(self, handler: _Handler, fault: Fault, entry: dict[str, Any]) -> None:
        config = self._faults.config
        if fault.kind in _ERROR_MESSAGES:
            status, message = _ERROR_MESSAGES[fault.kind]
            headers = {"Cache-Control": "no-cache, private"}
            if fault.kind == "429":
                headers["Retry-After"] = _seconds_text(config.retry_after_seconds)
            with self.state.lock:
                entry["status"] = status
                entry["outcome"] = "answered"
            handler.send_json(status, api.failure(status, message).body, headers)
        elif fault.kind == "timeout":
            with self.state.lock:
                entry["outcome"] = "timed_out"
            self._stopping.wait(config.hang_seconds)
            handler.close_without_answer(reset=False)
        else:
            with self.state.lock:
                entry["outcome"] = "dropped"
            handler.close_without_answer(reset=True)
        self._log(handler, entry)

    def _answer(self, handler: _Handler, answer: api.Answer, entry: dict[str, Any], path: str) -> None:
        headers = {"Cache-Control": "no-cache, private", **answer.headers}
        if path != "/conversion":
            headers["Access-Control-Allow-Origin"] = "*"
        with self.state.lock:
            entry["status"] = answer.status
            entry["outcome"] = "answered"
        handler.send_json(answer.status, answer.body, headers)
        self._log(handler, entry)

    def _record(self, request: api.ApiRequest, handler: _Handler) -> dict[str, Any]:
        """Log the request as soon as it arrives (status filled in later), with the key redacted."""
        auth = "query" if "apikey" in request.query else "header" if handler.headers.get("apikey") else None
        entry: dict[str, Any] = {
            "id": self.state.next_id("request"),
            "received_at": self.state.now().isoformat(),
            "method": request.method,
            "path": request.path,
            "query": request.query,
            "auth": auth,
            "form": {k: v[0] if len(v) == 1 else v for k, v in request.form.items()},
            "json": request.json,
            "status": None,
            "outcome": None,
            "fault": None,
            "effect_applied": False,
            "handler_status": None,
        }
        entry = _redact(entry, self._api_key)
        with self.state.lock:
            self.state.requests.append(entry)
        return entry

    def _log(self, handler: _Handler, entry: dict[str, Any]) -> None:
        if self._log_requests:
            fault = entry["fault"]
            suffix = f" [fault {fault['kind']}/{fault['when']}]" if fault else ""
            status = entry["status"] if entry["status"] is not None else entry["outcome"]
            logger.info("%s %s -> %s%s", handler.command, entry["path"], status, suffix)

    def _follow_short_link(self, handler: _Handler, link_id: str) -> None:
        with self.state.lock:
            link = self.state.short_links.get(link_id)
            if link is not None:
                link.clicks += 1
        if link is None:
            handler.send_json(404, api.failure(404, "Not found.").body)
        else:
            handler.send_redirect(link.target_url)

    # -- /_sandbox -------------------------------------------------------------------------

    def _handle_admin(self, handler: _Handler, path: str, body: bytes) -> None:
        try:
            status, payload = self._admin(handler.command, path, body)
        except _AdminError as error:
            status, payload = error.status, {"error": error.detail}
        handler.send_json(status, payload)

    def _admin(self, method: str, path: str, body: bytes) -> tuple[int, Any]:
        action = (method, path.removeprefix("/_sandbox"))
        if action == ("GET", "/state"):
            return 200, self.state.snapshot()
        if action == ("GET", "/requests"):
            return 200, {"requests": self.state.request_log()}
        if action == ("POST", "/reset"):
            self.reset()
            return 200, {"reset": True}
        if action == ("GET", "/faults"):
            return 200, self.faults.model_dump(mode="json")
        if action == ("POST", "/faults"):
            self.set_faults(_validated(FaultConfig, body))
            return 200, self.faults.model_dump(mode="json")
        if action == ("POST", "/campaigns"):
            return 200, self._seed_campaign(_validated(CampaignSeed, body))
        if action == ("POST", "/clock"):
            seconds = _json_object(body).get("advance_seconds")
            if not isinstance(seconds, int | float) or seconds < 0:
                raise _AdminError(400, "advance_seconds must be a number of at least 0")
            return 200, {"now": self.state.advance_clock(seconds).isoformat()}
        if action == ("POST", "/balance"):
            balance = _json_object(body).get("balance")
            if not isinstance(balance, int) or balance < 0:
                raise _AdminError(400, "balance must be an integer of at least 0")
            with self.state.lock:
                self.state.balance = balance
            return 200, {"balance": balance}
        raise _AdminError(404, f"no sandbox action {method} {path}")

    def _seed_campaign(self, seed: CampaignSeed) -> dict[str, Any]:
        with self.state.lock:
            campaign_id = seed.campaign_id or max([99, *self.state.campaigns]) + 1
            if campaign_id in self.state.campaigns:
                raise _AdminError(409, f"campaign {campaign_id} already exists")
            link_id = seed.short_link_id or self.state.new_short_link_id()
            if link_id in self.state.short_links:
                raise _AdminError(409, f"short link {link_id} already exists")
            now = self.state.now()
            fields = seed.model_dump(exclude={"campaign_id", "short_link_id"})
            campaign = Campaign(
                campaign_id=campaign_id, short_link_id=link_id, created_at=now, updated_at=now, **fields
            )
            self.state.campaigns[campaign_id] = campaign
            self.state.short_links[link_id] = ShortLink(
                id=link_id,
                target_url=seed.url.replace("[code]", link_id),
                created_at=now,
                campaign_id=campaign_id,
            )
            return {**api.campaign_data(campaign), "short_link_id": link_id}


def _find_route(method: str, path: str) -> tuple[_Route | None, re.Match[str] | None]:
    for route in ROUTES:
        if route.method == method and (match := route.pattern.match(path)):
            return route, match
    return None, None


def _parse_form(body: bytes, content_type: str) -> dict[str, list[str]]:
    """Multipart or url-encoded fields as lists of values (werkzeug does the parsing)."""
    environ = {
        "wsgi.input": io.BytesIO(body),
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(len(body)),
        "REQUEST_METHOD": "POST",
    }
    _, form, files = parse_form_data(environ)
    fields: dict[str, list[str]] = {k: list(v) for k, v in form.lists()}
    for name, upload in files.items(multi=True):
        # A text field sent as a file part (some clients do) still counts as that field.
        fields.setdefault(name, []).append(upload.read().decode("utf-8", "replace"))
    return fields


def _redact(value: Any, api_key: str) -> Any:
    """The key never reaches the request log: neither as an `apikey` field nor anywhere in a value."""
    if isinstance(value, dict):
        return {k: REDACTED if k.lower() == "apikey" else _redact(v, api_key) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v, api_key) for v in value]
    if isinstance(value, str) and api_key and api_key in value:
        return value.replace(api_key, REDACTED)
    return value


def _validated(model: type[BaseModel], body: bytes) -> Any:
    try:
        return model.model_validate(_json_object(body))
    except ValidationError as exc:
        raise _AdminError(400, json.loads(exc.json(include_url=False))) from exc


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body or b"{}")
    except ValueError as exc:
        raise _AdminError(400, "body must be a JSON object") from exc
    if not isinstance(value, dict):
        raise _AdminError(400, "body must be a JSON object")
    return value


def _seconds_text(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:g}"
