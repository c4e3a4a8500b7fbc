"""AWS (moto) and NOMI (the sandbox) for a chaos run: in this process, or each in its own process.

The local stack runs everything in one Python process; on a 2-core machine that is one core's worth
of work. For the full run the harness starts moto and the sandbox as subprocesses (the local stack
then uses them as it would any external AWS endpoint or NOMI URL) so the functions get a core of
their own. Either way the harness sees the sandbox through `SandboxView`.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any, Protocol

SANDBOX_LAUNCHER = (
    "import sys, sandbox.state as state\n"
    "state.REQUEST_LOG_LIMIT = None  # chaos accounting reads every faulted request\n"
    "from sandbox.__main__ import main\n"
    "main(sys.argv[1:])\n"
)


class ServiceStartError(RuntimeError):
    """A helper process did not come up."""


class SandboxView(Protocol):
    """What the harness needs from the NOMI sandbox."""

    def snapshot(self) -> dict[str, Any]: ...

    def request_log(self) -> list[dict[str, Any]]: ...

    def set_faults(self, config: Any) -> None: ...

    def seed_campaign(self, **fields: Any) -> None: ...

    def advance_clock(self, seconds: float) -> None: ...


class InProcessSandbox:
    """The sandbox the local stack started in this process."""

    def __init__(self, server: Any) -> None:
        self._server = server
        state = server.state
        with state.lock:
            from collections import deque

            # It keeps its last 10 000 requests; the accounting reads every faulted one.
            state.requests = deque(state.requests, maxlen=None)

    def snapshot(self) -> dict[str, Any]:
        return self._server.state.snapshot()

    def request_log(self) -> list[dict[str, Any]]:
        return self._server.state.request_log()

    def set_faults(self, config: Any) -> None:
        self._server.set_faults(config)

    def seed_campaign(self, **fields: Any) -> None:
        self._server.seed_campaign(**fields)

    def advance_clock(self, seconds: float) -> None:
        self._server.state.advance_clock(seconds)


class HttpSandbox:
    """A sandbox in another process, through its inspection API."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 - a loopback URL we started
            f"{self.url}/_sandbox{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310
            return json.loads(answer.read() or b"null")

    def snapshot(self) -> dict[str, Any]:
        return self._call("GET", "/state")

    def request_log(self) -> list[dict[str, Any]]:
        return self._call("GET", "/requests")["requests"]

    def set_faults(self, config: Any) -> None:
        self._call("POST", "/faults", config.model_dump(mode="json"))

    def seed_campaign(self, **fields: Any) -> None:
        self._call("POST", "/campaigns", fields)

    def advance_clock(self, seconds: float) -> None:
        self._call("POST", "/clock", {"advance_seconds": seconds})


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServiceStartError(f"{url}: the process exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - loopback
                return
        except urllib.error.HTTPError:
            return  # it answers: up
        except OSError:
            time.sleep(0.1)
    raise ServiceStartError(f"{url} did not answer within {timeout} s")


class ExternalServices:
    """moto's server and the NOMI sandbox, each in a subprocess on a free loopback port."""

    def __init__(self, *, root: Path, api_key: str) -> None:
        self.root = root
        self.api_key = api_key
        self.processes: list[subprocess.Popen[bytes]] = []
        self.aws_url = ""
        self.sandbox_url = ""

    def __enter__(self) -> ExternalServices:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _spawn(self, args: list[str]) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, *args], cwd=self.root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self.processes.append(process)
        return process

    def start(self) -> None:
        aws_port, sandbox_port = free_port(), free_port()
        self.aws_url = f"http://127.0.0.1:{aws_port}"
        moto = self._spawn(["-m", "moto.server", "-H", "127.0.0.1", "-p", str(aws_port)])
        self.sandbox_url = f"http://127.0.0.1:{sandbox_port}"
        sandbox = self._spawn(
            [
                "-c",
                SANDBOX_LAUNCHER,
                "--host",
                "127.0.0.1",
                "--port",
                str(sandbox_port),
                "--api-key",
                self.api_key,
                "--quiet",
            ]
        )
        _wait_until_up(f"{self.aws_url}/moto-api/", moto)
        _wait_until_up(f"{self.sandbox_url}/_sandbox/state", sandbox)

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        self.processes = []
