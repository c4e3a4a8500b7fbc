"""The processor's metrics: names and dimensions in one place.

Records run on threads and Powertools Metrics keeps one shared metric set, so threads only count
(`BatchStats`, locked) and the handler's thread emits the metrics once per batch.

`BatchStats` extends the executor's `CallCounter` from `processor.counting`, not `processor.execute`
(the planner and the models, half the processor's import time), so importing this module at init
stays cheap.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from processor.counting import CallCounter

NAMESPACE = "NomiGateway"

METRIC_EVENTS = "Events"  # dimensions: source, type, outcome
METRIC_RECORDS = "Records"  # dimension: result (succeeded, dead_lettered, retried)
METRIC_NOMI_CALLS = "NomiCalls"  # dimension: endpoint
METRIC_NOMI_ERRORS = "NomiErrors"  # dimensions: endpoint, error
METRIC_SKIPS = "Skips"  # dimension: reason


class BatchStats(CallCounter):
    """Everything one batch counts: NOMI calls, skips, events and records by result."""

    def __init__(self) -> None:
        super().__init__()
        self.events: Counter[tuple[str, str, str]] = Counter()
        self.records: Counter[str] = Counter()
        self._stats_lock = threading.Lock()

    def event(self, source: str, event_type: str, outcome: str) -> None:
        with self._stats_lock:
            self.events[(source, event_type, outcome)] += 1

    def record(self, result: str) -> None:
        with self._stats_lock:
            self.records[result] += 1


def emit(stats: BatchStats, metrics: Any) -> None:
    """Write the batch's counts as EMF metrics (one dimension set per metric)."""
    from aws_lambda_powertools.metrics import MetricUnit, single_metric

    namespace = getattr(metrics, "namespace", None) or NAMESPACE

    def one(name: str, value: int, **dimensions: str) -> None:
        with single_metric(name=name, unit=MetricUnit.Count, value=value, namespace=namespace) as metric:
            for key, dim in dimensions.items():
                metric.add_dimension(name=key, value=dim)

    for (source, event_type, outcome), n in stats.events.items():
        one(METRIC_EVENTS, n, source=source, type=event_type, outcome=outcome)
    for result, n in stats.records.items():
        one(METRIC_RECORDS, n, result=result)
    for endpoint, n in stats.calls.items():
        one(METRIC_NOMI_CALLS, n, endpoint=endpoint)
    for (endpoint, error), n in stats.errors.items():
        one(METRIC_NOMI_ERRORS, n, endpoint=endpoint, error=error)
    for reason, n in stats.skips.items():
        one(METRIC_SKIPS, n, reason=reason)
