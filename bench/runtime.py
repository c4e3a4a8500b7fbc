"""Where the measured code lives and the environment it runs in: import roots, dummy AWS settings,
and isolated worker processes (so that handler logs and module caches never leak between measurements)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from bench.model import Section, SectionKey

REPO = Path(__file__).resolve().parents[1]
IMPORT_ROOTS = (
    REPO,
    REPO / "functions" / "ingest",
    REPO / "functions" / "processor",
    REPO / "layers" / "nomi_client",
    REPO / "layers" / "gateway_events",
)
NOMI_TEST_KEY = "bench-nomi-key"  # a test value for the sandbox; never a real key
# Webhook secrets that exist only in the benchmark (signed here, verified by ingest here).
SHOPIFY_SECRET = "bench-shopify-secret"  # noqa: S105 - a test value
STRIPE_SECRET = "whsec_bench_stripe_secret"  # noqa: S105 - a test value

# The settings template.yaml gives the functions, with dummy AWS credentials: nothing here reaches AWS.
FUNCTION_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_LAMBDA_FUNCTION_NAME": "bench",
    "POWERTOOLS_SERVICE_NAME": "nomi-gateway",
    "POWERTOOLS_METRICS_NAMESPACE": "NomiGateway",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "INFO",
    "QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/bench-events",
    "DLQ_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/bench-events-dlq",
    "PAYLOAD_BUCKET": "bench-payloads",
    "IDEMPOTENCY_TABLE": "bench-idempotency",
    "SHOPIFY_SECRET_NAME": "bench/shopify-webhook-secret",
    "STRIPE_SECRET_NAME": "bench/stripe-webhook-secret",
    "STRIPE_TOLERANCE_SECONDS": "300",
    "SIGNUP_ALLOWED_ORIGINS": "*",
    "DEFAULT_PHONE_REGION": "US",
    "NOMI_API_URL": "http://127.0.0.1:9",  # replaced by the sandbox's address where NOMI is called
    "NOMI_API_KEY": NOMI_TEST_KEY,
}


SHARED_FLAG = "BENCH_SHARED_SERVICES"  # set by `python -m bench`: one services process for all sections
SERVICE_KEYS = ("AWS_ENDPOINT_URL", "NOMI_API_URL", "QUEUE_URL", "DLQ_URL")


class NotReadyError(Exception):
    """The code a measurement needs is not in the repository yet."""


def add_import_roots() -> None:
    """The functions' and layers' folders on sys.path, as the Lambda layout and pytest have them."""
    for root in reversed(IMPORT_ROOTS):
        if str(root) not in sys.path:
            sys.path.insert(0, str(root))


def module_exists(name: str) -> bool:
    add_import_roots()
    try:
        return find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def require_modules(*names: str) -> None:
    """Raise NotReadyError naming the first module that cannot be found."""
    for name in names:
        if not module_exists(name):
            raise NotReadyError(f"module {name} is not there yet")


def shared_services_env() -> dict[str, str]:
    """Where the shared services process is (set by `python -m bench`), else nothing."""
    if not os.environ.get(SHARED_FLAG):
        return {}
    return {key: os.environ[key] for key in (SHARED_FLAG, *SERVICE_KEYS)}


def function_env(**overrides: str) -> dict[str, str]:
    """The current environment plus the import roots and the functions' settings."""
    env = {**os.environ, **FUNCTION_ENV, **shared_services_env(), **overrides}
    env["PYTHONPATH"] = os.pathsep.join(str(root) for root in IMPORT_ROOTS)
    env.pop("NOMI_API_KEY_SECRET_NAME", None)  # the key comes from NOMI_API_KEY (local-dev path)
    return env


def apply_function_env(**overrides: str) -> None:
    """Set the functions' settings in this process (workers do this before importing a handler)."""
    os.environ.update({**FUNCTION_ENV, **shared_services_env(), **overrides})
    os.environ.pop("NOMI_API_KEY_SECRET_NAME", None)
    add_import_roots()


class ModuleRunError(RuntimeError):
    """A measurement process exited without writing its result."""


def run_json_module(
    module: str, args: list[str], *, timeout_s: float, env: dict[str, str] | None = None
) -> Any:
    """Run `python -m module *args --result FILE` in a fresh interpreter and return FILE's JSON.

    The process's stdout (handler logs and metrics) goes to /dev/null; its stderr tail explains a failure.
    """
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        result_path = Path(tmp) / "result.json"
        command = [sys.executable, "-m", module, *args, "--result", str(result_path)]
        with tempfile.TemporaryFile(mode="w+") as log:  # a file, not a pipe: a chatty child never stalls
            try:
                completed = subprocess.run(  # noqa: S603 - our own interpreter and module
                    command,
                    env=env or function_env(),
                    cwd=REPO,
                    stdout=subprocess.DEVNULL,
                    stderr=log,
                    timeout=timeout_s,
                    check=False,
                )
            except subprocess.TimeoutExpired as exc:
                raise ModuleRunError(f"{module} ran over {timeout_s:.0f} s") from exc
            if not result_path.exists():
                log.seek(0)
                tail = "\n".join(log.read().strip().splitlines()[-5:])
                raise ModuleRunError(f"{module} exited {completed.returncode}: {tail}")
        return json.loads(result_path.read_text())


def run_worker(key: SectionKey, *, quick: bool, timeout_s: float) -> Section:
    """Run one measurement in a fresh interpreter (bench.worker); a crash becomes an `error` section."""
    try:
        data = run_json_module("bench.worker", [key, *(["--quick"] if quick else [])], timeout_s=timeout_s)
    except ModuleRunError as exc:
        return Section(key=key, title=key, status="error", reason=str(exc))
    return Section.model_validate(data)
