"""`import processor.app` (Lambda's init phase) builds Logger, Metrics and the batch processor but
imports neither boto3 nor the record pipeline: those come with the first record, or with `prime()`
(which SnapStart runs before its snapshot)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from processor import observability
from processor.execute import CallCounter

DEFERRED = ("boto3", "pydantic", "httpx", "processor.execute", "processor.record", "nomi_client.models")
_PROBE = (
    "import json, sys, processor.app as app\n"
    "seen = lambda: {m: m in sys.modules for m in json.loads(sys.argv[1])}\n"
    "at_import = seen()\n"
    "app.prime()\n"
    "print(json.dumps({'import': at_import, 'prime': seen(), 'built': app.runtime.cache_info().currsize}))\n"
)


def _probe() -> dict:
    env = {**os.environ, "POWERTOOLS_TRACE_DISABLED": "true", "AWS_DEFAULT_REGION": "us-east-1"}
    completed = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(DEFERRED)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_import_defers_boto3_and_the_record_pipeline_and_prime_imports_them_without_building() -> None:
    seen = _probe()
    assert seen["import"] == dict.fromkeys(DEFERRED, False)
    assert seen["prime"] == dict.fromkeys(DEFERRED, True)
    assert seen["built"] == 0  # prime builds no client: nothing network-bound goes into a snapshot


def test_batch_stats_is_a_call_counter_built_once() -> None:
    from processor.observability import BatchStats

    assert issubclass(BatchStats, CallCounter)
    assert observability.BatchStats is BatchStats
    assert (BatchStats.__module__, BatchStats.__qualname__) == ("processor.observability", "BatchStats")
    stats = BatchStats()
    stats.event("shopify", "order.shipped", "sent")
    stats.record("succeeded")
    assert (stats.events, stats.records, stats.calls) == (
        {("shopify", "order.shipped", "sent"): 1},
        {"succeeded": 1},
        {},
    )


def test_app_idempotency_config_is_the_one_config_and_other_names_raise() -> None:
    import pytest

    from processor import app

    with pytest.raises(AttributeError):
        app.no_such_thing  # noqa: B018
    assert app.idempotency_config is app.idempotency()
    assert app.idempotency_config.expires_after_seconds == 7 * 24 * 3600
