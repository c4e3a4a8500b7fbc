"""Entry point of an isolated measurement: `python -m bench.worker <section> --result FILE [--quick]`.

The parent sends this process's stdout to /dev/null (handler logs and metrics) and reads the section
from FILE. A measurement whose code is not there yet reports `unavailable`; any other failure `error`.
"""

from __future__ import annotations

import argparse
import importlib
import traceback
from collections.abc import Callable
from pathlib import Path

from bench.model import SECTION_KEYS, Section, SectionKey
from bench.runtime import NotReadyError

# The sections measured in a worker (cold start spawns its own interpreters from the parent).
MEASUREMENTS: dict[SectionKey, str] = {
    "ingest_latency": "bench.ingest_latency",
    "processor_throughput": "bench.throughput",
    "nomi_calls": "bench.nomi_calls",
    "memory_cost": "bench.memory_cost",
}


def measure_section(key: SectionKey, *, quick: bool) -> Section:
    module = importlib.import_module(MEASUREMENTS[key])
    title: str = module.TITLE
    measure: Callable[..., Section] = module.measure
    try:
        return measure(quick=quick)
    except NotReadyError as exc:
        return Section(key=key, title=title, status="unavailable", reason=str(exc))
    except Exception as exc:
        # The harness must still write its file: the failure is reported in the section, with its place.
        where = traceback.extract_tb(exc.__traceback__)[-1]
        reason = f"{type(exc).__name__}: {exc} (at {Path(where.filename).name}:{where.lineno})"
        traceback.print_exc()
        return Section(key=key, title=title, status="error", reason=reason)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.worker")
    parser.add_argument("key", choices=[key for key in SECTION_KEYS if key in MEASUREMENTS])
    parser.add_argument("--result", type=Path, required=True)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    section = measure_section(args.key, quick=args.quick)
    args.result.write_text(section.model_dump_json())


if __name__ == "__main__":
    main()
