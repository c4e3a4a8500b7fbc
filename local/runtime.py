"""The functions' runtime: import each handler as Lambda would, and invoke it with a Lambda context.

Handlers read their environment at import or first use, so the environment is set before the import.
Both functions share this process (no container), so their code is imported fresh for each stack and
the previous modules, `sys.path` and environment are put back when the stack stops: a test session
that also imports `processor` or `ingest` directly keeps its own modules.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from local.permissions import acting_as
from local.template import ACCOUNT_ID, REGION, FunctionSpec


class FunctionLoadError(Exception):
    """A handler named by the template cannot be imported."""


class FunctionInvokeError(Exception):
    """The handler raised, or returned something Lambda could not serialise."""


class FunctionTimeoutError(FunctionInvokeError):
    """The handler ran past the function's Timeout (Lambda would have stopped it; here it is only
    failed afterwards: its side effects happened)."""


class LambdaContext:
    """The attributes and method of Lambda's Python context object that handlers and Powertools use."""

    def __init__(
        self, *, function_name: str, memory_mb: int, timeout_seconds: int, region: str = REGION
    ) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{function_name}"
        self.memory_limit_in_mb = memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = f"local/[$LATEST]{uuid.uuid4().hex}"
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass
class LocalFunction:
    """One template function, imported and ready to invoke."""

    spec: FunctionSpec
    name: str
    handler: Callable[[Any, Any], Any]
    module: ModuleType
    invocations: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def invoke(self, event: Mapping[str, Any]) -> Any:
        """Call the handler as Lambda does: JSON in, JSON out, with a fresh context."""
        context = LambdaContext(
            function_name=self.name, memory_mb=self.spec.memory_mb, timeout_seconds=self.spec.timeout_seconds
        )
        with self._lock:
            self.invocations += 1
        # A round trip through JSON, as the Lambda service does, so that a handler never sees (or
        # returns) anything that would not survive it in AWS.
        payload = json.loads(json.dumps(event))
        started = time.monotonic()
        try:
            with acting_as(self.spec.logical_id):
                result = self.handler(payload, context)
        except Exception as exc:
            raise FunctionInvokeError(f"{self.spec.logical_id} raised {type(exc).__name__}: {exc}") from exc
        elapsed = time.monotonic() - started
        if elapsed > self.spec.timeout_seconds:
            raise FunctionTimeoutError(
                f"{self.spec.logical_id}: Task timed out after {self.spec.timeout_seconds} seconds ({elapsed:.1f} s)"
            )
        try:
            return json.loads(json.dumps(result)) if result is not None else None
        except (TypeError, ValueError) as exc:
            raise FunctionInvokeError(f"{self.spec.logical_id} returned a value that is not JSON") from exc


def _module_paths(module: ModuleType) -> list[str]:
    paths = []
    file = getattr(module, "__file__", None)
    if isinstance(file, str):
        paths.append(file)
    # Namespace packages have no __file__, only search locations.
    with contextlib.suppress(TypeError):
        paths.extend(str(entry) for entry in getattr(module, "__path__", None) or [])
    return paths


def _is_under(path: str, roots: Iterable[str]) -> bool:
    # Plain string prefixes: this runs over every module of the process, so no filesystem calls.
    return any(path == root or path.startswith(root + os.sep) for root in roots)


def _forget_cached_secret_providers() -> None:
    """A cold start has no cached secrets: Powertools keeps its providers module-global, each bound to
    the AWS endpoint that was current when it was first used (another stack's moto, a test's mock)."""
    from aws_lambda_powertools.utilities.parameters.constants import DEFAULT_PROVIDERS

    DEFAULT_PROVIDERS.clear()


class FunctionRuntime:
    """Imports the template's functions into this process and restores the process afterwards."""

    def __init__(self, base_environment: Mapping[str, str]) -> None:
        self._base_environment = dict(base_environment)
        self._saved_environ: dict[str, str | None] = {}
        self._saved_modules: dict[str, ModuleType] = {}
        self._added_paths: list[str] = []
        self._code_roots: list[str] = []
        self._set_by: dict[str, tuple[str, str]] = {}
        self.functions: dict[str, LocalFunction] = {}
        self.conflicts: list[str] = []
        """Variables two functions set differently: each function saw its own value at import."""

    def load(
        self, spec: FunctionSpec, *, name: str, environment: Mapping[str, str], layer_dirs: list[Path]
    ) -> LocalFunction:
        """Import `spec.handler` with the function's CodeUri and layers on sys.path and its env set."""
        self._add_code_root(spec.code_uri)
        for directory in [spec.code_uri, *layer_dirs]:
            self._add_path(directory)
        self._note_conflicts(spec.logical_id, environment)
        self._set_environment({**self._base_environment, **environment})
        module_name, _, attribute = spec.handler.rpartition(".")
        if not module_name:
            raise FunctionLoadError(f"{spec.logical_id}: Handler {spec.handler!r} is not module.function")
        try:
            with acting_as(spec.logical_id):  # code run at import calls AWS as the function too
                module = importlib.import_module(module_name)
            handler = getattr(module, attribute)
        except (ImportError, AttributeError) as exc:
            raise FunctionLoadError(f"{spec.logical_id}: cannot import {spec.handler}: {exc}") from exc
        function = LocalFunction(spec=spec, name=name, handler=handler, module=module)
        self.functions[spec.logical_id] = function
        return function

    def _add_code_root(self, code_uri: Path) -> None:
        root = str(code_uri.resolve())
        self._code_roots.append(root)
        # Modules already imported from this code (a test session, a previous stack) are set aside so
        # that the handler is imported fresh, with this stack's environment: a cold start.
        for name, module in list(sys.modules.items()):
            if any(_is_under(path, [root]) for path in _module_paths(module)):
                self._saved_modules[name] = sys.modules.pop(name)
        _forget_cached_secret_providers()

    def _add_path(self, directory: Path) -> None:
        entry = str(directory.resolve())
        if entry not in sys.path:
            sys.path.insert(0, entry)
            self._added_paths.append(entry)
        importlib.invalidate_caches()

    def _note_conflicts(self, function_id: str, environment: Mapping[str, str]) -> None:
        # One process, one os.environ: a variable two functions set differently holds the last
        # function's value after import. Values read at import (Powertools service names) are right;
        # a value read later would be the other function's, so say which ones differ.
        for key, value in environment.items():
            previous = self._set_by.get(key)
            if previous is not None and previous[1] != value:
                self.conflicts.append(
                    f"{key} differs between {previous[0]} and {function_id}; both run in one process"
                )
            self._set_by[key] = (function_id, value)

    def _set_environment(self, values: Mapping[str, str]) -> None:
        for key, value in values.items():
            if key not in self._saved_environ:
                self._saved_environ[key] = os.environ.get(key)
            os.environ[key] = value

    def close(self) -> None:
        """Forget this stack's function modules and put back modules, sys.path and environment."""
        for name, module in list(sys.modules.items()):
            if any(_is_under(path, self._code_roots) for path in _module_paths(module)):
                del sys.modules[name]
        sys.modules.update(self._saved_modules)
        for entry in self._added_paths:
            if entry in sys.path:
                sys.path.remove(entry)
        for key, value in self._saved_environ.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_modules.clear()
        self._saved_environ.clear()
        self._added_paths.clear()
        self._code_roots.clear()
        self._set_by.clear()
        self.functions.clear()
