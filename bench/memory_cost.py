"""Peak memory of each handler for a 50 KB payload, in fresh interpreters (Lambda sizing).

The probes (bench.memory_probe) run in fresh interpreters; AWS (a moto server) and NOMI (the sandbox)
run in another process (bench.services), so that nothing but the handler lives in the measured one.
The floor is a fresh interpreter that imports boto3 and builds one client. The cost per million events is added by bench.cost from the durations
the timing sections measured.
"""

from __future__ import annotations

import json
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import payloads
from bench.model import Measure, Section
from bench.runtime import (
    SHOPIFY_SECRET,
    function_env,
    require_modules,
    run_json_module,
)
from bench.services import external_services

TITLE = "Memory per handler (50 KB payload) and Lambda cost"
PAYLOAD_BYTES = 50 * 1024
MIB = 1024 * 1024


class ProbeFailedError(RuntimeError):
    """A handler did not handle the probe's event: its memory would be that of an error path."""


def probe(
    handler: str, mode: str, events: list[dict[str, Any]] | None, env: dict[str, str]
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-mem-") as tmp:
        args = [handler, "--mode", mode]
        if events is not None:
            (Path(tmp) / "events.json").write_text(json.dumps(events))
            args += ["--events", str(Path(tmp) / "events.json")]
        return run_json_module("bench.memory_probe", args, env=env, timeout_s=60)


def ingest_events() -> list[dict[str, Any]]:
    body = payloads.shopify_order(PAYLOAD_BYTES)
    return [payloads.shopify_request(SHOPIFY_SECRET, body), payloads.shopify_request(SHOPIFY_SECRET, body)]


def processor_events() -> list[dict[str, Any]]:
    """Two distinct orders/paid envelopes of 50 KB (distinct, so the warm one is not a duplicate)."""
    from gateway_events import Envelope

    events = []
    for index in range(2):
        order = json.loads(payloads.shopify_order(PAYLOAD_BYTES, order_id=5512345678901 + index))
        envelope = Envelope(
            source="shopify",
            event_id=f"bench-mem-{time.time_ns():x}-{index}",
            topic="orders/paid",
            received_at=datetime.now(UTC),
            headers={"x-shopify-topic": "orders/paid", "x-shopify-shop-domain": payloads.SHOP_DOMAIN},
            payload=order,
        )
        events.append(payloads.sqs_event([envelope.to_json()]))
    return events


def parse_peak_mib(body: str) -> float:
    """tracemalloc peak of json.loads(body): the allocation no handler of that payload can avoid."""
    tracemalloc.start()
    try:
        json.loads(body)
        return tracemalloc.get_traced_memory()[1] / MIB
    finally:
        tracemalloc.stop()


def handled(answer: dict[str, Any]) -> bool:
    status = answer["status"]
    return not answer["batch_item_failures"] and (status is None or 200 <= status < 300)


def measure(*, quick: bool) -> Section:
    """Peak RSS per handler (first request) against a bare boto3 process; in full runs also what a warm
    request allocates (tracemalloc) against parsing its payload. --quick skips the tracemalloc probes."""
    require_modules("ingest.app", "processor.app", "sandbox")
    measures: list[Measure] = []
    details: dict[str, Any] = {"payload_bytes": PAYLOAD_BYTES, "probes": {}}
    with external_services() as overrides:
        env = function_env(**overrides)
        floor = probe("floor", "rss", None, env)
        details["probes"]["floor"] = floor
        for handler, events in (("ingest", ingest_events()), ("processor", processor_events())):
            rss = probe(handler, "rss", events, env)
            details["probes"][handler] = {"rss": rss}
            if not handled(rss["answer"]):
                raise ProbeFailedError(f"{handler} did not handle the 50 KB event: {rss['answer']}")
            measures.append(
                Measure(
                    name=f"{handler} peak RSS, first 50 KB request",
                    unit="MiB",
                    value=rss["rss_peak_mib"],
                    floor=floor["rss_peak_mib"],
                    floor_name="python + import boto3 + one client",
                    note=f"after import {rss['rss_after_import_mib']:.1f} MiB; bare interpreter {rss['rss_start_mib']:.1f} MiB",
                )
            )
            if quick:
                continue
            trace = probe(handler, "trace", events, env)
            details["probes"][handler]["trace"] = trace
            body = events[1]["body"] if handler == "ingest" else events[1]["Records"][0]["body"]
            measures.append(
                Measure(
                    name=f"{handler} warm 50 KB request, peak allocation",
                    unit="MiB",
                    value=trace["warm_invocation_peak_mib"],
                    floor=parse_peak_mib(body),
                    floor_name="json.loads of the body (tracemalloc)",
                    note=f"import allocates {trace['import_peak_mib']:.1f} MiB at peak",
                )
            )
    return Section(key="memory_cost", title=TITLE, measures=measures, details=details)
