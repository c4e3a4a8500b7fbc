"""Work the dead-letter queue: list messages with their failure reasons, show one, redrive some or all.

Works against AWS and against moto (moto lacks StartMessageMoveTask, so redrive is SendMessage to the
main queue, then DeleteMessage from the DLQ — never a delete before the copy succeeded).
`list`/`show` peek: messages are held only while paging and handed back (visibility 0) at once.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, TextIO

from cli.common import CliError, local_stack_info, stack_output, stack_outputs

ERROR_ATTRIBUTES = ("error_reason", "error_type", "failed_at")
_EMPTY_ROUNDS = 3  # SQS samples servers: an empty answer does not prove the queue is empty
_HOLD_SECONDS = 60  # how long a listing may hold messages if it dies before handing them back


class DlqError(CliError):
    """The DLQ tool cannot do what was asked (queue not configured, message not found)."""


@dataclass
class DeadMessage:
    """One message in the DLQ."""

    message_id: str
    body: str
    attributes: dict[str, str] = field(default_factory=dict)
    message_attributes: dict[str, dict[str, Any]] = field(default_factory=dict)
    receipt_handle: str = ""

    def attribute(self, name: str) -> str:
        value = self.message_attributes.get(name, {})
        return str(value.get("StringValue", "")) if isinstance(value, dict) else ""

    def summary(self) -> dict[str, str]:
        return {
            "message_id": self.message_id,
            "source": self.attribute("source"),
            "event_id": self.attribute("event_id"),
            "error_type": self.attribute("error_type") or "(redrive policy: retries exhausted)",
            "failed_at": self.attribute("failed_at"),
            "receive_count": self.attributes.get("ApproximateReceiveCount", ""),
            "error_reason": self.attribute("error_reason"),
        }


def sqs_client(endpoint_url: str | None = None) -> Any:
    import boto3

    return boto3.client("sqs", endpoint_url=endpoint_url or os.getenv("AWS_ENDPOINT_URL") or None)


def peek(sqs: Any, dlq_url: str, *, limit: int = 1000) -> list[DeadMessage]:
    """Up to `limit` distinct DLQ messages, made visible again before returning.

    A receive with VisibilityTimeout=0 would keep answering with the same first ten messages, so the
    messages are held briefly while paging and handed back (visibility 0) at the end.
    """
    messages = _hold(sqs, dlq_url, limit=limit)
    _release(sqs, dlq_url, messages)
    return messages[:limit]


def find(sqs: Any, dlq_url: str, message_id: str) -> DeadMessage:
    for message in peek(sqs, dlq_url):
        if message.message_id == message_id:
            return message
    raise DlqError(f"message {message_id} is not in the DLQ")


def redrive(sqs: Any, dlq_url: str, queue_url: str, *, message_ids: set[str] | None = None) -> list[str]:
    """Move the chosen messages (all when `message_ids` is None) back to the main queue.

    Each message is copied with its original attributes minus the failure ones, and deleted from the
    DLQ only after the copy succeeded; the others are handed back. Returns the DLQ message ids moved.
    """
    held = _hold(sqs, dlq_url, limit=None)
    moved: list[str] = []
    try:
        for message in held:
            if message_ids is not None and message.message_id not in message_ids:
                continue
            sqs.send_message(
                QueueUrl=queue_url, MessageBody=message.body, MessageAttributes=_original_attributes(message)
            )
            sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=message.receipt_handle)
            moved.append(message.message_id)
    finally:
        _release(sqs, dlq_url, [m for m in held if m.message_id not in moved])
    return moved


def _hold(sqs: Any, url: str, *, limit: int | None) -> list[DeadMessage]:
    seen: dict[str, DeadMessage] = {}
    empty = 0
    while (limit is None or len(seen) < limit) and empty < _EMPTY_ROUNDS:
        fresh = [m for m in _receive(sqs, url, visibility=_HOLD_SECONDS) if m.message_id not in seen]
        empty = 0 if fresh else empty + 1
        for message in fresh:
            seen[message.message_id] = message
    return list(seen.values())


def _release(sqs: Any, url: str, messages: list[DeadMessage]) -> None:
    for start in range(0, len(messages), 10):
        chunk = messages[start : start + 10]
        sqs.change_message_visibility_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m.receipt_handle, "VisibilityTimeout": 0}
                for i, m in enumerate(chunk)
            ],
        )


def _receive(sqs: Any, url: str, *, visibility: int) -> list[DeadMessage]:
    answer = sqs.receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=10,
        VisibilityTimeout=visibility,
        WaitTimeSeconds=0,
        AttributeNames=["All"],
        MessageAttributeNames=["All"],
    )
    return [
        DeadMessage(
            message_id=m["MessageId"],
            body=m["Body"],
            attributes=m.get("Attributes", {}),
            message_attributes=m.get("MessageAttributes", {}),
            receipt_handle=m["ReceiptHandle"],
        )
        for m in answer.get("Messages", [])
    ]


def _original_attributes(message: DeadMessage) -> dict[str, dict[str, Any]]:
    kept: dict[str, dict[str, Any]] = {}
    for name, value in message.message_attributes.items():
        if name in ERROR_ATTRIBUTES:
            continue
        kept[name] = {k: v for k, v in value.items() if k in ("DataType", "StringValue", "BinaryValue")}
    return kept


# --- command line ----------------------------------------------------------------------------------


def add_parser(subparsers: Any) -> None:
    """Register `dlq list|show|redrive` on the main CLI."""
    dlq = subparsers.add_parser("dlq", help="work the dead-letter queue")
    dlq.add_argument("--dlq-url", default=None, help="DLQ URL (default: env DLQ_URL)")
    dlq.add_argument("--queue-url", default=None, help="main queue URL for redrive (default: env QUEUE_URL)")
    dlq.add_argument(
        "--endpoint-url", default=None, help="SQS endpoint (moto/local; default: AWS_ENDPOINT_URL)"
    )
    dlq.add_argument("--stack", default=None, help="a deployed stack's name: its queue URLs from its outputs")
    dlq.add_argument("--local", action="store_true", help="the local stack started by `make run`")
    actions = dlq.add_subparsers(dest="dlq_command", required=True)
    listing = actions.add_parser("list", help="list DLQ messages with their failure reasons")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    listing.add_argument("--limit", type=int, default=1000)
    show = actions.add_parser("show", help="show one message: attributes and body")
    show.add_argument("message_id")
    again = actions.add_parser("redrive", help="send messages back to the main queue")
    which = again.add_mutually_exclusive_group(required=True)
    which.add_argument("--all", action="store_true", help="every message in the DLQ")
    which.add_argument("message_ids", nargs="*", default=[], metavar="ID")
    dlq.set_defaults(handler=run)


def run(args: Any, *, sqs: Any = None, out: TextIO | None = None) -> int:
    """Run one `dlq` command; returns the exit code."""
    import sys

    out = out or sys.stdout
    found_dlq, found_queue, endpoint_url = _stack_urls(args)
    dlq_url = args.dlq_url or found_dlq or os.getenv("DLQ_URL")
    if not dlq_url:
        raise DlqError("no DLQ: pass --dlq-url, --stack or --local, or set DLQ_URL")
    sqs = sqs or sqs_client(endpoint_url)
    if args.dlq_command == "list":
        messages = peek(sqs, dlq_url, limit=args.limit)
        _print_list(messages, out, as_json=args.json)
        return 0
    if args.dlq_command == "show":
        message = find(sqs, dlq_url, args.message_id)
        shown = {**message.summary(), "attributes": message.attributes, "body": _maybe_json(message.body)}
        out.write(json.dumps(shown, indent=2, ensure_ascii=False) + "\n")
        return 0
    queue_url = args.queue_url or found_queue or os.getenv("QUEUE_URL")
    if not queue_url:
        raise DlqError("no main queue: pass --queue-url or set QUEUE_URL")
    if not args.all and not args.message_ids:
        raise DlqError("name message ids to redrive, or pass --all")
    wanted = None if args.all else set(args.message_ids)
    moved = redrive(sqs, dlq_url, queue_url, message_ids=wanted)
    for message_id in moved:
        out.write(f"redriven {message_id}\n")
    missing = sorted((wanted or set()) - set(moved))
    for message_id in missing:
        out.write(f"not found {message_id}\n")
    out.write(f"{len(moved)} message(s) redriven\n")
    return 1 if missing else 0


def _stack_urls(args: Any) -> tuple[str | None, str | None, str | None]:
    """The DLQ URL, the main queue URL and the AWS endpoint of `--stack` or `--local` (else Nones)."""
    if getattr(args, "stack", None):
        outputs = stack_outputs(args.stack, endpoint_url=args.endpoint_url)
        return (
            stack_output(outputs, "EventDeadLetterQueueUrl", args.stack),
            outputs.get("EventQueueUrl"),
            args.endpoint_url,
        )
    if getattr(args, "local", False):
        info = local_stack_info()
        return info.get("dlq_url"), info.get("queue_url"), args.endpoint_url or info.get("aws_endpoint_url")
    return None, None, args.endpoint_url


def _print_list(messages: list[DeadMessage], out: TextIO, *, as_json: bool) -> None:
    if as_json:
        for message in messages:
            out.write(json.dumps(message.summary(), ensure_ascii=False) + "\n")
        return
    out.write(f"{len(messages)} message(s) in the DLQ\n")
    for row in _rows(messages):
        out.write(row + "\n")


def _rows(messages: list[DeadMessage]) -> Iterator[str]:
    for message in messages:
        s = message.summary()
        yield (
            f"{s['message_id']}  {s['source'] or '-'}  {s['event_id'] or '-'}  {s['error_type']}  "
            f"{s['failed_at'] or '-'}  receives={s['receive_count'] or '-'}\n    {s['error_reason'][:200]}"
        )


def _maybe_json(body: str) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return body
