"""Configuration of the ingest function: environment variables and webhook secrets.

Everything here is built once per container and cached; `clear_caches()` resets it (tests, and
nothing else, need that).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from functools import cache
from typing import Literal

from aws_lambda_powertools.utilities import parameters
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

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


class IngestConfig(BaseModel):
    """The environment the template (or the local stack) gives the function."""

    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=True)

    queue_url: str = Field(alias="QUEUE_URL", min_length=1)
    payload_bucket: str = Field(alias="PAYLOAD_BUCKET", min_length=1)
    shopify_secret_name: str = Field(alias="SHOPIFY_SECRET_NAME", min_length=1)
    stripe_secret_name: str = Field(alias="STRIPE_SECRET_NAME", min_length=1)
    stripe_tolerance_seconds: int = Field(alias="STRIPE_TOLERANCE_SECONDS", default=300)
    signup_allowed_origins: tuple[str, ...] = Field(alias="SIGNUP_ALLOWED_ORIGINS", default=())
    signup_consent_texts: tuple[str, ...] = Field(
        alias="SIGNUP_CONSENT_TEXTS",
        default=(),
        description="The exact SMS consent texts the forms show; an SMS opt-in must post one of them.",
    )
    signup_email_consent_texts: tuple[str, ...] = Field(
        alias="SIGNUP_EMAIL_CONSENT_TEXTS",
        default=(),
        description="The email consent texts the forms show; empty records the posted text unchecked.",
    )
    signup_limit_table: str | None = Field(alias="SIGNUP_LIMIT_TABLE", default=None)
    signup_limit_per_phone: int = Field(alias="SIGNUP_LIMIT_PER_PHONE", default=3, ge=0)
    signup_limit_per_ip: int = Field(alias="SIGNUP_LIMIT_PER_IP", default=20, ge=0)
    signup_limit_window_seconds: int = Field(alias="SIGNUP_LIMIT_WINDOW_SECONDS", default=3600, ge=60)
    identity_hash_secret_name: str | None = Field(alias="IDENTITY_HASH_SECRET_NAME", default=None)
    signup_captcha_provider: Literal["none", "turnstile", "hcaptcha", "recaptcha"] = Field(
        alias="SIGNUP_CAPTCHA_PROVIDER", default="none"
    )
    signup_captcha_secret_name: str | None = Field(alias="SIGNUP_CAPTCHA_SECRET_NAME", default=None)
    signup_captcha_verify_url: str | None = Field(
        alias="SIGNUP_CAPTCHA_VERIFY_URL",
        default=None,
        description="Replaces the provider's siteverify URL (the local stack's fake verifier).",
    )
    signup_max_body_bytes: int = Field(alias="SIGNUP_MAX_BODY_BYTES", default=16_384, gt=0)
    default_phone_region: str = Field(alias="DEFAULT_PHONE_REGION", default="US", pattern=r"^[A-Za-z]{2}$")
    sqs_max_message_bytes: int = Field(
        alias="SQS_MAX_MESSAGE_BYTES", default=SQS_MAX_MESSAGE_BYTES, ge=65_536, le=SQS_MAX_MESSAGE_BYTES
    )

    @field_validator("stripe_tolerance_seconds")
    @classmethod
    def _tolerance_is_positive(cls, value: int) -> int:
        # A tolerance of 0 would switch the replay check off in Stripe's own libraries: refuse it.
        if value <= 0:
            raise ValueError("must be a positive number of seconds (Stripe's default is 300); 0 is refused")
        return value

    @field_validator("signup_allowed_origins", mode="before")
    @classmethod
    def _origins_from_commas(cls, value: object) -> object:
        origins = _split_commas(value)
        if isinstance(origins, tuple):
            return tuple(origin.rstrip("/").lower() for origin in origins)
        return origins

    @field_validator("signup_consent_texts", "signup_email_consent_texts", mode="before")
    @classmethod
    def _texts_from_json(cls, value: object) -> object:
        return _json_text_list(value)

    @field_validator(
        "signup_limit_table",
        "identity_hash_secret_name",
        "signup_captcha_secret_name",
        "signup_captcha_verify_url",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _dependencies_named(self) -> IngestConfig:
        if self.signup_limit_table and not self.identity_hash_secret_name:
            raise ValueError(
                "SIGNUP_LIMIT_TABLE needs IDENTITY_HASH_SECRET_NAME (counter keys are pseudonyms)"
            )
        if self.signup_captcha_provider != "none" and not self.signup_captcha_secret_name:
            raise ValueError("SIGNUP_CAPTCHA_PROVIDER needs SIGNUP_CAPTCHA_SECRET_NAME")
        return self


def load_config(environ: Mapping[str, str]) -> IngestConfig:
    """Read the configuration from `environ`, naming every wrong variable in one error."""
    try:
        return IngestConfig.model_validate(dict(environ))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"invalid ingest configuration: {problems}") from exc


@cache
def get_config() -> IngestConfig:
    """The configuration of this container, read once."""
    return load_config(os.environ)


def parse_secret_list(secret_string: str) -> tuple[str, ...]:
    """A SecretString holds the webhook secrets newest first, comma-separated (two during a rotation)."""
    return tuple(part.strip() for part in secret_string.split(",") if part.strip())


def get_secret_text(secret_name: str) -> str:
    """A secret's SecretString, cached for five minutes so a rotation lands quickly."""
    try:
        value = parameters.get_secret(secret_name, max_age=SECRETS_MAX_AGE_SECONDS)
    except Exception as exc:  # GetParameterError, botocore errors: all mean "try again later"
        raise SecretsUnavailableError(f"cannot read secret {secret_name!r}: {type(exc).__name__}") from exc
    if isinstance(value, bytes):
        value = value.decode("utf-8")
    return str(value or "").strip()


def get_webhook_secrets(secret_name: str) -> tuple[str, ...]:
    """The webhook secrets held in `secret_name` (comma-separated, newest first)."""
    secrets = parse_secret_list(get_secret_text(secret_name))
    if not secrets:
        raise SecretsUnavailableError(f"secret {secret_name!r} holds no webhook secret")
    return secrets


def clear_caches() -> None:
    """Forget the configuration, the AWS clients and the cached secrets (for tests)."""
    import sys

    from ingest import enqueue  # imported here: enqueue imports this module

    get_config.cache_clear()
    enqueue.get_sqs_client.cache_clear()
    enqueue.get_s3_client.cache_clear()
    parameters.clear_caches()
    ratelimit = sys.modules.get("ingest.ratelimit")  # only if a signup loaded it
    if ratelimit is not None:
        ratelimit.get_dynamodb_client.cache_clear()
