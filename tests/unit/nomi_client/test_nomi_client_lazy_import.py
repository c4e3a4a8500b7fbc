"""`import nomi_client.phones` stays light: ingest must not pay for httpx."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

LAYER = Path(__file__).resolve().parents[3] / "layers" / "nomi_client"


def run_fresh(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(LAYER)},
    )
    return result.stdout.strip()


def test_import_phones_does_not_import_httpx() -> None:
    out = run_fresh(
        "import sys, nomi_client.phones, nomi_client.errors; print('httpx' in sys.modules, 'boto3' in sys.modules)"
    )

    assert out == "False False"


def test_package_exposes_client_lazily_on_attribute_access() -> None:
    out = run_fresh(
        "import sys, nomi_client; a = 'httpx' in sys.modules; nomi_client.NomiClient; print(a, 'httpx' in sys.modules)"
    )

    assert out == "False True"
