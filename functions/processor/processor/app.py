"""The processor Lambda: an SQS batch of queued events → NOMI, exactly once, with partial failures.

Logger, Metrics, the tracer (when tracing is on) and the batch processor are built at import; the NOMI client, AWS clients and
the idempotency layer once per container, on first use (`runtime()`), so that tests can set the
environment (and moto) first.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig
from aws_lambda_powertools.utilities.typing import LambdaContext

from processor.batch import ConcurrentBatchProcessor
from processor.deadline import Deadline
from processor.observability import NAMESPACE, BatchStats, emit
from processor.record import RecordProcessor
from processor.shopify_admin.budget import set_time_budget

logger = Logger()


def tracing_enabled(environ: dict[str, str] | None = None) -> bool:
    """Powertools' switch: POWERTOOLS_TRACE_DISABLED=true (or 1) turns X-Ray tracing off."""
    value = (os.environ if environ is None else environ).get("POWERTOOLS_TRACE_DISABLED", "")
    return value.strip().lower() not in {"true", "1", "yes", "on"}


def traced(handler: Callable[..., Any]) -> Callable[..., Any]:
    """The handler under Powertools' X-Ray tracer when tracing is on. Off, the tracer is never built:
    building it imports the X-Ray SDK, a third of the processor's cold start."""
    if not tracing_enabled():
        return handler
    from aws_lambda_powertools import Tracer

    return Tracer().capture_lambda_handler(handler)


metrics = Metrics(namespace=os.getenv("POWERTOOLS_METRICS_NAMESPACE", NAMESPACE))
# Source facts are retried for days (Stripe: 3 days), so idempotency records must outlive that.
idempotency_config = IdempotencyConfig(event_key_jmespath="key", expires_after_seconds=7 * 24 * 3600)
# The current invocation's time budget: NOMI retries and new records stop where it ends.
deadline = Deadline()


def _contact_key(record: dict[str, Any]) -> str | None:
    return runtime().contact_key(SQSRecord(record))


processor = ConcurrentBatchProcessor(
    EventType.SQS,
    max_workers=int(os.getenv("RECORD_CONCURRENCY", "10")),
    key_of=_contact_key,
    raise_on_entire_batch_failure=False,
    logger=logger,
)


@functools.cache
def runtime() -> RecordProcessor:
    """The per-container record processor (NOMI client, DynamoDB, S3, SQS, idempotency)."""
    from processor.wiring import build_record_processor

    return build_record_processor(logger=logger, idempotency_config=idempotency_config, deadline=deadline)


def record_handler(record: SQSRecord) -> dict[str, Any]:
    return runtime().handle(record)


@logger.inject_lambda_context
@traced
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    idempotency_config.register_lambda_context(context)  # lets a timed-out INPROGRESS record expire
    deadline.start(context)
    set_time_budget(lambda: context.get_remaining_time_in_millis() / 1000)
    worker = runtime()
    worker.stats = BatchStats()
    metrics.add_metric(name="BatchRecords", unit=MetricUnit.Count, value=len(event.get("Records") or []))
    try:
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    finally:
        deadline.finish()
        emit(worker.stats, metrics)
