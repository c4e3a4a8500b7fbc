"""Parking a permanent failure in the dead-letter queue, with why it failed as message attributes.

The body is the original queue message unchanged, so the operator CLI can redrive it as it was.
Attributes: error_reason, error_type, source, event_id, failed_at (ISO 8601 UTC).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

ATTRIBUTE_NAMES = ("error_reason", "error_type", "source", "event_id", "failed_at")


@dataclass(frozen=True)
class DeadLetter:
    """One message for the DLQ."""

    body: str
    error_reason: str
    error_type: str
    source: str
    event_id: str
    failed_at: datetime

    def attributes(self) -> dict[str, dict[str, str]]:
        values = {
            "error_reason": self.error_reason[:1000] or "unknown",
            "error_type": self.error_type or "unknown",
            "source": self.source or "unknown",
            "event_id": self.event_id[:512] or "unknown",
            "failed_at": self.failed_at.isoformat(),
        }
        return {name: {"DataType": "String", "StringValue": value} for name, value in values.items()}


class DeadLetterSender(Protocol):
    """Where permanent failures go."""

    def send(self, letter: DeadLetter) -> None: ...


class SqsDeadLetters:
    """Sends to the DLQ by URL (env DLQ_URL)."""

    def __init__(self, queue_url: str, *, client: Any = None) -> None:
        if client is None:
            import boto3

            client = boto3.client("sqs")
        self._client = client
        self._url = queue_url

    def send(self, letter: DeadLetter) -> None:
        self._client.send_message(
            QueueUrl=self._url, MessageBody=letter.body, MessageAttributes=letter.attributes()
        )


class InMemoryDeadLetters:
    """A DLQ in a list, for tests."""

    def __init__(self) -> None:
        self.letters: list[DeadLetter] = []

    def send(self, letter: DeadLetter) -> None:
        self.letters.append(letter)
