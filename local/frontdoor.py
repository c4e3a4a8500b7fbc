"""The front door: API Gateway's HTTP API on 127.0.0.1, serving the template's routes in-process.

Each request becomes the payload-format-2.0 event Lambda receives behind an HTTP API, the route's
real handler is invoked with it, and the answer is mapped back to HTTP the way API Gateway maps it
(including the shape it infers when a handler returns no statusCode). CORS preflights are answered
from the template's CorsConfiguration, as API Gateway does, without invoking a function.
"""

from __future__ import annotations

import base64
import fnmatch
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from local.template import ACCOUNT_ID, CorsSpec, RouteSpec

MAX_BODY_BYTES = 10 * 1024 * 1024  # HTTP API payload limit
LOCAL_PREFIX = "/_local/"
API_ID = "local"

# Content types API Gateway passes as text; everything else (form posts included) arrives base64.
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript")
_TEXT_SUFFIXES = ("+json", "+xml")


@dataclass(frozen=True)
class HttpRequest:
    method: str
    target: str
    """Path and query as sent (e.g. `/signup?x=1`)."""
    headers: Sequence[tuple[str, str]]
    body: bytes
    source_ip: str


@dataclass
class HttpResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


def _json_response(status: int, payload: Any) -> HttpResponse:
    return HttpResponse(status, [("content-type", "application/json")], json.dumps(payload).encode())


NOT_FOUND = {"message": "Not Found"}
INTERNAL_ERROR = {"message": "Internal Server Error"}


# --- routing -------------------------------------------------------------------------------------


def _path_pattern(path: str) -> re.Pattern[str]:
    parts = []
    for segment in path.strip("/").split("/"):
        greedy = re.fullmatch(r"\{(\w+)\+\}", segment)
        param = re.fullmatch(r"\{(\w+)\}", segment)
        if greedy:
            parts.append(f"(?P<{greedy.group(1)}>.+)")
        elif param:
            parts.append(f"(?P<{param.group(1)}>[^/]+)")
        else:
            parts.append(re.escape(segment))
    return re.compile("/" + "/".join(parts) if parts != [""] else "/")


def _specificity(route: RouteSpec) -> tuple[int, int, int, int]:
    # API Gateway prefers the most specific match: $default last, greedy after parameters, and an
    # explicit method over ANY.
    is_default = route.path == "$default"
    greedy = "+}" in route.path
    params = route.path.count("{")
    return (int(is_default), int(greedy), params, int(route.method == "ANY"))


@dataclass(frozen=True)
class Match:
    route: RouteSpec
    path_parameters: dict[str, str]


class RouteTable:
    """The template's HttpApi routes, matched as API Gateway matches them."""

    def __init__(self, routes: Sequence[RouteSpec]) -> None:
        self._routes = sorted(routes, key=_specificity)
        self._patterns = {r.path: _path_pattern(r.path) for r in self._routes if r.path != "$default"}

    @property
    def routes(self) -> list[RouteSpec]:
        return list(self._routes)

    def match(self, method: str, path: str) -> Match | None:
        for route in self._routes:
            if route.method not in ("ANY", method.upper()):
                continue
            if route.path == "$default":
                return Match(route, {})
            found = self._patterns[route.path].fullmatch(path)
            if found:
                return Match(route, found.groupdict())
        return None


# --- the event -----------------------------------------------------------------------------------


def is_text_content(content_type: str | None) -> bool:
    """Whether API Gateway hands this body to Lambda as text (else base64, isBase64Encoded true)."""
    if not content_type:
        return True
    media = content_type.split(";", 1)[0].strip().lower()
    return media.startswith(_TEXT_TYPES) or media.endswith(_TEXT_SUFFIXES)


def _combined_headers(headers: Sequence[tuple[str, str]]) -> dict[str, str]:
    combined: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        combined[key] = f"{combined[key]},{value}" if key in combined else value
    return combined


def build_http_event(
    request: HttpRequest,
    *,
    route_key: str,
    path_parameters: Mapping[str, str] | None = None,
    request_id: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The API Gateway HTTP API (payload format 2.0) event for one request."""
    now = now or datetime.now(UTC)
    split = urlsplit(request.target)
    headers = _combined_headers(request.headers)
    # Format 2.0 moves cookies out of the headers into their own list.
    cookie_header = headers.pop("cookie", None)
    headers.setdefault("x-forwarded-for", request.source_ip)
    headers.setdefault("x-forwarded-proto", "http")
    request_id = request_id or uuid.uuid4().hex[:16]
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": split.path or "/",
        "rawQueryString": split.query,
        "headers": headers,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": API_ID,
            "domainName": headers.get("host", "127.0.0.1"),
            "domainPrefix": headers.get("host", "127.0.0.1").split(".", 1)[0],
            "http": {
                "method": request.method.upper(),
                "path": split.path or "/",
                "protocol": "HTTP/1.1",
                "sourceIp": request.source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": request_id,
            "routeKey": route_key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookie_header:
        event["cookies"] = [c.strip() for c in cookie_header.split(";") if c.strip()]
    if split.query:
        params: dict[str, str] = {}
        for key, value in parse_qsl(split.query, keep_blank_values=True):
            params[key] = f"{params[key]},{value}" if key in params else value
        event["queryStringParameters"] = params
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    if request.body:
        if is_text_content(headers.get("content-type")):
            event["body"] = request.body.decode("utf-8", errors="replace")
        else:
            event["body"] = base64.b64encode(request.body).decode("ascii")
            event["isBase64Encoded"] = True
    return event


# --- the answer ----------------------------------------------------------------------------------


class InvalidLambdaResponseError(ValueError):
    """A handler's answer API Gateway would refuse (it answers 500)."""


def http_response_from_lambda(result: Any) -> HttpResponse:
    """Map a payload-2.0 Lambda result to HTTP, as API Gateway does."""
    if not (isinstance(result, dict) and "statusCode" in result):
        # No statusCode: API Gateway assumes 200 and a JSON body of whatever was returned.
        return HttpResponse(200, [("content-type", "application/json")], json.dumps(result).encode())
    status = result["statusCode"]
    if not isinstance(status, int) or not 100 <= status <= 599:
        raise InvalidLambdaResponseError(f"statusCode {status!r} is not an HTTP status")
    headers = [(str(k).lower(), str(v)) for k, v in (result.get("headers") or {}).items()]
    for cookie in result.get("cookies") or []:
        headers.append(("set-cookie", str(cookie)))
    body = result.get("body")
    if body is None:
        payload = b""
    elif result.get("isBase64Encoded"):
        try:
            payload = base64.b64decode(body, validate=True)
        except (ValueError, TypeError) as exc:
            raise InvalidLambdaResponseError("isBase64Encoded body is not base64") from exc
    else:
        payload = (body if isinstance(body, str) else json.dumps(body)).encode()
    return HttpResponse(status, headers, payload)


# --- CORS ----------------------------------------------------------------------------------------


def _origin_allowed(cors: CorsSpec, origin: str) -> str | None:
    """The Access-Control-Allow-Origin value for this origin, or None when it is not allowed."""
    for allowed in cors.allow_origins:
        if allowed == "*":
            return origin if cors.allow_credentials else "*"
        if allowed.lower() == origin.lower() or (
            "*" in allowed and fnmatch.fnmatch(origin.lower(), allowed.lower())
        ):
            return origin
    return None


def is_preflight(method: str, headers: Mapping[str, str]) -> bool:
    return method.upper() == "OPTIONS" and "origin" in headers and "access-control-request-method" in headers


def preflight_response(cors: CorsSpec, headers: Mapping[str, str]) -> HttpResponse:
    """API Gateway answers preflights itself: 204, with CORS headers only for an allowed origin."""
    response = HttpResponse(HTTPStatus.NO_CONTENT)
    allow_origin = _origin_allowed(cors, headers["origin"])
    if allow_origin is None:
        return response
    response.headers.append(("access-control-allow-origin", allow_origin))
    if cors.allow_methods:
        response.headers.append(("access-control-allow-methods", ",".join(cors.allow_methods)))
    if cors.allow_headers:
        response.headers.append(("access-control-allow-headers", ",".join(cors.allow_headers)))
    if cors.max_age is not None:
        response.headers.append(("access-control-max-age", str(cors.max_age)))
    if cors.allow_credentials:
        response.headers.append(("access-control-allow-credentials", "true"))
    return response


def apply_cors(cors: CorsSpec, origin: str | None, response: HttpResponse) -> HttpResponse:
    """With CORS configured, API Gateway replaces the integration's CORS headers with its own."""
    response.headers = [(k, v) for k, v in response.headers if not k.lower().startswith("access-control-")]
    allow_origin = _origin_allowed(cors, origin) if origin else None
    if allow_origin is None:
        return response
    response.headers.append(("access-control-allow-origin", allow_origin))
    if cors.expose_headers:
        response.headers.append(("access-control-expose-headers", ",".join(cors.expose_headers)))
    if cors.allow_credentials:
        response.headers.append(("access-control-allow-credentials", "true"))
    return response


# --- the server ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Exchange:
    """One request and its answer, for the event log (the reporter decides what is safe to show)."""

    request: HttpRequest
    route: RouteSpec | None
    function_id: str | None
    status: int
    duration_ms: float
    error: str | None = None


Invoker = Callable[[str, dict[str, Any]], Any]
"""(function logical id, event) → the handler's result."""


class FrontDoor:
    """Serves the routes on host:port (port 0 picks a free port) in a background thread."""

    def __init__(
        self,
        *,
        routes: Sequence[RouteSpec],
        cors: Mapping[str, CorsSpec | None],
        invoke: Invoker,
        host: str = "127.0.0.1",
        port: int = 0,
        local_api: Mapping[str, Callable[[dict[str, str]], Any]] | None = None,
        on_arrival: Callable[[HttpRequest, RouteSpec | None], None] | None = None,
        on_exchange: Callable[[Exchange], None] | None = None,
    ) -> None:
        self.table = RouteTable(routes)
        self._cors = dict(cors)
        self._invoke = invoke
        self._local_api = dict(local_api or {})
        self._on_arrival = on_arrival
        self._on_exchange = on_exchange
        self._server = ThreadingHTTPServer((host, port), _handler_class(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self._server.serve_forever, name="front-door", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def cors_for(self, route: RouteSpec | None) -> CorsSpec | None:
        if route is not None:
            return self._cors.get(route.api_id)
        # A preflight for an unknown path still gets the API's CORS answer; one API is the usual case.
        configured = [c for c in self._cors.values() if c is not None]
        return configured[0] if len(configured) == 1 else None

    def handle(self, request: HttpRequest) -> HttpResponse:
        """Answer one request (the HTTP server calls this; tests may call it directly)."""
        started = time.perf_counter()
        path = urlsplit(request.target).path or "/"
        headers = _combined_headers(request.headers)
        if path.startswith(LOCAL_PREFIX):
            return self._local(path, dict(parse_qsl(urlsplit(request.target).query)))
        match = self.table.match(request.method, path)
        route = match.route if match else None
        if self._on_arrival is not None:
            self._on_arrival(request, route)
        cors = self.cors_for(route)
        response, function_id, error = self._respond(request, match, cors, headers)
        if self._on_exchange is not None:
            elapsed = (time.perf_counter() - started) * 1000
            self._on_exchange(Exchange(request, route, function_id, response.status, elapsed, error))
        return response

    def _respond(
        self, request: HttpRequest, match: Match | None, cors: CorsSpec | None, headers: Mapping[str, str]
    ) -> tuple[HttpResponse, str | None, str | None]:
        """(answer, function invoked or None, handler error or None)."""
        if cors is not None and is_preflight(request.method, headers):
            return preflight_response(cors, headers), None, None
        if match is None:
            response, function_id, error = _json_response(404, NOT_FOUND), None, None
        elif len(request.body) > MAX_BODY_BYTES:
            response, function_id, error = (
                _json_response(413, {"message": "Request Entity Too Large"}),
                None,
                None,
            )
        else:
            function_id = match.route.function_id
            response, error = self._invoke_route(request, match)
        if cors is not None:
            response = apply_cors(cors, headers.get("origin"), response)
        return response, function_id, error

    def _invoke_route(self, request: HttpRequest, match: Match) -> tuple[HttpResponse, str | None]:
        request_id = uuid.uuid4().hex[:16]
        route_key = match.route.route_key if match.route.path != "$default" else "$default"
        event = build_http_event(
            request, route_key=route_key, path_parameters=match.path_parameters, request_id=request_id
        )
        try:
            response = http_response_from_lambda(self._invoke(match.route.function_id, event))
        except Exception as exc:  # a handler's failure is a 500, never a dead front door
            return _json_response(500, INTERNAL_ERROR), f"{type(exc).__name__}: {exc}"
        response.headers.append(("apigw-requestid", request_id))
        return response, None

    def _local(self, path: str, query: dict[str, str]) -> HttpResponse:
        """The local stack's own read-only API (/_local/info, /_local/status…), never a template route."""
        handler = self._local_api.get(path.removeprefix(LOCAL_PREFIX).rstrip("/"))
        if handler is not None:
            return _json_response(200, handler(query))
        return _json_response(404, NOT_FOUND)


def _handler_class(door: FrontDoor) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "nomi-gateway-local"
        # Headers and body are separate writes: without TCP_NODELAY a keep-alive client waits out
        # the delayed ACK (~40 ms) on every request.
        disable_nagle_algorithm = True

        def _read_body(self) -> bytes:
            if "chunked" in (self.headers.get("transfer-encoding") or "").lower():
                chunks = []
                while size := int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16):
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()  # the CRLF after each chunk
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            length = int(self.headers.get("content-length") or 0)
            return self.rfile.read(length) if length else b""

        def _serve(self) -> None:
            body = self._read_body()
            request = HttpRequest(
                method=self.command,
                target=self.path,
                headers=list(self.headers.items()),
                body=body,
                source_ip=self.client_address[0],
            )
            response = door.handle(request)
            self.send_response(response.status)
            for name, value in response.headers:
                if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                    self.send_header(name, value)
            self.send_header("content-length", str(len(response.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _serve

        def log_message(self, *_args: Any) -> None:
            # The stack's event log reports requests; the stdlib's access log would repeat each.
            return

    return Handler
