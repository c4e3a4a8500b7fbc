"""The ingest function's log lines and metrics, written directly to stdout.

Log lines are the JSON Powertools' Logger writes (same keys: level, location, message, timestamp,
service, the Lambda context keys, correlation_id, xray_trace_id, then the record's own fields), and
metrics are one CloudWatch EMF document per request, as Powertools' Metrics flushes them (namespace,
`route` and `service` dimensions, Count units). Why not Powertools itself, here only: on a 2 KB webhook
its Logger emit (~50 µs), Metrics flush (~45 µs) and context injection (~20 µs) cost 6× the verify +
parse floor they sit on (bench `ingest_latency`), and importing them ~20 ms of cold start. The
processor, which does far more per record, keeps Powertools.

Not carried over, on purpose: logging the incoming event (POWERTOOLS_LOGGER_LOG_EVENT would write
webhook bodies, i.e. personal data) and debug sampling (the front door logs nothing at DEBUG).
"""

from __future__ import annotations

import itertools
import os
import string
import sys
import time
from collections.abc import Mapping
from typing import Any

from gateway_events.compact_json import compact_string, compact_writer

_LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}
# Lambda's advanced logging controls name their levels differently.
_ALC_LEVELS = {"TRACE": "DEBUG", "WARN": "WARNING", "FATAL": "CRITICAL"}
_TRUE = ("1", "true", "yes", "on", "y", "t")
# As Powertools serialises a record: compact, anything else as str().
_dumps = compact_writer(default=str)
_string = compact_string()
# "000" to "999" in order: a line's milliseconds looked up, not formatted (a format spec costs more
# than the rest of the timestamp). Joined digit triples: ~50 µs at import, a quarter of formatting them.
_MILLISECONDS = tuple(map("".join, itertools.product(string.digits, repeat=3)))
# The keys of a line that its fields cannot replace.
_RESERVED = frozenset(
    (
        "level",
        "location",
        "message",
        "timestamp",
        "service",
        "cold_start",
        "function_name",
        "function_memory_size",
        "function_arn",
        "function_request_id",
        "correlation_id",
        "xray_trace_id",
    )
)


def log_level(environ: Mapping[str, str]) -> int:
    """Powertools' precedence: Lambda's advanced logging controls, then POWERTOOLS_LOG_LEVEL, then
    LOG_LEVEL; INFO when none is set (or the value is not a level)."""
    for variable in ("AWS_LAMBDA_LOG_LEVEL", "POWERTOOLS_LOG_LEVEL", "LOG_LEVEL"):
        name = (environ.get(variable) or "").strip().upper()
        if name:
            return _LEVELS.get(_ALC_LEVELS.get(name, name), _LEVELS["INFO"])
    return _LEVELS["INFO"]


def metrics_disabled(environ: Mapping[str, str]) -> bool:
    """As Powertools decides: POWERTOOLS_METRICS_DISABLED, or POWERTOOLS_DEV when that is not set."""
    disabled = environ.get("POWERTOOLS_METRICS_DISABLED")
    if disabled is not None:
        return disabled.strip().lower() in _TRUE
    return (environ.get("POWERTOOLS_DEV") or "").strip().lower() in _TRUE


class JsonLogger:
    """One JSON line per record on stdout; `start` sets the keys of the invocation being served."""

    def __init__(self, service: str | None = None, level: int | None = None) -> None:
        self.service = service or os.environ.get("POWERTOOLS_SERVICE_NAME") or "service_undefined"
        self.level = log_level(os.environ) if level is None else level
        self._correlation_id: str | None = None
        # The keys every line of the invocation carries, as JSON members (`"service":"…",…`).
        self._service_json = '"service":' + _string(self.service)
        self._context = self._service_json
        self._function: tuple[Any, ...] = ()
        self._function_json = ""
        self._cold_start = True
        self._second = -1
        self._stamp = ("", "")

    def start(self, context: Any, correlation_id: str | None) -> None:
        """The Lambda context's keys and the correlation id, for every line until the next `start`."""
        function = (
            getattr(context, "function_name", None),
            getattr(context, "memory_limit_in_mb", None),
            getattr(context, "invoked_function_arn", None),
        )
        if function != self._function:  # the same for every invocation of a container: render once
            self._function = function
            self._function_json = _dumps(
                dict(zip(("function_name", "function_memory_size", "function_arn"), function, strict=True))
            )[1:-1]
        request_id = getattr(context, "aws_request_id", None)
        parts = [
            self._service_json,
            ',"cold_start":true,' if self._cold_start else ',"cold_start":false,',
            self._function_json,
            ',"function_request_id":',
            _string(request_id) if type(request_id) is str else _dumps(request_id),
        ]
        if correlation_id is not None:
            parts += (
                ',"correlation_id":',
                _string(correlation_id) if type(correlation_id) is str else _dumps(correlation_id),
            )
        trace_id = os.environ.get("_X_AMZN_TRACE_ID")  # Lambda sets it per invocation
        if trace_id:
            parts += (',"xray_trace_id":', _dumps(trace_id.partition(";")[0].removeprefix("Root=")))
        self._context = "".join(parts)
        self._correlation_id = correlation_id
        self._cold_start = False

    def get_correlation_id(self) -> str | None:
        return self._correlation_id

    def flush(self) -> None:
        """Hand what was written to the runtime (once per invocation, rather than once per line)."""
        sys.stdout.flush()

    def debug(self, message: str, extra: Mapping[str, Any] | None = None) -> None:
        if self.level <= 10:
            self._write("DEBUG", message, extra)

    def info(self, message: str, extra: Mapping[str, Any] | None = None) -> None:
        if self.level <= 20:
            self._write("INFO", message, extra)

    def warning(self, message: str, extra: Mapping[str, Any] | None = None) -> None:
        if self.level <= 30:
            self._write("WARNING", message, extra)

    def error(self, message: str, extra: Mapping[str, Any] | None = None) -> None:
        if self.level <= 40:
            self._write("ERROR", message, extra)

    def exception(self, message: str, extra: Mapping[str, Any] | None = None) -> None:
        """An ERROR line with the exception being handled (`exception`, `exception_name`)."""
        if self.level <= 40:
            import traceback  # only the rare error path pays for it

            kind, value, _ = sys.exc_info()
            fields = dict(extra or {})
            if kind is not None:
                fields["exception"] = "".join(traceback.format_exception(value)).rstrip()
                fields["exception_name"] = kind.__name__
            self._write("ERROR", message, fields)

    def _write(self, level: str, message: str, extra: Mapping[str, Any] | None) -> None:
        caller = sys._getframe(2)  # the function that called info()/warning()/...
        line = (
            f'{{"level":"{level}","location":{_string(f"{caller.f_code.co_name}:{caller.f_lineno}")},'
            f'"message":{_string(message)},"timestamp":"{self._timestamp(time.time())}",{self._context}'
        )
        if extra:
            if not _RESERVED.isdisjoint(extra):  # a field never overwrites the line's own keys
                extra = {name: value for name, value in extra.items() if name not in _RESERVED}
            if extra:
                line += "," + _dumps(extra)[1:]
            else:
                line += "}"
        else:
            line += "}"
        sys.stdout.write(line + "\n")

    def _timestamp(self, now: float) -> str:
        """Powertools' format, `2026-11-23 08:00:00,123+0000` (local time, UTC on Lambda)."""
        second = int(now)
        if second != self._second:
            moment = time.localtime(second)
            self._second = second
            self._stamp = (time.strftime("%Y-%m-%d %H:%M:%S,", moment), time.strftime("%z", moment))
        head, zone = self._stamp
        return f"{head}{_MILLISECONDS[int((now - second) * 1000)]}{zone}"


class EmfMetrics:
    """Counts of one request, written as one EMF document by `flush` (nothing when none was counted).

    As with Powertools' `add_dimension` + `add_metric`, the last route counted names the document's
    `route` dimension, and a metric counted twice has two values.
    """

    def __init__(self, namespace: str, service: str | None = None, *, disabled: bool | None = None) -> None:
        self.namespace = namespace
        self.service = os.environ.get("POWERTOOLS_SERVICE_NAME") if service is None else service
        self.disabled = metrics_disabled(os.environ) if disabled is None else disabled
        self._route: str | None = None
        self._counts: dict[str, int] = {}
        self._documents: dict[tuple[str, tuple[tuple[str, int], ...]], str] = {}

    def count(self, metric: str, route: str) -> None:
        self._route = route
        self._counts[metric] = self._counts.get(metric, 0) + 1

    def flush(self) -> None:
        route, counts = self._route, self._counts
        if route is None or not counts:
            return
        self._route, self._counts = None, {}
        if self.disabled:
            return
        key = (route, tuple(counts.items()))
        tail = self._documents.get(key)
        if tail is None:
            tail = self._documents[key] = self._render_tail(route, counts)
        # Powertools' timestamp: epoch milliseconds of the flush.
        sys.stdout.write(f'{{"_aws":{{"Timestamp":{int(time.time() * 1000)}{tail}\n')

    def _render_tail(self, route: str, counts: dict[str, int]) -> str:
        """All of the document after its timestamp (the same for every request counting the same)."""
        dimensions = {"route": route} if self.service is None else {"route": route, "service": self.service}
        document: dict[str, Any] = {
            "_aws": {
                "Timestamp": 0,
                "CloudWatchMetrics": [
                    {
                        "Namespace": self.namespace,
                        "Dimensions": [list(dimensions)],
                        "Metrics": [{"Name": name, "Unit": "Count"} for name in counts],
                    }
                ],
            },
            **dimensions,
            **{name: [1.0] * number for name, number in counts.items()},
        }
        return _dumps(document).removeprefix('{"_aws":{"Timestamp":0')
