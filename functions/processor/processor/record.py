"""One SQS record: envelope → payload (S3 claim check) → canonical events → plans → NOMI, once.

Fate of a record:
- success (every event processed, skipped, or a duplicate) → the batch deletes it;
- permanent failure (bad envelope/payload, unsupported, invalid phone, a NOMI 4xx that is not about
  our configuration) → sent to the DLQ now with the reason as message attributes, then counted
  handled so SQS does not waste retries on it;
- a Shopify topic or Stripe type the gateway does not handle (an EventBridge rule let it through, a
  producer queued it) → acknowledged with a logged reason and a metric, as the HTTP route answers 200;
- anything else, unknown exceptions included, is transient → the record fails (TransientEventError),
  its visibility is stretched to `retry_delay(receives)` and SQS redelivers it; after maxReceiveCount
  the queue's redrive policy moves it to the DLQ, so nothing is lost. With the template's
  MaxReceiveCount the retries span more than a day (`retry_window`, docs/operating.md): a NOMI outage
  of hours costs no event.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from gateway_events import Envelope, EnvelopeError, parse_queue_message
from gateway_events.topics import is_handled
from nomi_client import errors as nomi_errors
from nomi_client.masking import mask, mask_text
from processor import receipts
from processor.buyers import with_remembered_buyer
from processor.checkpoints import CheckpointStore
from processor.deadline import Deadline
from processor.dlq import DeadLetter, DeadLetterSender
from processor.errors import PermanentEventError, TransientEventError
from processor.execute import Executor
from processor.observability import BatchStats
from processor.plan import ordering_phone, plan

# Retry n waits BASE × 2^(n-1), capped: quick first retries for blips, then one try every CAP for
# the rest of the window (SQS allows a visibility timeout of up to 12 hours).
BACKOFF_BASE_SECONDS = 60
BACKOFF_CAP_SECONDS = 2 * 3600

# NOMI errors that say our deployment is wrong (key, abilities), not the event: retry (then the
# redrive policy) instead of dead-lettering every event at once while the key is being fixed.
_CONFIGURATION_ERRORS: tuple[type[Exception], ...] = (
    nomi_errors.AuthenticationError,
    nomi_errors.PermissionDeniedError,
    nomi_errors.ConfigurationError,
)


@dataclass
class RecordDeps:
    """What processing a record needs; built once per container (see app.py)."""

    settings: Any
    client: Any
    checkpoints: CheckpointStore
    dead_letters: DeadLetterSender
    adapt: Callable[[Envelope, Any, Any], list[Any]]
    s3: Any = None
    sqs: Any = None
    idempotent: Callable[..., dict[str, Any]] | None = None  # Powertools-wrapped `process_envelope`
    logger: Any = None
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    deadline: Deadline | None = None
    receipts: Any = None  # processor.receipts.ReceiptStore; None writes no consent receipts


class RecordProcessor:
    """Processes one SQS record at a time; thread-safe (the batch calls it from several threads)."""

    def __init__(self, deps: RecordDeps) -> None:
        self.deps = deps
        self.stats = BatchStats()

    # --- the record --------------------------------------------------------------------------
    def handle(self, record: Any) -> dict[str, Any]:
        """Process one record (an SQSRecord); raises TransientEventError to have SQS retry it."""
        # Log keys live per thread: a record that fails before it names itself (a poison message)
        # must not log under the previous record's correlation id and topic.
        self._clear_log_context()
        try:
            return self._handle(record)
        finally:
            self._clear_log_context()

    def _handle(self, record: Any) -> dict[str, Any]:
        envelope: Envelope | None = None
        try:
            self.check_time_left()
            envelope = parse_queue_message(record.body, received_at=_sent_at(record))
            self._log_context(envelope)
            payload = self.fetch_payload(envelope)
            unhandled = unhandled_topic(envelope, payload)
            if unhandled is not None:
                return self.acknowledge_unhandled(*unhandled)
            identity = identity_of(envelope)
            result = self.run_idempotent(identity, envelope, payload, redelivery=_receives(record) > 1)
        except Exception as exc:
            return self.fail(record, envelope, exc)
        self.stats.record("succeeded")
        self._log("info", "record processed", outcome=mask(result))
        return result

    def check_time_left(self) -> None:
        """Start no record the invocation has no time left for: it would be cut off half done."""
        if self.deps.deadline is not None and self.deps.deadline.expired():
            raise TransientEventError("no time left in this invocation; retried on the next delivery")

    def acknowledge_unhandled(self, source: str, topic: str) -> dict[str, Any]:
        """A topic/type the gateway does not handle: acknowledged (deleted), never dead-lettered."""
        self.stats.skip("unhandled_topic")
        self.stats.event(source, topic, "acknowledged")
        self.stats.record("acknowledged")
        self._log(
            "info", "acknowledged: topic not handled", reason="unhandled_topic", source=source, topic=topic
        )
        return {"acknowledged": True, "reason": "unhandled_topic", "source": source, "topic": topic}

    def run_idempotent(
        self, identity: str, envelope: Envelope, payload: Any, *, redelivery: bool = False
    ) -> dict[str, Any]:
        nonce = uuid.uuid4().hex
        process = self.deps.idempotent or self.process_envelope
        # One unit of work per record: the steps' completions are written with the idempotency
        # record's own (or when it ends), not one request each.
        with self.deps.checkpoints.unit_of_work():
            result = process(
                identity={"key": identity},
                envelope=envelope,
                payload=payload,
                nonce=nonce,
                redelivery=redelivery,
            )
        if result.get("nonce") != nonce:
            # Powertools answered from the idempotency record: this delivery was processed before.
            result = {**result, "duplicate_of_delivery": True}
            self.stats.event(envelope.source, envelope.topic, "duplicate_delivery")
        return result

    def process_envelope(
        self,
        *,
        identity: dict[str, str],
        envelope: Envelope,
        payload: Any,
        nonce: str,
        redelivery: bool = False,
    ) -> dict[str, Any]:
        """Adapt, plan and execute every event of one envelope. Wrapped by Powertools idempotency on
        `identity` (the source's identity of the fact), never the SQS message id."""
        events = self.deps.adapt(envelope, payload, self.deps.settings)
        executor = Executor(
            self.deps.client,
            self.deps.checkpoints,
            observer=self.stats,
            clock=self.deps.clock,
            receipts=receipts.recorder(
                self.deps.receipts, receipts.ReceiptContext.of(envelope, payload), self.deps.clock
            ),
        )
        outcomes = []
        if not events:
            self.stats.skip("no_canonical_event")
            self.stats.event(envelope.source, envelope.topic, "acknowledged")
        for index, event in enumerate(events):
            event = with_remembered_buyer(event, self.deps.checkpoints, self.deps.settings)
            event_plan = plan(event, self.deps.settings)
            # The index keeps two events of one envelope from sharing event-scoped checkpoints.
            outcome = executor.run(event_plan, owner=f"{identity['key']}#{index}", redelivery=redelivery)
            receipts.forget_if_redact(self.deps.receipts, event, event_plan)
            self.stats.event(envelope.source, event_plan.event_type, outcome.status)
            for skip in outcome.skips:
                self._log(
                    "info",
                    "skipped",
                    event_type=event_plan.event_type,
                    reason=skip.reason,
                    detail=skip.detail,
                )
            outcomes.append(outcome.as_dict())
        return {"identity": identity["key"], "nonce": nonce, "events": outcomes}

    def fetch_payload(self, envelope: Envelope) -> Any:
        """The envelope's payload, from S3 when it was too large for SQS (claim check)."""
        ref = envelope.payload_ref
        if ref is None:
            return envelope.payload
        from botocore.exceptions import ClientError

        try:
            body = self.deps.s3.get_object(Bucket=ref.bucket, Key=ref.key)["Body"].read()
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("NoSuchKey", "NoSuchBucket", "404"):
                raise PermanentEventError(
                    f"claim-checked payload s3://{ref.bucket}/{ref.key} is missing"
                ) from exc
            raise
        if hashlib.sha256(body).hexdigest() != ref.sha256:
            raise PermanentEventError(f"claim-checked payload s3://{ref.bucket}/{ref.key} fails its SHA-256")
        try:
            return json.loads(body)
        except ValueError as exc:
            raise PermanentEventError("claim-checked payload is not JSON") from exc

    # --- failures ----------------------------------------------------------------------------
    def fail(self, record: Any, envelope: Envelope | None, exc: Exception) -> dict[str, Any]:
        """Dead-letter a permanent failure (and count it handled) or re-raise as transient."""
        reason = mask_text(f"{type(exc).__name__}: {exc}")[:1000]
        if not is_permanent(exc):
            self.stats.record("retried")
            self._log(
                "warning", "record failed, will be retried", error_type=type(exc).__name__, reason=reason
            )
            self.delay_retry(record, exc)
            raise TransientEventError(reason) from exc
        letter = DeadLetter(
            body=record.body,
            error_reason=reason,
            error_type=type(exc).__name__,
            source=envelope.source if envelope else _attribute(record, "source") or "unknown",
            event_id=envelope.event_id if envelope else _attribute(record, "event_id") or record.message_id,
            failed_at=self.deps.clock(),
        )
        try:
            self.deps.dead_letters.send(letter)
        except Exception as send_exc:
            # Could not park it: fail the record so SQS keeps it (and redrives it in the end).
            self.stats.record("retried")
            raise TransientEventError(f"DLQ send failed: {type(send_exc).__name__}") from exc
        self.stats.record("dead_lettered")
        if envelope is not None:
            self.stats.event(envelope.source, envelope.topic, "dead_lettered")
        self._log("error", "permanent failure, sent to the DLQ", error_type=type(exc).__name__, reason=reason)
        return {"dead_lettered": True, "error_type": type(exc).__name__}

    def delay_retry(self, record: Any, exc: Exception) -> None:
        """Stretch the record's visibility so retries back off (`retry_delay`)."""
        if self.deps.sqs is None:
            return
        receives = _receives(record)
        retry_after = getattr(exc.__cause__ or exc, "retry_after", None) or getattr(exc, "retry_after", None)
        delay = retry_delay(receives, retry_after)
        try:
            self.deps.sqs.change_message_visibility(
                QueueUrl=queue_url(record.event_source_arn),
                ReceiptHandle=record.receipt_handle,
                VisibilityTimeout=delay,
            )
        except Exception as visibility_exc:  # the retry still happens, only sooner
            self._log("warning", "could not delay the retry", error_type=type(visibility_exc).__name__)

    # --- per-contact ordering ----------------------------------------------------------------
    def contact_key(self, record: Any) -> str | None:
        """The E.164 phone a record is about (for ordering within a contact), or None if unknown.

        Cheap and side-effect free: no S3 fetch (claim-checked records run on their own), errors → None.
        """
        try:
            envelope = parse_queue_message(record.body, received_at=_sent_at(record))
            if envelope.payload_ref is not None:
                return None
            for event in self.deps.adapt(envelope, envelope.payload, self.deps.settings):
                phone = ordering_phone(event, self.deps.settings)
                if phone is not None:
                    return phone
        except Exception:
            return None
        return None

    # --- logging -----------------------------------------------------------------------------
    def _clear_log_context(self) -> None:
        logger = self.deps.logger
        if logger is not None and hasattr(logger, "thread_safe_clear_keys"):
            logger.thread_safe_clear_keys()

    def _log_context(self, envelope: Envelope) -> None:
        logger = self.deps.logger
        if logger is not None and hasattr(logger, "thread_safe_append_keys"):
            logger.thread_safe_append_keys(
                correlation_id=envelope.event_id, source=envelope.source, topic=envelope.topic
            )

    def _log(self, level: str, message: str, **extra: Any) -> None:
        if self.deps.logger is not None:
            getattr(self.deps.logger, level)(message, extra=extra)


def retry_delay(receives: int, retry_after: float | None = None) -> int:
    """Seconds before the next delivery of a record that failed on delivery `receives` (1 = first):
    BASE × 2^(receives-1) capped at CAP, and never shorter than NOMI's Retry-After (within the cap)."""
    delay = min(BACKOFF_BASE_SECONDS * 2 ** max(receives - 1, 0), BACKOFF_CAP_SECONDS)
    if retry_after:
        delay = max(delay, min(int(retry_after) + 1, BACKOFF_CAP_SECONDS))
    return int(delay)


def retry_window(max_receive_count: int) -> int:
    """Seconds from a record's first delivery until SQS dead-letters it when every delivery fails:
    after the last of `max_receive_count` deliveries it waits once more, then the redrive policy moves
    it (processing time not counted)."""
    return sum(retry_delay(n) for n in range(1, max_receive_count + 1))


def unhandled_topic(envelope: Envelope, payload: Any) -> tuple[str, str] | None:
    """(source, topic) of a Shopify topic or Stripe type the gateway does not handle, else None.

    EventBridge events are judged by what they wrap; one that cannot be unwrapped is left to the
    adapter, which says what is wrong with it.
    """
    if envelope.source == "eventbridge":
        from processor.sources.eventbridge import unwrap

        try:
            envelope = unwrap(envelope, payload)
        except Exception:
            return None
    if is_handled(envelope.source, envelope.topic):
        return None
    return envelope.source, envelope.topic


def identity_of(envelope: Envelope) -> str:
    """The source's identity of the fact a delivery carries (the idempotency key).

    Shopify: X-Shopify-Event-Id + topic when present (it is shared by every delivery of one merchant
    action to this topic, retries of one webhook id included), else the webhook id; EventBridge: the
    wrapped source's identity; others: source + event id.
    """
    if envelope.source == "eventbridge":
        try:
            from processor.sources.eventbridge import unwrap

            envelope = unwrap(envelope, envelope.payload)
        except Exception:
            return f"eventbridge:{envelope.event_id}"
    shopify_event = envelope.headers.get("x-shopify-event-id")
    if envelope.source == "shopify" and shopify_event:
        return f"shopify:event:{shopify_event}:{envelope.topic}"
    return f"{envelope.source}:{envelope.event_id}"


def is_permanent(exc: BaseException) -> bool:
    """Permanent: retrying the same record cannot help. Unknown exceptions are transient."""
    if isinstance(exc, TransientEventError):
        return False
    if isinstance(exc, EnvelopeError | PermanentEventError | ValidationError | nomi_errors.PhoneNumberError):
        return True
    if isinstance(exc, RecursionError):
        # JSON nested deeper than the interpreter's recursion limit: the same body fails every time.
        return True
    if isinstance(exc, (*_CONFIGURATION_ERRORS, nomi_errors.AmbiguousSendError)):
        return False
    if isinstance(exc, nomi_errors.NomiError):
        return not exc.retryable
    return False


def queue_url(arn: str) -> str:
    """`arn:aws:sqs:<region>:<account>:<name>` → the queue URL (saves a GetQueueUrl call)."""
    _, partition, _, region, account, name = arn.split(":", 5)
    domain = "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com"
    return f"https://sqs.{region}.{domain}/{account}/{name}"


def _sent_at(record: Any) -> datetime | None:
    try:
        millis = int(record.attributes.sent_timestamp)
    except (TypeError, ValueError, AttributeError, KeyError):
        return None
    return datetime.fromtimestamp(millis / 1000, tz=UTC)


def _attribute(record: Any, name: str) -> str | None:
    try:
        attribute = record.message_attributes[name]
    except (AttributeError, KeyError):
        return None
    return None if attribute is None else attribute.string_value


def _receives(record: Any) -> int:
    """How often SQS has delivered the record, this delivery included (1 when it does not say)."""
    try:
        return int(record.attributes.approximate_receive_count or 1)
    except (TypeError, ValueError, AttributeError, KeyError):
        return 1
