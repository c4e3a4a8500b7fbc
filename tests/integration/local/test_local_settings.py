"""Settings from the environment, the functions' environment, and masking in the event log."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from local.env import (
    DEFAULT_SHOPIFY_SECRETS,
    DEFAULT_STRIPE_SECRETS,
    LocalSettings,
    function_environment,
    secret_values,
)
from local.report import describe_message
from local.template import load_template

STANDIN = Path(__file__).parent / "standin" / "template.yaml"
EVENTS_README = Path(__file__).resolve().parents[3] / "events" / "README.md"


def test_local_settings_defaults_are_the_documented_test_secrets():
    readme = EVENTS_README.read_text(encoding="utf-8")
    assert all(f"`{secret}`" in readme for secret in DEFAULT_SHOPIFY_SECRETS + DEFAULT_STRIPE_SECRETS)


def test_local_settings_signup_origins_and_texts_become_template_parameters():
    settings = LocalSettings.from_environ(
        {
            "SIGNUP_ALLOWED_ORIGINS": "http://localhost:8000, https://shop.test",
            "SIGNUP_CONSENT_TEXTS": '["Text me."]',
        }
    )
    declared = {"AllowedOrigins": {}, "SignupConsentTexts": {}}
    assert settings.template_parameters(declared) == {
        "AllowedOrigins": "http://localhost:8000,https://shop.test",
        "SignupConsentTexts": '["Text me."]',
    }


def test_local_settings_default_origins_add_localhost_pages_to_the_templates():
    parameters = LocalSettings().template_parameters(
        {"AllowedOrigins": {"Default": "https://shop.example.com"}}
    )
    assert parameters == {
        "AllowedOrigins": "https://shop.example.com,http://localhost:8000,http://127.0.0.1:8000"
    }


def test_local_settings_consent_texts_not_a_json_array_refused():
    with pytest.raises(ValidationError, match="SIGNUP_CONSENT_TEXTS"):
        LocalSettings.from_environ({"SIGNUP_CONSENT_TEXTS": "I agree"})


def test_local_settings_from_environ_splits_secrets_newest_first():
    settings = LocalSettings.from_environ({"SHOPIFY_WEBHOOK_SECRETS": "new, old", "PORT": "0"})
    assert settings.shopify_webhook_secrets == ("new", "old")
    assert settings.port == 0


def test_local_settings_empty_secret_list_is_refused():
    with pytest.raises(ValidationError):
        LocalSettings(stripe_webhook_secrets=",")


def test_local_settings_real_nomi_needs_url_and_key():
    assert not LocalSettings.from_environ({"NOMI_API_URL": "https://api.withnomi.ai"}).uses_real_nomi
    assert LocalSettings.from_environ({"NOMI_API_URL": "https://x", "NOMI_API_KEY": "k"}).uses_real_nomi


def test_secret_values_are_comma_joined_by_logical_id():
    values = secret_values(LocalSettings(shopify_webhook_secrets=("a", "b")), "key")
    assert values == {
        "ShopifyWebhookSecret": "a,b",
        "StripeWebhookSecret": "whsec_test_secret",
        "NomiApiKeySecret": "key",
    }


def test_function_environment_points_nomi_at_the_local_target():
    template = load_template(STANDIN, stack_name="s")
    echo = next(f for f in template.functions() if f.logical_id == "EchoFunction")
    resolver = template.resolver(ref=lambda name: f"ref:{name}", attr=lambda name, attr: f"{name}.{attr}")
    env = function_environment(echo, resolver, nomi_api_url="http://127.0.0.1:1", nomi_api_key=None)
    assert env["NOMI_API_URL"] == "http://127.0.0.1:1"
    assert env["QUEUE_URL"] == "ref:EventQueue"
    assert "OPTIONAL" not in env


def test_describe_message_uses_the_ingest_attributes():
    message = {
        "Body": "{}",
        "MessageAttributes": {
            "source": {"DataType": "String", "StringValue": "stripe"},
            "topic": {"DataType": "String", "StringValue": "customer.created"},
            "event_id": {"DataType": "String", "StringValue": "evt_1"},
        },
    }
    assert describe_message(message) == "stripe customer.created evt_1"


def test_describe_message_reads_a_bare_canonical_event():
    assert describe_message({"Body": '{"type": "order.paid", "event_id": "e1"}'}) == "canonical order.paid e1"
