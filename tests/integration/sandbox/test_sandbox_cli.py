"""`python -m sandbox` starts with one command and serves until interrupted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[3]


def test_cli_serves_on_printed_url_until_interrupted() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "NOMI_API_KEY": "cli-key"}
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--port", "0", "--quiet"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline() if process.stdout else ""
        url = line.split(" on ", 1)[1].split()[0]

        response = httpx.get(f"{url}/account/balance", params={"apikey": "cli-key"})
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)
        if process.stdout:
            process.stdout.close()

    assert response.status_code == 200
    assert "cli-key" not in line
    assert process.returncode == 0
