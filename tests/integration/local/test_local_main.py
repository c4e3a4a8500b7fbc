"""`make run` as a user runs it: a subprocess that prints what runs where, serves, and stops on Ctrl-C."""

import os
import queue
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
READY = "Ctrl-C stops everything"


def _lines(stream, sink):
    for line in stream:
        sink.put(line)
    sink.put(None)


@pytest.fixture(scope="module")
def run_local(tmp_path_factory):
    """Start `python -m local` on a free port once; yields (process, banner lines, line queue).
    The last test of this module stops it."""
    tmp_path = tmp_path_factory.mktemp("state")
    env = {
        **os.environ,
        "PORT": "0",
        "PYTHONUNBUFFERED": "1",
        "SIGNUP_ALLOWED_ORIGINS": "http://localhost:8123",
    }
    for name in (
        "AWS_ENDPOINT_URL",
        "NOMI_API_URL",
        "NOMI_API_KEY",
        "SHOPIFY_WEBHOOK_SECRETS",
        "STRIPE_WEBHOOK_SECRETS",
    ):
        env.pop(name, None)
    process = subprocess.Popen(
        [sys.executable, "-m", "local", "--state-dir", str(tmp_path)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_lines, args=(process.stdout, lines), daemon=True).start()
    banner = []
    while not banner or READY not in banner[-1]:
        line = lines.get(timeout=60)
        assert line is not None, "".join(banner)
        banner.append(line)
    yield process, banner, lines
    if process.poll() is None:
        process.kill()
        process.wait()


def test_make_run_banner_prints_the_allowed_signup_origins_from_the_environment(run_local):
    _, banner, _ = run_local
    assert "allowed origins (SIGNUP_ALLOWED_ORIGINS): http://localhost:8123" in "".join(banner)


def test_make_run_banner_names_the_routes_and_the_test_secrets(run_local):
    _, banner, _ = run_local
    text = "".join(banner)
    assert "POST /webhooks/shopify" in text
    assert "shpss_test_secret" in text
    assert "sandbox http://127.0.0.1:" in text


def test_make_run_serves_and_stops_cleanly_on_sigint(run_local):
    process, banner, lines = run_local
    url = re.search(r"front door\s+(http://127\.0\.0\.1:\d+)", "".join(banner)).group(1)
    assert httpx.post(f"{url}/webhooks/shopify", content=b"{}").status_code == 401
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 0
    rest = []
    while (line := lines.get(timeout=10)) is not None:
        rest.append(line)
    assert rest[-1].strip() == "stopped."
