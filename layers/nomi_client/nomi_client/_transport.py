"""The one place for transport policy: timeouts, keep-alive, retries with exponential backoff and
full jitter honouring `Retry-After`, status → error mapping, and redaction of the API key.

Shape learnt from anthropic-sdk-python's `_base_client.py` (one request loop that decides per failure
whether to retry and how long to wait; sleep and jitter injectable) — not its code.

A caller with a time budget (a Lambda invocation) passes `time_left`: a callable giving the seconds
it may still spend (None: no limit). No attempt's timeout and no retry's sleep reach past it: a
retry that would (a `Retry-After: 60` with 12 s left) is not made, and the failure is raised at once
with its `retry_after`, so that the caller's queue can do the waiting instead of a sleeping function.

Non-idempotent requests (`messages/create`: NOMI has no idempotency keys) are retried only after a
failure known to have happened before NOMI acted on the request (connect error/timeout, pool timeout,
429). A timeout or reset after the request went out, or a 5xx, leaves the outcome unknown and raises
`AmbiguousSendError`; any other 4xx is NOMI refusing the request and raises its own error.
"""

from __future__ import annotations

import email.utils
import json
import logging
import re
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict
from pydantic import ValidationError as PydanticValidationError

from nomi_client.errors import (
    AmbiguousSendError,
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    ConfigurationError,
    CoolingOffError,
    DeadlineExceededError,
    NomiAPIError,
    NomiError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    TransportError,
    ValidationError,
)
from nomi_client.masking import mask_text as mask_personal_data

logger = logging.getLogger("nomi_client")

INITIAL_RETRY_DELAY = 0.5  # seconds before the first retry (before jitter)
MAX_RETRY_DELAY = 8.0  # cap of the exponential backoff
MAX_RETRY_AFTER = 60.0  # a longer Retry-After is capped: a Lambda cannot wait for ever
# Shortest attempt worth making: with less time left a request would only time out unanswered.
MIN_ATTEMPT_SECONDS = 0.5
REDACTED = "***"

AuthMode = Literal["query", "header"]
FormFields = Sequence[tuple[str, str]]
TimeLeft = Callable[[], float | None]
"""Seconds the caller may still spend on NOMI, or None for no limit."""

_APIKEY_IN_TEXT = re.compile(r"(?i)(apikey=)[^&#\s'\"<>]+")
# Failures that happen before a single byte of the request left: safe to retry even for a send.
_BEFORE_SEND_ERRORS: tuple[type[httpx.TransportError], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
)


def redact(text: str, secret: str | None = None) -> str:
    """`text` with every `apikey=...` query value, and the literal secret, replaced by `***`."""
    redacted = _APIKEY_IN_TEXT.sub(r"\1" + REDACTED, text)
    if secret:
        redacted = redacted.replace(secret, REDACTED)
    return redacted


class _RedactingFilter(logging.Filter):
    """Rewrites records of httpx/httpcore: httpx logs every request line, query string included, at INFO."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


def install_log_redaction() -> None:
    """Attach the redacting filter to the third-party loggers that can print a request URL (idempotent)."""
    for name in ("httpx", "httpcore", "httpcore.http11", "httpcore.http2", "httpcore.connection"):
        third_party = logging.getLogger(name)
        if not any(isinstance(f, _RedactingFilter) for f in third_party.filters):
            third_party.addFilter(_RedactingFilter())


install_log_redaction()


class Secret:
    """Holds the API key so that no repr, str or debugger view of the client shows it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({REDACTED!r})"

    __str__ = __repr__


def encode_multipart(fields: FormFields) -> tuple[bytes, str]:
    """multipart/form-data body and its Content-Type for text fields (repeated names allowed)."""
    boundary = secrets.token_hex(16)
    parts: list[bytes] = []
    for name, value in fields:
        quoted = name.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{quoted}"\r\n\r\n'.encode()
            + value.encode("utf-8")
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or HTTP date); None if absent/unreadable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def backoff_delay(retry_number: int, retry_after: float | None, jitter: Callable[[], float]) -> float:
    """Wait before retry `retry_number` (0 = first retry): the server's Retry-After (capped), else
    exponential backoff with full jitter, i.e. uniform in [0, min(MAX, INITIAL × 2^n))."""
    if retry_after is not None:
        return min(retry_after, MAX_RETRY_AFTER)
    ceiling = min(MAX_RETRY_DELAY, INITIAL_RETRY_DELAY * (2**retry_number))
    return ceiling * min(1.0, max(0.0, jitter()))


class _Envelope(BaseModel):
    model_config = ConfigDict(extra="ignore")

    success: bool
    data: Any = None
    message: str | None = None


@dataclass(frozen=True)
class _Failure:
    """One failed attempt: the error to raise, whether retrying may help, and whether NOMI may have
    acted on the request although the client saw a failure (`outcome_unknown`)."""

    error: NomiError
    retryable: bool
    outcome_unknown: bool
    retry_after: float | None = None


class Transport:
    """Sends NOMI requests over one reused `httpx.Client` and applies the retry policy."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str | None,
        auth: AuthMode = "query",
        timeout: float = 10.0,
        max_retries: int = 3,
        http_client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = lambda: 1.0,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        time_left: TimeLeft | None = None,
    ) -> None:
        if auth not in ("query", "header"):
            raise ConfigurationError(f"auth must be 'query' or 'header', not {auth!r}")
        if max_retries < 0:
            raise ConfigurationError("max_retries must be >= 0")
        self.base_url = base_url.rstrip("/")
        self._api_key = Secret(api_key) if api_key else None
        self.auth = auth
        self.timeout = timeout
        self.max_retries = max_retries
        self._owns_client = http_client is None
        self._http = http_client if http_client is not None else httpx.Client()
        self._sleep = sleep
        self._jitter = jitter
        self._now = now
        self._time_left = time_left or (lambda: None)

    def __repr__(self) -> str:
        key = REDACTED if self._api_key else None
        return f"Transport(base_url={self.base_url!r}, auth={self.auth!r}, api_key={key!r})"

    @property
    def has_api_key(self) -> bool:
        return self._api_key is not None

    def close(self) -> None:
        if self._owns_client:
            self._http.close()

    def redact(self, text: str) -> str:
        return redact(text, self._api_key.reveal() if self._api_key else None)

    def wait_before_retry(
        self, retry_number: int, error: NomiError, retry_after: float | None = None
    ) -> None:
        """Sleep as the policy says before retry `retry_number` (used by the safe send loop too), or
        raise `error` at once when the wait and another attempt do not fit in the time left."""
        delay = backoff_delay(retry_number, retry_after, self._jitter)
        if not self._fits(delay):
            raise error
        self._sleep(delay)

    def _fits(self, delay: float) -> bool:
        left = self._time_left()
        return left is None or delay + MIN_ATTEMPT_SECONDS <= left

    def _attempt_timeout(self, method: str, path: str) -> float:
        """This attempt's timeout: the client's, shortened to the time left; raises when none is left."""
        left = self._time_left()
        if left is None:
            return self.timeout
        if left < MIN_ATTEMPT_SECONDS:
            raise DeadlineExceededError(
                f"{method} {path}: not sent, {max(left, 0):.1f}s left in the time budget"
            )
        return min(self.timeout, left)

    def request(
        self,
        method: str,
        path: str,
        *,
        form: FormFields | None = None,
        json_body: dict[str, Any] | None = None,
        query: dict[str, str] | None = None,
        keyed: bool = True,
        idempotent: bool = True,
    ) -> Any:
        """Send one NOMI request with the retry policy and return the envelope's `data`."""
        build = self._request_builder(method, path, form=form, json_body=json_body, query=query, keyed=keyed)
        first_attempt_at: datetime | None = None
        for attempt in range(self.max_retries + 1):
            timeout = self._attempt_timeout(method, path)
            attempted_at = self._now()
            first_attempt_at = first_attempt_at or attempted_at
            outcome = self._attempt(build(timeout), method, path)
            if not isinstance(outcome, _Failure):
                return outcome
            if not idempotent and outcome.outcome_unknown:
                raise AmbiguousSendError(
                    f"{method} {path}: outcome unknown after {outcome.error} — not retried, the "
                    "message may have been sent; check with message_was_sent/send_message_safely",
                    attempted_at=first_attempt_at,
                ) from outcome.error
            if not outcome.retryable or attempt == self.max_retries:
                raise outcome.error
            delay = backoff_delay(attempt, outcome.retry_after, self._jitter)
            if not self._fits(delay):
                # The queue waits instead (the error keeps its retry_after): a function that sleeps
                # past its timeout fails the whole batch, the innocent records with it.
                logger.warning(
                    "NOMI %s %s failed (%s); no retry: a %.2fs wait does not fit in the time left",
                    method,
                    path,
                    self.redact(str(outcome.error)),
                    delay,
                )
                raise outcome.error
            logger.warning(
                "NOMI %s %s failed (%s); retry %d/%d in %.2fs",
                method,
                path,
                self.redact(str(outcome.error)),
                attempt + 1,
                self.max_retries,
                delay,
            )
            self._sleep(delay)
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover

    def _request_builder(
        self,
        method: str,
        path: str,
        *,
        form: FormFields | None,
        json_body: dict[str, Any] | None,
        query: dict[str, str] | None,
        keyed: bool,
    ) -> Callable[[float], httpx.Request]:
        params = dict(query or {})
        headers = {"Accept": "application/json"}
        if keyed:
            if self._api_key is None:
                raise ConfigurationError("no NOMI API key: pass api_key= to NomiClient or set NOMI_API_KEY")
            if self.auth == "query":
                params["apikey"] = self._api_key.reveal()
            else:
                headers["apikey"] = self._api_key.reveal()
        content: bytes | None = None
        if json_body is not None:
            content = json.dumps(json_body, separators=(",", ":")).encode()
            headers["Content-Type"] = "application/json"
        elif form is not None:
            content, headers["Content-Type"] = encode_multipart(form)
        url = self.base_url + path

        def build(timeout: float) -> httpx.Request:
            return self._http.build_request(
                method, url, params=params, headers=headers, content=content, timeout=timeout
            )

        return build

    def _attempt(self, request: httpx.Request, method: str, path: str) -> Any:
        """Send once; return the envelope data, or a `_Failure` describing what went wrong."""
        try:
            response = self._http.send(request)
        except httpx.RequestError as exc:  # transport errors, and answers that cannot be decoded
            return self._transport_failure(exc, method, path)
        try:
            logger.debug("NOMI %s %s -> %d", method, self.redact(str(request.url)), response.status_code)
            return _interpret(response, method, path)
        except NomiAPIError as error:
            # Retry-After may come with a 429 or a 503; honour it on any retryable answer.
            retry_after = parse_retry_after(response.headers.get("retry-after")) if error.retryable else None
            # A 5xx may come after the work was done; any 4xx (429 included) means NOMI refused it.
            return _Failure(
                error,
                error.retryable,
                outcome_unknown=isinstance(error, ServerError),
                retry_after=retry_after,
            )
        finally:
            response.close()

    def _transport_failure(self, exc: httpx.RequestError, method: str, path: str) -> _Failure:
        # Chained httpx exceptions are printed in tracebacks: scrub the key from their text too.
        exc.args = tuple(self.redact(a) if isinstance(a, str) else a for a in exc.args)
        text = f"{method} {path}: {type(exc).__name__}: {self.redact(str(exc)) or 'no detail'}"
        error_type = APITimeoutError if isinstance(exc, httpx.TimeoutException) else APIConnectionError
        if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
            return _Failure(ConfigurationError(text), retryable=False, outcome_unknown=False)
        error: TransportError = error_type(text)
        error.__cause__ = exc
        return _Failure(error, retryable=True, outcome_unknown=not isinstance(exc, _BEFORE_SEND_ERRORS))


def _interpret(response: httpx.Response, method: str, path: str) -> Any:
    """Envelope data of a successful answer; raise the mapped `NomiAPIError` otherwise."""
    status = response.status_code
    body = _json_or_none(response)
    envelope = _envelope_or_none(body)
    message = mask_personal_data((envelope.message if envelope else None) or response.reason_phrase or "")
    where = f"{status} from {method} {path}: {message or 'no message'}"
    if 200 <= status < 300:
        if envelope is None:
            raise ServerError(f"{where} (answer is not NOMI's JSON envelope)", status_code=status, body=None)
        if not envelope.success:
            raise ValidationError(where, status_code=status, body=body)
        return envelope.data
    raise _error_for_status(status, where, body, envelope, response.headers.get("retry-after"))


def _error_for_status(
    status: int, where: str, body: Any, envelope: _Envelope | None, retry_after: str | None
) -> NomiAPIError:
    simple: dict[int, type[NomiAPIError]] = {
        401: AuthenticationError,
        403: PermissionDeniedError,
        404: NotFoundError,
    }
    if status in simple:
        return simple[status](where, status_code=status, body=body)
    if status == 422:
        hours = _hours_remaining(envelope)
        if hours is not None:
            return CoolingOffError(where, status_code=status, body=body, hours_remaining=hours)
    if status == 429:
        return RateLimitError(
            where, status_code=status, body=body, retry_after=parse_retry_after(retry_after)
        )
    if status >= 500:
        return ServerError(where, status_code=status, body=body)
    if 400 <= status < 500:
        return ValidationError(where, status_code=status, body=body)
    return NomiAPIError(where, status_code=status, body=body)


def _hours_remaining(envelope: _Envelope | None) -> int | None:
    if envelope is None or not isinstance(envelope.data, dict):
        return None
    value = envelope.data.get("hours_remaining")
    try:
        return None if value is None or isinstance(value, bool) else round(float(value))
    except (TypeError, ValueError):
        return None


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (ValueError, UnicodeDecodeError):
        return None


def _envelope_or_none(body: Any) -> _Envelope | None:
    if not isinstance(body, dict):
        return None
    try:
        return _Envelope.model_validate(body)
    except PydanticValidationError:
        return None
