"""The processor Lambda: an SQS batch of queued events → NOMI, exactly once, with partial failures.

Logger, Metrics, the tracer (when tracing is on) and the batch processor are built at import; the NOMI client, AWS clients and
the idempotency layer once per container, on first use (`runtime()`), so that tests can set the
environment (and moto) first.

What records need but building those objects does not is imported on first use too: the idempotency
utility (it imports boto3) and the record pipeline (pydantic models, planner, phone numbers). The
import is cheap and the first invocation pays the rest, which moves cost rather than saving it
(docs/snapstart.md has both figures). `prime()` imports it all ahead of time: the SnapStart hooks
(`processor.snapstart`) call it before the snapshot, so that restored environments start with it.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from processor import observability, snapstart
from processor.batch import ConcurrentBatchProcessor
from processor.deadline import INVOCATION
from processor.observability import NAMESPACE, emit

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

    from processor.record import RecordProcessor

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
IDEMPOTENCY_EXPIRES_AFTER_SECONDS = 7 * 24 * 3600
# The current invocation's time budget: NOMI and Admin API retries and new records stop where it ends.
deadline = INVOCATION


@functools.cache
def idempotency() -> IdempotencyConfig:
    """The container's one idempotency config (built on first use: the utility imports boto3)."""
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

    return IdempotencyConfig(
        event_key_jmespath="key", expires_after_seconds=IDEMPOTENCY_EXPIRES_AFTER_SECONDS
    )


def __getattr__(name: str) -> Any:
    """`idempotency_config`, the module attribute it always was, is `idempotency()`."""
    if name == "idempotency_config":
        return idempotency()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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

    return build_record_processor(logger=logger, idempotency_config=idempotency(), deadline=deadline)


def prime() -> None:
    """Import everything the first record would, without building a client or reading a secret.

    For a snapshot (SnapStart): work done here is in it, so restored environments skip it.
    """
    import boto3  # noqa: F401 - imported for its import time only
    import httpcore  # noqa: F401 - httpx's transport, imported when a client is built
    from aws_lambda_powertools.utilities import parameters  # noqa: F401 - the secrets

    import nomi_client.client  # noqa: F401 - httpx and the NOMI models
    from processor import execute, receipts, record, sources, wiring  # noqa: F401

    idempotency()


def forget_runtime() -> None:
    """Drop the per-container record processor (its NOMI client closed); the next record rebuilds it."""
    if runtime.cache_info().currsize:
        try:
            runtime().deps.client.close()
        except Exception:  # a pool that died with the snapshot: dropping it is all that is left to do
            logger.debug("closing the NOMI client before rebuilding it failed", exc_info=True)
    runtime.cache_clear()


snapstart.register(prime=prime, forget=(forget_runtime,))


def record_handler(record: SQSRecord) -> dict[str, Any]:
    return runtime().handle(record)


@logger.inject_lambda_context
@traced
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    idempotency().register_lambda_context(context)  # lets a timed-out INPROGRESS record expire
    deadline.start(context)
    worker = runtime()
    worker.stats = observability.BatchStats()
    metrics.add_metric(name="BatchRecords", unit=MetricUnit.Count, value=len(event.get("Records") or []))
    try:
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    finally:
        deadline.finish()
        emit(worker.stats, metrics)
