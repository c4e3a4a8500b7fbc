"""Ingest per request, without the SQS network call, against the bare floor "verify + parse".

The handler runs in this process as Lambda would run it warm: the SQS client is replaced at the seam
the ingest module exposes (`ingest.enqueue.get_sqs_client`) by an in-memory stub, and the webhook
secrets come from Secrets Manager on moto (read once, then cached by the function as in production).
The floor is what no implementation can skip: HMAC the raw bytes, compare in constant time, json.loads.

The stub costs next to nothing (a fixed message id, the last body kept): until issue 15 it drew a
uuid4 and kept every body, ≈ 8 µs of each 2 KB call that was the stub's and not the gateway's (most of
it the process growing by a body per call, 100 MB over a 50 KB run). Before timing, it checks that a
request is answered 2xx with exactly one SendMessage carrying the request's body; after timing, that
the timed calls made exactly one SendMessage each.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

from bench import payloads
from bench.model import Measure, Section
from bench.runtime import SHOPIFY_SECRET, STRIPE_SECRET, apply_function_env, require_modules
from bench.services import external_services
from bench.stats import median, percentile

TITLE = "Ingest per request (no SQS network call) vs verify + parse"
# Highest acceptable ratio to "verify + parse", per payload (issue 15): a small body pays the fixed
# per-request work (routing, logging, metrics) over a floor of a few µs, a large one mostly hashing.
TARGETS = {"Shopify order 2 KB": 3.0, "Shopify order 50 KB": 1.5}


class UnexpectedAnswerError(RuntimeError):
    """The handler did not accept a correctly signed request: timing it would measure the wrong path."""


class StubSQS:
    """Answers SendMessage at once, counts the sends and keeps the last body (the network call is not
    what is measured, nor the stub's own work: no id drawn per call, no body kept past the next)."""

    MESSAGE_ID = "5f0c3a8e-2b71-4d1e-9c4a-7e6b8d2f1a93"  # fixed, shaped like the ids SQS answers

    def __init__(self) -> None:
        self.sent = 0
        self.last_body: str | None = None

    def send_message(self, **kwargs: Any) -> dict[str, str]:
        self.sent += 1
        self.last_body = kwargs["MessageBody"]
        return {"MessageId": self.MESSAGE_ID}


def shopify_floor(secret: bytes, body: bytes, signature: str) -> Any:
    digest = base64.b64encode(hmac.new(secret, body, hashlib.sha256).digest())
    if not hmac.compare_digest(digest, signature.encode()):
        raise UnexpectedAnswerError("floor: Shopify signature mismatch")
    return json.loads(body)


def stripe_floor(secret: bytes, body: bytes, header: str) -> Any:
    fields = dict(item.split("=", 1) for item in header.split(","))
    expected = hmac.new(secret, fields["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), fields["v1"].encode()):
        raise UnexpectedAnswerError("floor: Stripe signature mismatch")
    return json.loads(body)


@contextmanager
def ingest_handler() -> Iterator[tuple[Callable[[dict[str, Any], Any], dict[str, Any]], StubSQS]]:
    """`ingest.app.lambda_handler` with its secrets on a moto server (read once, then cached by the
    function) and SendMessage stubbed."""
    require_modules("ingest.app")
    with external_services() as overrides:
        apply_function_env(**overrides)
        from ingest import app, enqueue

        stub = StubSQS()
        enqueue.get_sqs_client = lambda: stub  # the seam: SendMessage without the network
        yield app.lambda_handler, stub


def checked_call(
    handler: Callable[..., dict[str, Any]], event: dict[str, Any], stub: StubSQS
) -> Callable[[], None]:
    """One invocation as a zero-argument call; first makes sure the request is accepted and queued with
    its body."""
    queued = stub.sent
    answer = handler(event, payloads.LambdaContext())
    if not 200 <= int(answer.get("statusCode", 0)) < 300 or stub.sent != queued + 1:
        raise UnexpectedAnswerError(f"handler answered {answer.get('statusCode')}: {answer.get('body')}")
    message = json.loads(stub.last_body or "{}")
    if not isinstance(message, dict) or message.get("payload") != json.loads(event["body"]):
        raise UnexpectedAnswerError("the queued message does not carry the request's body")
    context = payloads.LambdaContext()
    return lambda: handler(event, context)


def timed(call: Callable[[], object], iterations: int) -> tuple[list[float], float]:
    """Wall seconds per call, and CPU seconds per call on average."""
    samples = []
    cpu_start = time.process_time()
    for _ in range(iterations):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return samples, (time.process_time() - cpu_start) / iterations


def compare(
    handler_call: Callable[[], object], floor_call: Callable[[], object], *, iterations: int
) -> dict[str, Any]:
    """Alternate blocks of handler and floor calls so that drift touches both alike."""
    warm = max(3, iterations // 20)
    for _ in range(warm):  # warm: caches, secrets, branch predictors
        handler_call()
        floor_call()
    handler_samples: list[float] = []
    floor_samples: list[float] = []
    cpu_per_call = 0.0
    blocks = 10 if iterations >= 100 else 1
    for _ in range(blocks):
        samples, cpu = timed(handler_call, iterations // blocks)
        handler_samples += samples
        cpu_per_call += cpu / blocks
        floor_samples += timed(floor_call, iterations // blocks)[0]
    return {
        "handler": handler_samples,
        "floor": floor_samples,
        "handler_cpu_s": cpu_per_call,
        "handler_calls": warm + len(handler_samples),
    }


def measure(*, quick: bool) -> Section:
    iterations = 20 if quick else 2000
    shopify_key, stripe_key = SHOPIFY_SECRET.encode(), STRIPE_SECRET.encode()
    bodies = {
        "Shopify order 2 KB": payloads.shopify_order(2 * 1024),
        "Shopify order 50 KB": payloads.shopify_order(50 * 1024),
        "Stripe checkout event": payloads.stripe_checkout_event(),
    }
    measures: list[Measure] = []
    details: dict[str, Any] = {"iterations": iterations, "payload_bytes": {}, "workloads": []}
    with ingest_handler() as (handler, stub):
        for name, body in bodies.items():
            if name.startswith("Shopify"):
                event = payloads.shopify_request(SHOPIFY_SECRET, body)
                signature = event["headers"]["x-shopify-hmac-sha256"]
                floor = partial(shopify_floor, shopify_key, body, signature)
            else:
                event = payloads.stripe_request(STRIPE_SECRET, body)
                header = event["headers"]["stripe-signature"]
                floor = partial(stripe_floor, stripe_key, body, header)
            call = checked_call(handler, event, stub)
            sent = stub.sent
            result = compare(call, floor, iterations=iterations)
            if stub.sent != sent + result["handler_calls"]:
                raise UnexpectedAnswerError(f"{name}: not every timed request was queued once")
            details["payload_bytes"][name] = len(body)
            measures += rows_for(name, result)
            if name == "Shopify order 50 KB":
                details["workloads"].append(
                    {
                        "handler": "ingest (Shopify 50 KB)",
                        "wall_ms": median(result["handler"]) * 1000,
                        "cpu_ms": result["handler_cpu_s"] * 1000,
                    }
                )
    return Section(key="ingest_latency", title=TITLE, measures=measures, details=details)


def rows_for(name: str, result: dict[str, Any]) -> list[Measure]:
    handler, floor = result["handler"], result["floor"]
    target = TARGETS.get(name)
    note = f"{len(handler)} calls, handler and floor interleaved in blocks"
    return [
        Measure(
            name=f"ingest {name}: median",
            unit="µs",
            value=median(handler) * 1e6,
            floor=median(floor) * 1e6,
            floor_name="verify + json.loads, median",
            target=target,
            note=note,
        ),
        Measure(
            name=f"ingest {name}: p99",
            unit="µs",
            value=percentile(handler, 99) * 1e6,
            floor=percentile(floor, 99) * 1e6,
            floor_name="verify + json.loads, p99",
            note=note,
        ),
    ]
