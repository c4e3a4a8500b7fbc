"""The benchmark harness runs end to end in --quick mode and writes well-formed results.

It checks that the harness works, never the targets: no figure is asserted.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.model import SECTION_KEYS, Measure

# It starts the NOMI sandbox and a moto server on 127.0.0.1 (through the harness).
pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]
MEASURE_KEYS = {"name", "unit", "value", "floor", "floor_name", "target", "note", "ratio", "met"}


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    out = tmp_path_factory.mktemp("bench") / "results.json"
    completed = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )
    return completed, out


def test_bench_quick_run_exits_zero(quick_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    completed, _ = quick_run
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-2000:]


def test_bench_quick_run_writes_every_section(
    quick_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    _, out = quick_run
    document = json.loads(out.read_text())
    assert set(document["sections"]) == set(SECTION_KEYS)
    assert document["run"]["quick"] is True


def test_bench_quick_run_sections_ran_without_error(
    quick_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    _, out = quick_run
    sections = json.loads(out.read_text())["sections"]
    failed = {key: section["reason"] for key, section in sections.items() if section["status"] != "ok"}
    assert failed == {}


def test_bench_quick_run_measures_are_well_formed(
    quick_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    _, out = quick_run
    sections = json.loads(out.read_text())["sections"]
    for section in sections.values():
        assert section["measures"], section["key"]
        for row in section["measures"]:
            assert set(row) == MEASURE_KEYS
            assert (
                row["ratio"]
                == Measure.model_validate({key: row[key] for key in MEASURE_KEYS - {"ratio", "met"}}).ratio
            )


def test_bench_quick_run_writes_chart_beside_results(
    quick_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    _, out = quick_run
    assert out.with_suffix(".png").read_bytes().startswith(b"\x89PNG")


def test_bench_quick_run_prints_table(quick_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    completed, _ = quick_run
    header = completed.stdout.splitlines()[0].split()
    assert header == ["measure", "value", "floor", "ratio", "target", "met?"]
