"""Errors of the NOMI client. Every error says whether retrying the same call can help (`retryable`).

This module imports neither httpx nor boto3: ingest imports `nomi_client.phones`, which raises
`PhoneNumberError`, and must stay light.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any


class NomiError(Exception):
    """Base of every error the client raises on purpose."""

    retryable: bool = False


class ConfigurationError(NomiError):
    """The client is not set up to make this call (no API key, a bad base URL)."""


class NomiAPIError(NomiError):
    """NOMI answered, and the answer is an error status or an envelope with `success: false`."""

    def __init__(self, message: str, *, status_code: int, body: Any = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.body = body

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code}, message={self.message!r})"


class AuthenticationError(NomiAPIError):
    """401: the API key is missing or wrong."""


class PermissionDeniedError(NomiAPIError):
    """403: the key lacks the ability the call needs (`read`, `update`)."""


class NotFoundError(NomiAPIError):
    """404: the contact (or path) does not exist."""


class CoolingOffError(NomiAPIError):
    """422 with `data.hours_remaining`: re-opt-in blocked while the cooling-off period runs."""

    def __init__(self, message: str, *, status_code: int, body: Any = None, hours_remaining: int) -> None:
        super().__init__(message, status_code=status_code, body=body)
        self.hours_remaining = hours_remaining


class ValidationError(NomiAPIError):
    """Any other 4xx, or a 200 whose envelope says `success: false`: the request itself is wrong."""


class RateLimitError(NomiAPIError):
    """429: too many requests; `retry_after` is the server's wait in seconds when it named one."""

    retryable = True

    def __init__(
        self, message: str, *, status_code: int = 429, body: Any = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, status_code=status_code, body=body)
        self.retry_after = retry_after


class ServerError(NomiAPIError):
    """5xx (or an answer that is not NOMI's JSON envelope): a fault on NOMI's side, usually transient."""

    retryable = True


class TransportError(NomiError):
    """No HTTP answer at all: the connection failed, was reset or timed out."""

    retryable = True


class APITimeoutError(TransportError, TimeoutError):
    """The request timed out (connecting, writing, or waiting for the answer)."""


class APIConnectionError(TransportError, ConnectionError):
    """The connection could not be made, or broke before an answer arrived."""


class DeadlineExceededError(TransportError):
    """The caller's time budget (`time_left`) ran out before the request could be sent: nothing went
    out, so it is safe to retry later, even for a send."""


class AmbiguousSendError(NomiError):
    """`messages/create` may or may not have sent the SMS: NOMI has no idempotency keys, so a blind
    retry could text the person twice. Use `NomiClient.send_message_safely` (or `message_was_sent`
    with `since=attempted_at`) to decide."""

    retryable = False

    def __init__(self, message: str, *, attempted_at: datetime) -> None:
        super().__init__(message)
        self.attempted_at = attempted_at


class PhoneNumberError(NomiError, ValueError):
    """A phone number that cannot be a real number; raised before any HTTP call."""
