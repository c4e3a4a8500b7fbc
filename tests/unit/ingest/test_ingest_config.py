"""Environment configuration and webhook secrets."""

from __future__ import annotations

import pytest
from botocore.exceptions import EndpointConnectionError
from ingest_helpers import AwsFakes

from ingest import config
from ingest.config import (
    ConfigError,
    SecretsUnavailableError,
    get_config,
    get_secret_text,
    get_webhook_secrets,
    load_config,
    parse_secret_list,
)

MINIMAL = {
    "QUEUE_URL": "https://sqs.example/q",
    "PAYLOAD_BUCKET": "b",
    "SHOPIFY_SECRET_NAME": "s",
    "STRIPE_SECRET_NAME": "t",
}


def test_load_config_minimal_env_uses_defaults() -> None:
    config = load_config(MINIMAL)
    assert (config.stripe_tolerance_seconds, config.signup_max_body_bytes) == (300, 16_384)
    assert (config.default_phone_region, config.signup_allowed_origins) == ("US", ())


@pytest.mark.parametrize("value", ["0", "-5"])
def test_load_config_non_positive_stripe_tolerance_raises_clear_error(value: str) -> None:
    with pytest.raises(ConfigError, match=r"STRIPE_TOLERANCE_SECONDS.*positive"):
        load_config({**MINIMAL, "STRIPE_TOLERANCE_SECONDS": value})


def test_load_config_missing_queue_url_names_variable() -> None:
    env = {k: v for k, v in MINIMAL.items() if k != "QUEUE_URL"}
    with pytest.raises(ConfigError, match="QUEUE_URL"):
        load_config(env)


def test_load_config_origins_split_normalised() -> None:
    config = load_config(
        {**MINIMAL, "SIGNUP_ALLOWED_ORIGINS": " https://A.example.com/ ,https://b.example.com,"}
    )
    assert config.signup_allowed_origins == ("https://a.example.com", "https://b.example.com")


def test_load_config_consent_texts_json_array_normalised() -> None:
    config = load_config({**MINIMAL, "SIGNUP_CONSENT_TEXTS": '["I agree\\n  to texts.", "Other"]'})
    assert config.signup_consent_texts == ("I agree to texts.", "Other")


@pytest.mark.parametrize("value", ["I agree", '{"a": "b"}', '["ok", ""]', "[1]"])
def test_load_config_consent_texts_not_a_text_array_names_variable(value: str) -> None:
    with pytest.raises(ConfigError, match="SIGNUP_CONSENT_TEXTS"):
        load_config({**MINIMAL, "SIGNUP_CONSENT_TEXTS": value})


def test_load_config_limit_table_without_identity_secret_refused() -> None:
    with pytest.raises(ConfigError, match="IDENTITY_HASH_SECRET_NAME"):
        load_config({**MINIMAL, "SIGNUP_LIMIT_TABLE": "limits"})


def test_load_config_captcha_without_secret_refused() -> None:
    with pytest.raises(ConfigError, match="SIGNUP_CAPTCHA_SECRET_NAME"):
        load_config({**MINIMAL, "SIGNUP_CAPTCHA_PROVIDER": "turnstile"})


def test_get_config_is_cached_until_cleared(env: pytest.MonkeyPatch) -> None:
    first = get_config()
    env.setenv("STRIPE_TOLERANCE_SECONDS", "60")
    assert get_config() is first
    get_config.cache_clear()
    assert get_config().stripe_tolerance_seconds == 60


def test_parse_secret_list_newest_first_blanks_dropped() -> None:
    assert parse_secret_list(" new , old ,,") == ("new", "old")


def test_get_webhook_secrets_reads_comma_list(aws: AwsFakes) -> None:
    aws.set_secret("nomi-gateway/shopify", "shpss_new,shpss_old")
    assert get_webhook_secrets("nomi-gateway/shopify") == ("shpss_new", "shpss_old")


def test_get_webhook_secrets_cached_within_max_age(aws: AwsFakes) -> None:
    first = get_webhook_secrets("nomi-gateway/stripe")
    aws.set_secret("nomi-gateway/stripe", "whsec_changed")
    assert get_webhook_secrets("nomi-gateway/stripe") == first


def test_get_webhook_secrets_missing_secret_raises_unavailable(aws: AwsFakes) -> None:
    with pytest.raises(SecretsUnavailableError, match="cannot read"):
        get_webhook_secrets("nomi-gateway/absent")


def test_get_webhook_secrets_empty_secret_raises_unavailable(aws: AwsFakes) -> None:
    aws.set_secret("nomi-gateway/stripe", " , ")
    with pytest.raises(SecretsUnavailableError, match="holds no"):
        get_webhook_secrets("nomi-gateway/stripe")


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SIGNUP_LIMIT_PER_PHONE", "three"),
        ("SIGNUP_LIMIT_WINDOW_SECONDS", "59"),
        ("SQS_MAX_MESSAGE_BYTES", "2000000"),
        ("DEFAULT_PHONE_REGION", "USA"),
        ("SIGNUP_CAPTCHA_PROVIDER", "captchaco"),
    ],
)
def test_load_config_wrong_value_names_its_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        load_config({**MINIMAL, variable: value})


def test_load_config_every_wrong_variable_named_in_one_error() -> None:
    with pytest.raises(ConfigError, match=r"QUEUE_URL.*SIGNUP_LIMIT_PER_IP"):
        load_config({**MINIMAL, "QUEUE_URL": " ", "SIGNUP_LIMIT_PER_IP": "-1"})


def test_get_webhook_secrets_after_max_age_reads_rotation(
    aws: AwsFakes, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = get_webhook_secrets("nomi-gateway/stripe")
    aws.set_secret("nomi-gateway/stripe", "whsec_rotated,whsec_test_secret")
    later = config.time.monotonic() + config.SECRETS_MAX_AGE_SECONDS + 1
    monkeypatch.setattr(config.time, "monotonic", lambda: later)
    assert (first, get_webhook_secrets("nomi-gateway/stripe")) == (
        ("whsec_test_secret",),
        ("whsec_rotated", "whsec_test_secret"),
    )


def test_get_secret_text_binary_secret_decoded(aws: AwsFakes) -> None:
    aws.secretsmanager.create_secret(Name="nomi-gateway/binary", SecretBinary=b" key-bytes ")
    assert get_secret_text("nomi-gateway/binary") == "key-bytes"


def test_get_webhook_secrets_unreachable_raises_unavailable(
    aws: AwsFakes, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreachable(**_: object) -> dict[str, object]:
        raise EndpointConnectionError(endpoint_url="https://secretsmanager.invalid")

    monkeypatch.setattr(config.get_secrets_client(), "get_secret_value", unreachable)
    with pytest.raises(SecretsUnavailableError, match="EndpointConnectionError"):
        get_webhook_secrets("nomi-gateway/shopify")
