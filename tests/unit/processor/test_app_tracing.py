"""The processor builds Powertools' X-Ray tracer only when tracing is on (its import is ~0.4 s)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from processor.app import tracing_enabled

_IMPORTS_XRAY = "import sys, processor.app; print('aws_xray_sdk' in sys.modules)"


def _xray_imported(trace_disabled: str) -> bool:
    env = {**os.environ, "POWERTOOLS_TRACE_DISABLED": trace_disabled, "AWS_DEFAULT_REGION": "us-east-1"}
    completed = subprocess.run(
        [sys.executable, "-c", _IMPORTS_XRAY], env=env, capture_output=True, text=True, check=True
    )
    return completed.stdout.strip().splitlines()[-1] == "True"


@pytest.mark.parametrize(("value", "enabled"), [("true", False), ("1", False), ("false", True), ("", True)])
def test_tracing_enabled_reads_powertools_switch(value: str, enabled: bool) -> None:
    assert tracing_enabled({"POWERTOOLS_TRACE_DISABLED": value}) is enabled


def test_processor_import_tracing_off_leaves_xray_sdk_unimported() -> None:
    assert _xray_imported("true") is False


def test_processor_import_tracing_on_builds_the_xray_tracer() -> None:
    assert _xray_imported("false") is True
