"""Processor throughput: a batch of "order shipped" events (distinct contacts) against one event alone.

NOMI answers each call after an injected 50 ms, so one event's time is its chain of dependent calls in
sequence (NOMI, and DynamoDB for checkpoints and idempotency) — the floor no implementation can beat
for one event. Records of a batch are independent, so a batch should cost little more than one event.

Two variants, each in a fresh interpreter (the processor builds its clients once per process):
- `dynamodb`: as deployed, the table on a moto server;
- `no-dynamodb`: IDEMPOTENCY_TABLE unset (checkpoints in memory, no idempotency records), which
  separates the processor's own concurrency from the table's cost (and from the moto server's CPU,
  which shares this machine's two cores).
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench import payloads
from bench.model import Measure, Section
from bench.runtime import run_json_module
from bench.stack import ProcessorStack, processor_stack

TITLE = "Processor: batch of order.shipped vs one event (NOMI +50 ms per call)"
LATENCY_MS = 50.0
TARGET = 1.5
# DynamoDB round trips one order.shipped event may cost (issue 15): the idempotency record and the
# checkpoints of the steps whose repetition has an effect, in as few requests as DynamoDB allows.
DYNAMODB_ROUND_TRIPS_TARGET = 3
VARIANTS = {
    "dynamodb": "DynamoDB on moto",
    "no-dynamodb": "no DynamoDB (in-memory checkpoints)",
}


def timed_run(stack: ProcessorStack, bodies: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one invocation (CPU of this process: the handler and its clients)."""
    started, cpu = time.perf_counter(), time.process_time()
    stack.run(bodies)
    return time.perf_counter() - started, time.process_time() - cpu


@contextmanager
def aws_calls_counted() -> Iterator[Counter[str]]:
    """Count the AWS API calls this process makes (`service.Operation`), whichever client makes them."""
    from botocore.client import BaseClient

    counts: Counter[str] = Counter()
    lock = threading.Lock()
    original = BaseClient._make_api_call

    def counting(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        with lock:
            counts[f"{client.meta.service_model.service_name}.{operation}"] += 1
        return original(client, operation, params)

    BaseClient._make_api_call = counting  # type: ignore[method-assign]
    try:
        yield counts
    finally:
        BaseClient._make_api_call = original  # type: ignore[method-assign]


def measure_variant(variant: str, *, quick: bool) -> dict[str, Any]:
    """Raw timings of one variant, in this process."""
    batch_size, repeats = (4, 1) if quick else (10, 9)
    run = f"{variant}-{time.time_ns():x}"
    # Each variant its own phones: the sandbox may be shared, and an existing contact costs a call more.
    first_phone = 1000 * list(VARIANTS).index(variant)
    counter = iter(range(first_phone, first_phone + 1000))

    def shipped(count: int) -> list[str]:
        return [json.dumps(payloads.order_shipped(next(counter), run=run)) for _ in range(count)]

    samples: dict[str, list[float]] = {"one_s": [], "batch_s": [], "one_cpu_s": [], "batch_cpu_s": []}
    with processor_stack(latency_ms=LATENCY_MS, dynamodb=variant == "dynamodb") as stack:
        stack.run(shipped(batch_size))  # warm: clients, settings, connections, threads (a warm Lambda)
        calls_before = len(stack.nomi_requests())
        with aws_calls_counted() as aws_calls:
            stack.run(shipped(1))
        calls_per_event = len(stack.nomi_requests()) - calls_before
        for _ in range(repeats):  # alternate so that drift touches both alike
            wall, cpu = timed_run(stack, shipped(1))
            samples["one_s"].append(wall)
            samples["one_cpu_s"].append(cpu)
            wall, cpu = timed_run(stack, shipped(batch_size))
            samples["batch_s"].append(wall)
            samples["batch_cpu_s"].append(cpu)
    return {
        "batch_size": batch_size,
        "repeats": repeats,
        "nomi_calls_per_event": calls_per_event,
        "aws_calls_per_event": dict(aws_calls),
        **samples,
    }


def _ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def dynamodb_round_trips(aws_calls: dict[str, int]) -> Measure:
    """The DynamoDB requests of one warm order.shipped event, against the target count (floor: one)."""
    calls = {name: count for name, count in aws_calls.items() if name.startswith("dynamodb.")}
    return Measure(
        name="DynamoDB round trips per order.shipped event",
        unit="calls",
        value=sum(calls.values()),
        floor=1,
        floor_name="one request",
        target=DYNAMODB_ROUND_TRIPS_TARGET,
        note=", ".join(f"{name.removeprefix('dynamodb.')} ×{count}" for name, count in sorted(calls.items()))
        or "none",
    )


def measure(*, quick: bool) -> Section:
    measures: list[Measure] = []
    details: dict[str, Any] = {"latency_ms_per_nomi_call": LATENCY_MS, "variants": {}, "workloads": []}
    for variant, label in VARIANTS.items():
        raw = run_json_module("bench.throughput", [variant, *(["--quick"] if quick else [])], timeout_s=120)
        size, calls = raw["batch_size"], raw["nomi_calls_per_event"]
        details["variants"][variant] = {
            "batch_size": size,
            "repeats": raw["repeats"],
            "nomi_calls_per_event": calls,
            "aws_calls_per_event": raw["aws_calls_per_event"],
            "one_event_ms": [round(s * 1000, 1) for s in raw["one_s"]],
            "batch_ms": [round(s * 1000, 1) for s in raw["batch_s"]],
            "one_event_cpu_ms": round(_ms(raw["one_cpu_s"]), 1),
            "batch_cpu_ms": round(_ms(raw["batch_cpu_s"]), 1),
        }
        measures.append(
            Measure(
                name=f"processor batch of {size} vs one event, {label}",
                unit="ms",
                value=_ms(raw["batch_s"]),
                floor=_ms(raw["one_s"]),
                floor_name="one order.shipped event alone",
                # The target is judged as deployed; the other variant explains the figure.
                target=TARGET if variant == "dynamodb" else None,
                note=(
                    f"median of {raw['repeats']}; per event {calls} NOMI calls at {LATENCY_MS:g} ms and "
                    f"{sum(raw['aws_calls_per_event'].values())} AWS calls; "
                    f"handler CPU {_ms(raw['batch_cpu_s']):.0f} ms per batch, {_ms(raw['one_cpu_s']):.0f} ms alone"
                ),
            )
        )
        if variant == "dynamodb":
            measures.append(
                Measure(
                    name="processor one event vs its NOMI latency",
                    unit="ms",
                    value=_ms(raw["one_s"]),
                    floor=calls * LATENCY_MS,
                    floor_name="NOMI calls × injected latency",
                    note="what the handler adds to waiting for NOMI (DynamoDB round trips, CPU)",
                )
            )
            measures.append(dynamodb_round_trips(raw["aws_calls_per_event"]))
            details["workloads"].append(
                {
                    "handler": f"processor (batch of {size} order.shipped)",
                    "wall_ms": _ms(raw["batch_s"]),
                    "cpu_ms": _ms(raw["batch_cpu_s"]),
                    "events_per_invocation": size,
                }
            )
    return Section(key="processor_throughput", title=TITLE, measures=measures, details=details)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.throughput")
    parser.add_argument("variant", choices=sorted(VARIANTS))
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--result", type=Path, required=True)
    args = parser.parse_args()
    args.result.write_text(json.dumps(measure_variant(args.variant, quick=args.quick)))


if __name__ == "__main__":
    main()
