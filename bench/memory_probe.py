"""One handler's memory in a fresh interpreter: `python -m bench.memory_probe HANDLER --mode rss|trace
--events FILE --result FILE`. Run by bench.memory_cost, with AWS on a moto server and NOMI on the
sandbox in other processes, so that nothing but the handler (and boto3) lives in this one.

`rss`: ru_maxrss before the import, after it and after the first (cold) invocation — what Lambda's
memory setting must hold. `trace`: tracemalloc peaks of the import and of a warm invocation (what one
request allocates); a separate run because tracemalloc's own bookkeeping inflates the RSS.
"""

from __future__ import annotations

import argparse
import importlib
import json
import resource
import time
import tracemalloc
from pathlib import Path
from typing import Any

from bench.payloads import LambdaContext

HANDLER_MODULES = {"ingest": "ingest.app", "processor": "processor.app", "floor": "boto3"}
MIB = 1024 * 1024


def max_rss_bytes() -> int:
    """This process's peak resident memory.

    Linux carries ru_maxrss over fork and exec, so a probe started by a big parent would report the
    parent's peak; VmHWM in /proc/self/status is the same high-water mark, but of this address space.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB (macOS bytes)


def invoke(module: Any, event: dict[str, Any]) -> dict[str, Any]:
    answer = module.lambda_handler(event, LambdaContext())
    return {
        "status": answer.get("statusCode"),
        "batch_item_failures": len(answer.get("batchItemFailures", [])),
    }


def probe_rss(name: str, event: dict[str, Any] | None) -> dict[str, Any]:
    before = max_rss_bytes()
    module = importlib.import_module(HANDLER_MODULES[name])
    if name == "floor":
        module.client("sqs")  # every handler creates at least one client
    after_import = max_rss_bytes()
    result: dict[str, Any] = {"rss_start_mib": before / MIB, "rss_after_import_mib": after_import / MIB}
    if event is not None:
        started, cpu = time.perf_counter(), time.process_time()
        result["answer"] = invoke(module, event)
        result["cold_invocation_ms"] = (time.perf_counter() - started) * 1000
        result["cold_invocation_cpu_ms"] = (time.process_time() - cpu) * 1000
    result["rss_peak_mib"] = max_rss_bytes() / MIB
    return result


def probe_trace(name: str, cold_event: dict[str, Any], warm_event: dict[str, Any]) -> dict[str, Any]:
    tracemalloc.start()
    module = importlib.import_module(HANDLER_MODULES[name])
    import_peak = tracemalloc.get_traced_memory()[1]
    invoke(module, cold_event)  # lazy clients and caches are built here
    tracemalloc.reset_peak()
    baseline = tracemalloc.get_traced_memory()[0]
    answer = invoke(module, warm_event)
    current, peak = tracemalloc.get_traced_memory()
    return {
        "answer": answer,
        "import_peak_mib": import_peak / MIB,
        "warm_invocation_peak_mib": (peak - baseline) / MIB,
        "warm_invocation_retained_mib": (current - baseline) / MIB,
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.memory_probe")
    parser.add_argument("handler", choices=sorted(HANDLER_MODULES))
    parser.add_argument("--mode", choices=("rss", "trace"), required=True)
    parser.add_argument("--events", type=Path, help="JSON list: a cold event, then a distinct warm one")
    parser.add_argument("--result", type=Path, required=True)
    args = parser.parse_args()
    events = json.loads(args.events.read_text()) if args.events else None
    if args.mode == "rss":
        result = probe_rss(args.handler, events[0] if events else None)
    else:
        result = probe_trace(args.handler, events[0], events[1]) if events else {}
    args.result.write_text(json.dumps(result))


if __name__ == "__main__":
    main()
