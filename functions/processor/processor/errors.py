"""Processor errors. The split decides an event's fate: permanent → DLQ at once with the reason;
transient → the record fails and SQS retries it with growing delay."""

from __future__ import annotations


class ProcessorError(Exception):
    """Base of every error the processor raises on purpose."""

    permanent: bool = False


class PermanentEventError(ProcessorError):
    """Retrying cannot help (bad data, unknown shape, a 4xx other than 429): dead-letter it now."""

    permanent = True


class InvalidEventError(PermanentEventError):
    """The event's payload does not have the shape its source and topic promise."""


class UnsupportedEventError(PermanentEventError):
    """No adapter or planner handles this source/topic/type."""


class TransientEventError(ProcessorError):
    """Worth retrying later (NOMI 429/5xx/timeout, AWS throttling, an in-progress duplicate)."""
