"""The SQS event source mapping, played locally for the processor.

As Lambda's poller does: receive up to the template's BatchSize (gathering for up to
MaximumBatchingWindowInSeconds), build the SQS event, invoke the function, delete what succeeded;
receiving and deleting with the function's role (local/permissions.py checks them against it).
With ReportBatchItemFailures the listed records stay on the queue; an exception or an invalid
response fails the whole batch. Nothing is retried here: the records become visible again when the
queue's visibility timeout expires and SQS redrives them to the DLQ after maxReceiveCount receives.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from local.permissions import acting_as
from local.template import REGION, SqsSourceSpec

_RECEIVE_MAX = 10  # SQS returns at most 10 messages per ReceiveMessage
IDLE_PAUSE_SECONDS = 0.02


def _message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    # Lambda's shape: camelCase keys, both list fields always present.
    attribute: dict[str, Any] = {
        "dataType": value["DataType"],
        "stringListValues": value.get("StringListValues", []),
        "binaryListValues": value.get("BinaryListValues", []),
    }
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        binary = value["BinaryValue"]
        attribute["binaryValue"] = base64.b64encode(binary).decode() if isinstance(binary, bytes) else binary
    return attribute


def build_sqs_event(
    messages: Sequence[dict[str, Any]], *, queue_arn: str, region: str = REGION
) -> dict[str, Any]:
    """The event Lambda's SQS poller sends, from ReceiveMessage results (AttributeNames=All)."""
    records = []
    for message in messages:
        record: dict[str, Any] = {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": dict(message.get("Attributes") or {}),
            "messageAttributes": {
                name: _message_attribute(value)
                for name, value in (message.get("MessageAttributes") or {}).items()
            },
            "md5OfBody": message.get("MD5OfBody"),
            "eventSource": "aws:sqs",
            "eventSourceARN": queue_arn,
            "awsRegion": region,
        }
        if message.get("MD5OfMessageAttributes"):
            record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
        records.append(record)
    return {"Records": records}


class InvalidBatchResponseError(ValueError):
    """A partial-batch response Lambda treats as a failure of the whole batch."""


def failed_message_ids(response: Any, batch_ids: Sequence[str]) -> set[str]:
    """The records a ReportBatchItemFailures response says failed, validated as Lambda validates them.

    None, an empty object or an empty list means every record succeeded; an identifier that is missing,
    empty or not in the batch makes the whole batch fail.
    """
    if response is None or response == "" or response == {}:
        return set()
    if not isinstance(response, dict):
        raise InvalidBatchResponseError("the response is not an object")
    failures = response.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        raise InvalidBatchResponseError("batchItemFailures is not a list")
    failed = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not identifier or identifier not in batch_ids:
            raise InvalidBatchResponseError(f"itemIdentifier {identifier!r} is not a record of this batch")
        failed.add(identifier)
    return failed


@dataclass
class BatchResult:
    """What happened to one batch."""

    messages: list[dict[str, Any]]
    succeeded: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    """Why the whole batch failed (the handler raised or answered invalidly), if it did."""
    duration_ms: float = 0.0


Invoke = Callable[[dict[str, Any]], Any]


class SqsPoller:
    """Polls one queue for one function, one batch at a time, in a background thread."""

    def __init__(
        self,
        *,
        sqs: Any,
        queue_url: str,
        queue_arn: str,
        source: SqsSourceSpec,
        invoke: Invoke,
        wait_seconds: int = 1,
        on_receive: Callable[[SqsPoller, list[dict[str, Any]]], None] | None = None,
        on_batch: Callable[[SqsPoller, BatchResult], None] | None = None,
        on_error: Callable[[str], None] | None = None,
        region: str = REGION,
    ) -> None:
        self._sqs = sqs
        self.queue_url = queue_url
        self.queue_arn = queue_arn
        self.source = source
        self._invoke = invoke
        self._wait_seconds = wait_seconds
        self._on_receive = on_receive
        self._on_batch = on_batch
        self._on_error = on_error
        self._region = region
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.batches = 0
        self.receive_counts: dict[str, int] = {}
        """MessageId → its ApproximateReceiveCount at the latest receive (how often SQS delivered it)."""
        self.processing = 0
        """Records of the batch in hand (in flight on the queue, but not waiting for a retry)."""
        self.deleted: set[str] = set()
        """MessageIds the function handled (deleted from the queue): received for the last time."""

    def receive_batch(self) -> list[dict[str, Any]]:
        """Up to BatchSize messages, waiting up to the batching window to fill the batch."""
        deadline = time.monotonic() + self.source.maximum_batching_window_seconds
        messages: list[dict[str, Any]] = []
        wait = self._wait_seconds
        while len(messages) < self.source.batch_size and not self._stop.is_set():
            with acting_as(self.source.function_id):  # Lambda's poller uses the function's role
                answer = self._sqs.receive_message(
                    QueueUrl=self.queue_url,
                    MaxNumberOfMessages=min(_RECEIVE_MAX, self.source.batch_size - len(messages)),
                    WaitTimeSeconds=wait,
                    AttributeNames=["All"],
                    MessageSystemAttributeNames=["All"],
                    MessageAttributeNames=["All"],
                )
            received = answer.get("Messages", [])
            messages.extend(received)
            remaining = deadline - time.monotonic()
            if not messages or remaining <= 0 or (not received and wait == 0):
                break
            # Within the window keep gathering, but never wait longer than the window has left.
            wait = max(0, min(self._wait_seconds, int(remaining)))
        return messages

    def process(self, messages: list[dict[str, Any]]) -> BatchResult:
        """Invoke the function with one batch and delete the records that succeeded."""
        started = time.perf_counter()
        result = BatchResult(messages=messages)
        event = build_sqs_event(messages, queue_arn=self.queue_arn, region=self._region)
        ids = [m["MessageId"] for m in messages]
        try:
            response = self._invoke(event)
            failed = failed_message_ids(response, ids) if self.source.reports_batch_item_failures else set()
        except Exception as exc:  # the whole batch fails, exactly as when a Lambda invocation errors
            result.error = f"{type(exc).__name__}: {exc}"
            failed = set(ids)
        result.failed = [m for m in messages if m["MessageId"] in failed]
        result.succeeded = [m for m in messages if m["MessageId"] not in failed]
        self._delete(result.succeeded)
        self.deleted.update(m["MessageId"] for m in result.succeeded)
        result.duration_ms = (time.perf_counter() - started) * 1000
        return result

    def _delete(self, messages: list[dict[str, Any]]) -> None:
        for start in range(0, len(messages), _RECEIVE_MAX):
            chunk = messages[start : start + _RECEIVE_MAX]
            with acting_as(self.source.function_id):
                self._sqs.delete_message_batch(
                    QueueUrl=self.queue_url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)
                    ],
                )

    def poll_once(self) -> BatchResult | None:
        """Receive and process one batch; None when the queue had nothing."""
        messages = self.receive_batch()
        if not messages:
            return None
        self.processing = len(messages)
        for message in messages:
            count = (message.get("Attributes") or {}).get("ApproximateReceiveCount")
            if count is not None:
                self.receive_counts[message["MessageId"]] = int(count)
        try:
            if self._on_receive is not None:
                self._on_receive(self, messages)
            result = self.process(messages)
            self.batches += 1
            if self._on_batch is not None:
                self._on_batch(self, result)
        finally:
            # Only now: whoever waits for the queue to settle must also see the batch's report.
            self.processing = 0
        return result

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._run, name=f"poller-{self.source.function_id}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop after the batch in hand (at most one receive wait)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if self.poll_once() is None and self._wait_seconds == 0:
                    # Short polling (tests): pause between empty receives instead of spinning.
                    self._stop.wait(IDLE_PAUSE_SECONDS)
            except (ClientError, BotoCoreError) as exc:
                # The endpoint went away (stopping) or hiccupped: say so, back off, keep polling.
                if self._on_error is not None and not self._stop.is_set():
                    self._on_error(f"polling {self.queue_url} failed: {exc}")
                self._stop.wait(1)
