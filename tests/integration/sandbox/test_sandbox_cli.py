"""`python -m sandbox` starts with one command and serves until interrupted — also when it was started
the way a non-interactive shell starts a background job (`make test &`): with SIGINT ignored."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[3]


def _ignore_sigint() -> None:
    # What `cmd &` in a script does to the job: the child inherits SIGINT as SIG_IGN.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run_until_signal(signum: int, preexec: Callable[[], None] | None = None) -> tuple[str, int, int]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "NOMI_API_KEY": "cli-key"}
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--port", "0", "--quiet"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=preexec,
    )
    status = 0
    try:
        line = process.stdout.readline() if process.stdout else ""
        url = line.split(" on ", 1)[1].split()[0]
        status = httpx.get(f"{url}/account/balance", params={"apikey": "cli-key"}).status_code
    finally:
        process.send_signal(signum)
        try:
            process.wait(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            if process.stdout:
                process.stdout.close()
    return line, status, process.returncode


def test_cli_serves_on_printed_url_until_interrupted() -> None:
    line, status, returncode = _run_until_signal(signal.SIGINT)

    assert (status, returncode) == (200, 0)
    assert "cli-key" not in line


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_cli_started_with_sigint_ignored_stops_on_signal(signum: int) -> None:
    _, status, returncode = _run_until_signal(signum, preexec=_ignore_sigint)

    assert (status, returncode) == (200, 0)
