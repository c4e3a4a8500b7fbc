"""`python -m bench [--quick] [--out bench/results.json]`: run the five measurements, print the table,
write the results and the chart (same name, `.png`)."""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

from bench import cold_start, cost
from bench.chart import write_chart
from bench.model import SECTION_KEYS, RunInfo, Section, SectionKey, results_document
from bench.report import render_table
from bench.runtime import REPO, SHARED_FLAG, module_exists, run_worker
from bench.services import external_services

# Seconds a worker may take before it counts as failed (full runs; --quick takes a fraction of this).
WORKER_TIMEOUT_S: dict[SectionKey, float] = {
    "ingest_latency": 120,
    "processor_throughput": 120,
    "nomi_calls": 60,
    "memory_cost": 90,
}


def run_sections(keys: list[SectionKey], *, quick: bool) -> list[Section]:
    """Each measurement in turn (never in parallel: they would time each other on two cores), all
    against one services process (AWS on moto, NOMI sandbox) when the sandbox is there."""
    with ExitStack() as stack:
        if module_exists("sandbox"):
            os.environ.update(stack.enter_context(external_services()), **{SHARED_FLAG: "1"})
        return _run_each(keys, quick=quick)


def measure_cold_start(*, quick: bool) -> Section:
    """Cold start runs here (it spawns its own interpreters); a failure becomes an `error` section."""
    try:
        return cold_start.measure(quick=quick)
    except (cold_start.ImportFailedError, subprocess.SubprocessError, ValueError) as exc:
        return Section(key="cold_start", title=cold_start.TITLE, status="error", reason=str(exc))


def _run_each(keys: list[SectionKey], *, quick: bool) -> list[Section]:
    sections: dict[SectionKey, Section] = {}
    for key in keys:
        started = time.perf_counter()
        if key == "cold_start":
            sections[key] = measure_cold_start(quick=quick)
        else:
            sections[key] = run_worker(key, quick=quick, timeout_s=WORKER_TIMEOUT_S[key])
        print(f"  {key}: {sections[key].status} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    if "memory_cost" in sections:
        sections["memory_cost"] = cost.with_costs(
            sections["memory_cost"], sections.get("ingest_latency"), sections.get("processor_throughput")
        )
    return [sections[key] for key in keys]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="few iterations, small batch: checks the harness runs"
    )
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results.json")
    parser.add_argument(
        "--only", action="append", choices=SECTION_KEYS, help="run only this section (repeatable)"
    )
    args = parser.parse_args(argv)
    keys: list[SectionKey] = args.only or list(SECTION_KEYS)

    started_at, started = datetime.now(UTC), time.perf_counter()
    sections = run_sections(keys, quick=args.quick)
    run = RunInfo(
        started_at=started_at,
        duration_s=round(time.perf_counter() - started, 2),
        quick=args.quick,
        python=platform.python_version(),
        platform=platform.platform(),
        cpu_count=os.cpu_count(),
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results_document(run, sections), indent=2) + "\n")
    chart_path = args.out.with_suffix(".png")
    write_chart(sections, chart_path)
    print(render_table(sections))
    print(f"\n{run.duration_s:.0f} s; wrote {args.out} and {chart_path}")
    return 1 if any(section.status == "error" for section in sections) else 0


if __name__ == "__main__":
    sys.exit(main())
