"""The local Shopify's HTTP server: the GraphQL Admin endpoint, bulk result files, and /_shopify/*.

    with ShopifySandbox(access_token="shpat_test", port=0) as shop:
        shop.state.seed(customers=100, orders=10)
        shop.url  # → AdminClient(base_url=shop.url, shop_domain=shop.shop_domain, ...)

Standard-library server (as the NOMI sandbox) so that faults are real at the socket level.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import re
import socket
import struct
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from shopify_sandbox.faults import FaultConfig, FaultInjector
from shopify_sandbox.schema import (
    MUTATION_COST,
    GraphQLError,
    Operation,
    Resolution,
    Selection,
    parse,
    requested_cost,
    resolve,
    validate,
)
from shopify_sandbox.state import BulkOperation, ShopState

DEFAULT_TOKEN = "shpat_local_test_token"  # noqa: S105 - the documented local test value
DEFAULT_SHOP = "local-test.myshopify.com"
MAX_QUERY_COST = 1000
_GRAPHQL_PATH = re.compile(r"^/admin/api/(\d{4}-\d{2}|unstable)/graphql\.json$")
_FILE_PATH = re.compile(r"^/_files/(bulk-\d+\.jsonl)$")
_UNAUTHORIZED = {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}
_SINCE = re.compile(r"updated_at:(>=|>)\s*'?\"?([0-9T:\-+.Z]+)'?\"?")


class _Throttled(Exception):
    def __init__(self, cost: int) -> None:
        self.cost = cost


class ShopifySandbox:
    """A local GraphQL Admin API for one shop and one access token."""

    def __init__(
        self,
        *,
        access_token: str = DEFAULT_TOKEN,
        shop_domain: str = DEFAULT_SHOP,
        host: str = "127.0.0.1",
        port: int = 0,
        bulk_polls: int = 2,
        faults: FaultConfig | None = None,
    ) -> None:
        self.access_token = access_token
        self.shop_domain = shop_domain
        self.state = ShopState()
        self.faults = FaultInjector(faults)
        self.bulk_polls = bulk_polls
        handler = type("Handler", (_Handler,), {"sandbox": self})
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> ShopifySandbox:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="shopify-sandbox", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> ShopifySandbox:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def set_faults(self, config: FaultConfig) -> None:
        self.faults.configure(config)

    # --- GraphQL -----------------------------------------------------------------------------------

    def execute(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """One GraphQL request → the JSON answer (data or errors, and the cost extension)."""
        try:
            operation = parse(query, variables)
            root = "Mutation" if operation.kind == "mutation" else "QueryRoot"
            validate(operation.selections, root)
        except GraphQLError as exc:
            return {"errors": [{"message": str(exc), "extensions": {"code": exc.code}}]}
        cost = (
            MUTATION_COST if operation.kind == "mutation" else 1 + requested_cost(operation.selections, root)
        )
        if cost > MAX_QUERY_COST:
            return {
                "errors": [
                    {
                        "message": f"Query cost is {cost}, which exceeds the single query max cost limit ({MAX_QUERY_COST}).",
                        "extensions": {"code": "MAX_COST_EXCEEDED", "cost": cost, "maxCost": MAX_QUERY_COST},
                    }
                ]
            }
        with self.state.lock:
            bucket = self.state.bucket
            bucket.refill()
            if cost > bucket.available:
                raise _Throttled(cost)
            bucket.available -= cost
            tally = Resolution()
            data = self._run(operation, tally)
            actual = MUTATION_COST if operation.kind == "mutation" else max(1, tally.objects)
            bucket.available = min(bucket.maximum, bucket.available + max(0, cost - actual))
            status = bucket.status()
        return {
            "data": data,
            "extensions": {
                "cost": {"requestedQueryCost": cost, "actualQueryCost": actual, "throttleStatus": status}
            },
        }

    def throttled(self, cost: int) -> dict[str, Any]:
        with self.state.lock:
            self.state.bucket.refill()
            status = self.state.bucket.status()
        return {
            "errors": [
                {
                    "message": "Throttled",
                    "extensions": {
                        "code": "THROTTLED",
                        "documentation": "https://shopify.dev/api/usage/rate-limits",
                    },
                }
            ],
            "extensions": {
                "cost": {"requestedQueryCost": cost, "actualQueryCost": None, "throttleStatus": status}
            },
        }

    def _run(self, operation: Operation, tally: Resolution) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for selection in operation.selections:
            data[selection.name] = self._root_field(selection, tally)
        return data

    def _root_field(self, selection: Selection, tally: Resolution) -> Any:
        state, args = self.state, selection.arguments
        name = selection.name
        if name == "order":
            return resolve(state.orders.get(str(args.get("id"))), selection.children, "Order", tally)
        if name == "customer":
            return resolve(state.customers.get(str(args.get("id"))), selection.children, "Customer", tally)
        if name == "customers":
            nodes = _filter_customers(list(state.customers.values()), args.get("query"))[
                : int(args.get("first", 50))
            ]
            value = {"edges": [{"node": n, "cursor": n["id"]} for n in nodes], "nodes": nodes}
            return resolve(value, selection.children, "CustomerConnection", tally)
        if name == "currentBulkOperation":
            current = state.current_bulk_operation()
            return resolve(self._advance(current), selection.children, "BulkOperation", tally)
        if name == "node":
            found = state.bulk_operations.get(str(args.get("id")))
            value = self._advance(found) if found else state.orders.get(str(args.get("id")))
            return resolve(value, selection.children, "Node", tally)
        if name == "bulkOperationRunQuery":
            return resolve(
                self._run_bulk(str(args.get("query") or "")),
                selection.children,
                "BulkOperationRunQueryPayload",
                tally,
            )
        raise AssertionError(f"validated root field {name} has no resolver")  # pragma: no cover

    # --- bulk operations ---------------------------------------------------------------------------

    def _run_bulk(self, query: str) -> dict[str, Any]:
        def refused(message: str, code: str) -> dict[str, Any]:
            return {
                "bulkOperation": None,
                "userErrors": [{"field": ["query"], "message": message, "code": code}],
            }

        running = self.state.running_bulk_operation()
        if running is not None:
            return refused(
                f"A bulk query operation for this app and shop is already in progress: {running.id}.",
                "OPERATION_IN_PROGRESS",
            )
        try:
            inner = parse(query)
            validate(inner.selections, "QueryRoot")
        except GraphQLError as exc:
            return refused(f"Invalid bulk query: {exc}", "INVALID")
        if inner.kind != "query" or not any(s.name == "customers" for s in inner.selections):
            return refused("Bulk queries must contain at least one connection.", "INVALID")
        operation = self.state.new_bulk_operation(query)
        return {"bulkOperation": operation.node(self.url), "userErrors": []}

    def _advance(self, operation: BulkOperation | None) -> dict[str, Any] | None:
        """Each poll moves an operation on: CREATED → RUNNING → … → COMPLETED after `bulk_polls` polls."""
        if operation is None:
            return None
        with self.state.lock:
            if operation.status in ("CREATED", "RUNNING"):
                operation.polls += 1
                if self.faults.draw("bulk") == "bulk_failed":
                    operation.status, operation.error_code = "FAILED", "INTERNAL_SERVER_ERROR"
                elif operation.polls >= self.bulk_polls:
                    self._complete(operation)
                else:
                    operation.status = "RUNNING"
            return operation.node(self.url)

    def _complete(self, operation: BulkOperation) -> None:
        inner = parse(operation.query)
        lines: list[str] = []
        for selection in inner.selections:
            customers = _filter_customers(
                list(self.state.customers.values()), selection.arguments.get("query")
            )
            node_selection = _node_selection(selection)
            tally = Resolution()
            for customer in customers:
                lines.append(
                    json.dumps(resolve(customer, node_selection, "Customer", tally), separators=(",", ":"))
                )
            operation.root_object_count += len(customers)
        operation.lines = lines
        operation.status = "COMPLETED"
        operation.completed_at = datetime.now(UTC).isoformat().replace("+00:00", "Z")

    def file(self, name: str) -> bytes | None:
        for operation in self.state.bulk_operations.values():
            if operation.file_name == name and operation.status == "COMPLETED":
                return operation.body
        return None


def _node_selection(connection: Selection) -> list[Selection]:
    for child in connection.children:
        if child.name == "nodes":
            return child.children
        if child.name == "edges":
            return next((c.children for c in child.children if c.name == "node"), [])
    return []


def _filter_customers(customers: list[dict[str, Any]], search: Any) -> list[dict[str, Any]]:
    """Shopify's search syntax, as far as the backfill uses it: `updated_at:>=<time>` (others ignored)."""
    match = _SINCE.search(str(search or ""))
    if not match:
        return customers
    since = datetime.fromisoformat(match.group(2).replace("Z", "+00:00"))
    strict = match.group(1) == ">"

    def keep(node: dict[str, Any]) -> bool:
        updated = datetime.fromisoformat(str(node["updatedAt"]).replace("Z", "+00:00"))
        return updated > since if strict else updated >= since

    return [c for c in customers if keep(c)]


def _operation_name(query: str) -> str:
    for name in ("bulkOperationRunQuery", "currentBulkOperation", "order", "customers", "customer", "node"):
        if re.search(rf"\b{name}\b", query):
            return name
    return "unknown"


class _Handler(BaseHTTPRequestHandler):
    sandbox: ShopifySandbox
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: ARG002 - the base class's signature
        return  # tests and `make run` print their own lines; tokens must not reach a log

    # --- plumbing ----------------------------------------------------------------------------------

    def _send(self, status: int, body: Any, content_type: str = "application/json") -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _fault(self, operation: str) -> bool:
        """Apply a drawn fault; True when the answer was replaced (or never given)."""
        config = self.sandbox.faults.config
        if config.latency_ms:
            time.sleep(config.latency_ms / 1000)
        kind = self.sandbox.faults.draw(operation)
        if kind is None or kind == "bulk_failed":
            return False
        if kind == "slow":
            time.sleep(config.slow_seconds)
            return False
        if kind in ("500", "503"):
            self._send(
                int(kind), {"errors": "Internal Server Error" if kind == "500" else "Service Unavailable"}
            )
        elif kind == "throttle":
            self._send(200, self.sandbox.throttled(MUTATION_COST))
        elif kind == "timeout":
            time.sleep(config.hang_seconds)
            self.close_connection = True
        elif kind == "drop":
            with contextlib.suppress(OSError):
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
        return True

    def _record(self, operation: str, status: int, answer: Any = None) -> None:
        cost = (answer or {}).get("extensions", {}).get("cost") if isinstance(answer, dict) else None
        with self.sandbox.state.lock:
            self.sandbox.state.requests.append({"operation": operation, "status": status, "cost": cost})

    # --- routes ------------------------------------------------------------------------------------

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        file_match = _FILE_PATH.match(path)
        if file_match:
            if self._fault("file"):
                return
            body = self.sandbox.file(file_match.group(1))
            if body is None:
                self._send(404, {"errors": "Not Found"})
                return
            self._send(200, body, "application/jsonl")
            return
        if path == "/_shopify/state":
            self._send(200, self.sandbox.state.snapshot())
        elif path == "/_shopify/requests":
            with self.sandbox.state.lock:
                self._send(200, list(self.sandbox.state.requests))
        else:
            self._send(404, {"errors": "Not Found"})

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0]
        body = self._body()
        if _GRAPHQL_PATH.match(path):
            self._graphql(body)
        elif path.startswith("/_shopify/"):
            self._control(path, body)
        else:
            self._send(404, {"errors": "Not Found"})

    def _graphql(self, body: bytes) -> None:
        token = self.headers.get("X-Shopify-Access-Token") or ""
        if not hmac.compare_digest(token.encode(), self.sandbox.access_token.encode()):
            self._record("unauthorized", 401)
            self._send(401, _UNAUTHORIZED)
            return
        try:
            request = json.loads(body or b"{}")
            query, variables = str(request["query"]), request.get("variables") or {}
        except (ValueError, KeyError, TypeError):
            self._send(400, {"errors": {"query": "Required parameter missing or invalid"}})
            return
        operation = _operation_name(query)
        if self._fault(operation):
            self._record(operation, 0)
            return
        try:
            answer = self.sandbox.execute(query, variables)
        except _Throttled as throttled:
            answer = self.sandbox.throttled(throttled.cost)
        self._record(operation, 200, answer)
        self._send(200, answer)

    def _control(self, path: str, body: bytes) -> None:
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            self._send(400, {"error": "body is not JSON"})
            return
        state = self.sandbox.state
        if path == "/_shopify/seed":
            state.seed(
                customers=int(data.get("customers", 0)),
                orders=int(data.get("orders", 0)),
                seed=int(data.get("seed", 0)),
            )
        elif path == "/_shopify/orders":
            state.add_order(data)
        elif path == "/_shopify/faults":
            self.sandbox.set_faults(FaultConfig.model_validate(data))
        elif path == "/_shopify/bucket":
            with state.lock:
                bucket = state.bucket
                bucket.maximum = float(data.get("maximum", bucket.maximum))
                bucket.restore_rate = float(data.get("restore_rate", bucket.restore_rate))
                bucket.available = float(data.get("available", bucket.maximum))
                bucket.updated = time.monotonic()
        else:
            self._send(404, {"errors": "Not Found"})
            return
        self._send(200, state.snapshot())
