"""Cold start: import time of each handler module in a fresh interpreter, against `import boto3`.

Lambda's init phase is dominated by imports; boto3 is the floor because every handler needs it anyway.
Runs are interleaved (boto3, ingest, processor, boto3, ...) so that machine drift touches all alike.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench.model import Measure, Section
from bench.runtime import REPO, function_env
from bench.stats import median

FLOOR_MODULE = "boto3"
HANDLERS: dict[str, tuple[Path, float]] = {
    # module: (its file, highest acceptable ratio to the floor)
    "ingest.app": (REPO / "functions" / "ingest" / "ingest" / "app.py", 1.2),
    "processor.app": (REPO / "functions" / "processor" / "processor" / "app.py", 1.4),
}
_TIMED_IMPORT = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
TITLE = "Cold start: handler import vs import boto3"


class ImportFailedError(RuntimeError):
    """A module could not be imported in a fresh interpreter."""


def import_seconds(module: str) -> float:
    """Seconds to import `module` in a fresh interpreter with the functions' import roots and settings."""
    completed = subprocess.run(  # noqa: S603 - our own interpreter, a fixed snippet
        [sys.executable, "-c", _TIMED_IMPORT.format(module=module)],
        env=function_env(),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if completed.returncode != 0:
        last = (completed.stderr.strip().splitlines() or ["no output"])[-1]
        raise ImportFailedError(f"import {module} failed: {last}")
    return float(completed.stdout.strip().splitlines()[-1])


def heaviest_imports(module: str, *, top: int = 6) -> list[dict[str, float | str]]:
    """The modules with the largest cumulative import time (`python -X importtime`), to explain a miss."""
    completed = subprocess.run(  # noqa: S603 - our own interpreter, a fixed snippet
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        env=function_env(),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    children: list[dict[str, float | str]] = []
    for line in completed.stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) != 3 or not parts[1].strip().isdigit():
            continue
        name, cumulative_ms = parts[2].rstrip(), int(parts[1]) / 1000
        depth = (len(name) - len(name.lstrip()) - 1) // 2
        if depth == 1:
            children.append({"module": name.strip(), "cumulative_ms": cumulative_ms})
        elif depth == 0 and name.strip() == module:
            # Rows come children first: what piled up since the last top-level row is this module's.
            total = {"module": module, "cumulative_ms": cumulative_ms}
            return [total, *sorted(children, key=lambda row: -float(row["cumulative_ms"]))[:top]]
        elif depth == 0:
            children = []
    return []


def measure(*, quick: bool) -> Section:
    runs = 1 if quick else 15
    present = [module for module, (path, _) in HANDLERS.items() if path.exists()]
    modules = [FLOOR_MODULE, *present]
    if not quick:
        for module in modules:  # once untimed: writes the bytecode caches a deployment package holds
            import_seconds(module)
    samples: dict[str, list[float]] = {module: [] for module in modules}
    for _ in range(runs):
        for module in modules:
            samples[module].append(import_seconds(module))
    floor = median(samples[FLOOR_MODULE])
    measures = [
        Measure(
            name=f"import {module}",
            unit="ms",
            value=median(samples[module]) * 1000,
            floor=floor * 1000,
            floor_name=f"import {FLOOR_MODULE}",
            target=HANDLERS[module][1],
            note=f"median of {runs} fresh interpreters",
        )
        for module in present
    ]
    missing = [module for module in HANDLERS if module not in present]
    return Section(
        key="cold_start",
        title=TITLE,
        status="ok" if present else "unavailable",
        reason=f"not there yet: {', '.join(missing)}" if missing else None,
        measures=measures,
        details={
            "runs": runs,
            "samples_ms": {
                module: [round(s * 1000, 2) for s in values] for module, values in samples.items()
            },
            "heaviest_imports": {} if quick else {module: heaviest_imports(module) for module in present},
        },
    )
