"""Configuration of the ingest function: environment variables and webhook secrets.

Everything here is built once per container and cached; `clear_caches()` resets it (tests, and
nothing else, need that).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, fields
from functools import cache, partial
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

SECRETS_MAX_AGE_SECONDS = 300
SQS_MAX_MESSAGE_BYTES = 1_048_576  # 1 MiB, message attributes included (SQS limit since 2025-08)


class ConfigError(RuntimeError):
    """The function's environment is missing or holds an impossible value."""


class SecretsUnavailableError(RuntimeError):
    """The webhook secrets could not be read (Secrets Manager unreachable, secret missing or empty)."""


def normalize_consent_text(text: str) -> str:
    """Whitespace collapsed: a form's line breaks and indentation do not change the words shown."""
    return " ".join(text.split())


def _json_text_list(value: object) -> object:
    """A JSON array of texts from the environment (blank = none), each normalised."""
    if isinstance(value, str):
        if not value.strip():
            return ()
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise ValueError("must be a JSON array of strings") from exc
    if isinstance(value, list | tuple):
        if not all(isinstance(item, str) and item.strip() for item in value):
            raise ValueError("must be a JSON array of non-empty strings")
        return tuple(normalize_consent_text(item) for item in value)
    return value


def _split_commas(value: object) -> object:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


def _text(value: str) -> str:
    if not value:
        raise ValueError("must not be empty")
    return value


def _optional_text(value: str) -> str | None:
    return value or None


def _integer(value: str, *, low: int | None = None, high: int | None = None) -> int:
    try:
        number = int(value)
    except ValueError as exc:
        raise ValueError("must be an integer") from exc
    if low is not None and number < low:
        raise ValueError(f"must be at least {low}")
    if high is not None and number > high:
        raise ValueError(f"must be at most {high}")
    return number


def _stripe_tolerance(value: str) -> int:
    number = _integer(value)
    # A tolerance of 0 would switch the replay check off in Stripe's own libraries: refuse it.
    if number <= 0:
        raise ValueError("must be a positive number of seconds (Stripe's default is 300); 0 is refused")
    return number


def _origins(value: str) -> tuple[str, ...]:
    return tuple(origin.rstrip("/").lower() for origin in _split_commas(value))  # type: ignore[union-attr]


def _texts(value: str) -> tuple[str, ...]:
    texts = _json_text_list(value)
    if not isinstance(texts, tuple):
        raise ValueError("must be a JSON array of strings")
    return texts


def _captcha_provider(value: str) -> CaptchaProvider:
    if value not in CAPTCHA_PROVIDERS:
        raise ValueError(f"must be one of {', '.join(CAPTCHA_PROVIDERS)}")
    return value  # type: ignore[return-value]


def _region(value: str) -> str:
    if len(value) != 2 or not value.isascii() or not value.isalpha():
        raise ValueError("must be a two-letter region code such as US")
    return value


CaptchaProvider = Literal["none", "turnstile", "hcaptcha", "recaptcha"]
CAPTCHA_PROVIDERS: tuple[CaptchaProvider, ...] = ("none", "turnstile", "hcaptcha", "recaptcha")


@dataclass(frozen=True, slots=True)
class IngestConfig:
    """The environment the template (or the local stack) gives the function.

    A plain dataclass read by `load_config`, not a pydantic model: the first pydantic model a process
    builds costs ~80 ms of cold start, and the front door has no other use for pydantic.
    """

    queue_url: str
    payload_bucket: str
    shopify_secret_name: str
    stripe_secret_name: str
    stripe_tolerance_seconds: int = 300
    signup_allowed_origins: tuple[str, ...] = ()
    # The exact SMS consent texts the forms show; an SMS opt-in must post one of them.
    signup_consent_texts: tuple[str, ...] = ()
    # The email consent texts the forms show; empty records the posted text unchecked.
    signup_email_consent_texts: tuple[str, ...] = ()
    signup_limit_table: str | None = None
    signup_limit_per_phone: int = 3
    signup_limit_per_ip: int = 20
    signup_limit_window_seconds: int = 3600
    identity_hash_secret_name: str | None = None
    signup_captcha_provider: CaptchaProvider = "none"
    signup_captcha_secret_name: str | None = None
    # Replaces the provider's siteverify URL (the local stack's fake verifier).
    signup_captcha_verify_url: str | None = None
    signup_max_body_bytes: int = 16_384
    default_phone_region: str = "US"
    sqs_max_message_bytes: int = SQS_MAX_MESSAGE_BYTES


# Each field: its environment variable and the function that reads it (ValueError: a wrong value).
# A variable that is absent (or blank, for the optional ones) keeps the field's default.
_FIELDS: dict[str, tuple[str, Callable[[str], object]]] = {
    "queue_url": ("QUEUE_URL", _text),
    "payload_bucket": ("PAYLOAD_BUCKET", _text),
    "shopify_secret_name": ("SHOPIFY_SECRET_NAME", _text),
    "stripe_secret_name": ("STRIPE_SECRET_NAME", _text),
    "stripe_tolerance_seconds": ("STRIPE_TOLERANCE_SECONDS", _stripe_tolerance),
    "signup_allowed_origins": ("SIGNUP_ALLOWED_ORIGINS", _origins),
    "signup_consent_texts": ("SIGNUP_CONSENT_TEXTS", _texts),
    "signup_email_consent_texts": ("SIGNUP_EMAIL_CONSENT_TEXTS", _texts),
    "signup_limit_table": ("SIGNUP_LIMIT_TABLE", _optional_text),
    "signup_limit_per_phone": ("SIGNUP_LIMIT_PER_PHONE", partial(_integer, low=0)),
    "signup_limit_per_ip": ("SIGNUP_LIMIT_PER_IP", partial(_integer, low=0)),
    "signup_limit_window_seconds": ("SIGNUP_LIMIT_WINDOW_SECONDS", partial(_integer, low=60)),
    "identity_hash_secret_name": ("IDENTITY_HASH_SECRET_NAME", _optional_text),
    "signup_captcha_provider": ("SIGNUP_CAPTCHA_PROVIDER", _captcha_provider),
    "signup_captcha_secret_name": ("SIGNUP_CAPTCHA_SECRET_NAME", _optional_text),
    "signup_captcha_verify_url": ("SIGNUP_CAPTCHA_VERIFY_URL", _optional_text),
    "signup_max_body_bytes": ("SIGNUP_MAX_BODY_BYTES", partial(_integer, low=1)),
    "default_phone_region": ("DEFAULT_PHONE_REGION", _region),
    "sqs_max_message_bytes": (
        "SQS_MAX_MESSAGE_BYTES",
        partial(_integer, low=65_536, high=SQS_MAX_MESSAGE_BYTES),
    ),
}
_REQUIRED = {field.name for field in fields(IngestConfig) if field.default is MISSING}
REQUIRED_VARIABLES = frozenset(_FIELDS[name][0] for name in _REQUIRED)


def _dependency_problems(config: IngestConfig) -> list[str]:
    problems = []
    if config.signup_limit_table and not config.identity_hash_secret_name:
        problems.append("SIGNUP_LIMIT_TABLE needs IDENTITY_HASH_SECRET_NAME (counter keys are pseudonyms)")
    if config.signup_captcha_provider != "none" and not config.signup_captcha_secret_name:
        problems.append("SIGNUP_CAPTCHA_PROVIDER needs SIGNUP_CAPTCHA_SECRET_NAME")
    return problems


def load_config(environ: Mapping[str, str]) -> IngestConfig:
    """Read the configuration from `environ`, naming every wrong variable in one error."""
    values: dict[str, object] = {}
    problems: list[str] = []
    for name, (variable, read) in _FIELDS.items():
        raw = environ.get(variable)
        text = None if raw is None else raw.strip()
        if text is None or (not text and name not in _REQUIRED):
            if name in _REQUIRED:
                problems.append(f"{variable}: required")
            continue
        try:
            values[name] = read(text)
        except ValueError as exc:
            problems.append(f"{variable}: {exc}")
    if not problems:
        config = IngestConfig(**values)  # type: ignore[arg-type]
        problems = _dependency_problems(config)
    if problems:
        raise ConfigError(f"invalid ingest configuration: {'; '.join(problems)}")
    return config


@cache
def get_config() -> IngestConfig:
    """The configuration of this container, read once."""
    return load_config(os.environ)


def parse_secret_list(secret_string: str) -> tuple[str, ...]:
    """A SecretString holds the webhook secrets newest first, comma-separated (two during a rotation)."""
    return tuple(part.strip() for part in secret_string.split(",") if part.strip())


@cache
def get_secrets_client() -> SecretsManagerClient:
    import boto3

    from ingest.enqueue import CLIENT_CONFIG  # the front door's timeouts: fail fast, let the sender retry

    return boto3.client("secretsmanager", config=CLIENT_CONFIG)


# secret name -> (monotonic expiry, SecretString stripped, its webhook secrets or None if not parsed yet).
# What Powertools' parameters.get_secret(max_age=300) did, without its import or per-call overhead.
_secrets: dict[str, tuple[float, str, tuple[str, ...] | None]] = {}


def _cached_secret(secret_name: str) -> tuple[float, str, tuple[str, ...] | None]:
    entry = _secrets.get(secret_name)
    if entry is not None and time.monotonic() < entry[0]:
        return entry
    try:
        answer: dict[str, Any] = get_secrets_client().get_secret_value(SecretId=secret_name)  # type: ignore[assignment]
    except Exception as exc:  # botocore errors, a missing secret: all mean "try again later"
        raise SecretsUnavailableError(f"cannot read secret {secret_name!r}: {type(exc).__name__}") from exc
    value = answer.get("SecretString")
    if value is None:
        binary = answer.get("SecretBinary") or b""
        value = binary.decode("utf-8") if isinstance(binary, bytes) else str(binary)
    entry = (time.monotonic() + SECRETS_MAX_AGE_SECONDS, str(value).strip(), None)
    _secrets[secret_name] = entry
    return entry


def get_secret_text(secret_name: str) -> str:
    """A secret's SecretString, cached for five minutes so a rotation lands quickly."""
    return _cached_secret(secret_name)[1]


def get_webhook_secrets(secret_name: str) -> tuple[str, ...]:
    """The webhook secrets held in `secret_name` (comma-separated, newest first), parsed once per read."""
    expires, text, secrets = _cached_secret(secret_name)
    if secrets is None:
        secrets = parse_secret_list(text)
        _secrets[secret_name] = (expires, text, secrets)
    if not secrets:
        raise SecretsUnavailableError(f"secret {secret_name!r} holds no webhook secret")
    return secrets


def clear_caches() -> None:
    """Forget the configuration, the AWS clients and the cached secrets (for tests)."""
    import sys

    from ingest import enqueue  # imported here: enqueue imports this module

    get_config.cache_clear()
    get_secrets_client.cache_clear()
    _secrets.clear()
    enqueue.get_sqs_client.cache_clear()
    enqueue.get_s3_client.cache_clear()
    ratelimit = sys.modules.get("ingest.ratelimit")  # only if a signup loaded it
    if ratelimit is not None:
        ratelimit.get_dynamodb_client.cache_clear()
