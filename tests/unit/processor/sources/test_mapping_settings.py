"""MappingSettings: defaults, the MAPPING_SETTINGS override, and clear errors for a bad configuration."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway_events.topics import SHOPIFY_TOPICS, STRIPE_EVENT_TYPES
from processor.settings import (
    DEFAULT_SHIPPED_TEMPLATE,
    MappingSettings,
    SettingsError,
    load_settings,
    parse_settings,
)


@pytest.fixture(autouse=True)
def _fresh_cache():
    load_settings.cache_clear()
    yield
    load_settings.cache_clear()


def test_settings_defaults_match_the_contract():
    settings = MappingSettings()
    assert settings.default_phone_region == "US"
    assert settings.click_parameter == "sub"
    assert set(settings.consent_texts) >= {"shopify_checkout", "stripe_checkout", "signup"}
    assert set(settings.tags) == {"shopify", "stripe", "signup", "canonical"}
    assert settings.shipped_sms_enabled is True
    assert settings.shipped_template == DEFAULT_SHIPPED_TEMPLATE
    assert settings.send_number_id is None


def test_settings_default_enables_every_known_topic():
    settings = MappingSettings()
    assert settings.enabled_topics["shopify"] == SHOPIFY_TOPICS
    assert settings.enabled_topics["stripe"] == STRIPE_EVENT_TYPES
    assert settings.topic_enabled("signup", "signup")


def test_load_settings_without_env_gives_defaults(monkeypatch):
    monkeypatch.delenv("MAPPING_SETTINGS", raising=False)
    assert load_settings() == MappingSettings()


def test_load_settings_reads_env_and_merges_dicts_with_defaults(monkeypatch):
    override = {
        "click_parameter": "nomi",
        "consent_texts": {"signup": "Acme form v3"},
        "tags": {"shopify": ["store-eu"]},
        "enabled_topics": {"stripe": ["customer.created"]},
        "send_number_id": 2,
        "default_phone_region": "gb",
    }
    monkeypatch.setenv("MAPPING_SETTINGS", json.dumps(override))
    settings = load_settings()
    assert settings.click_parameter == "nomi"
    assert settings.consent_texts["signup"] == "Acme form v3"
    assert settings.consent_texts["shopify_checkout"] == "Text me with news and offers"
    assert settings.tags == {
        "shopify": ["store-eu"],
        "stripe": ["stripe"],
        "signup": ["signup"],
        "canonical": [],
    }
    assert settings.enabled_topics["stripe"] == frozenset({"customer.created"})
    assert settings.enabled_topics["shopify"] == SHOPIFY_TOPICS
    assert (settings.send_number_id, settings.default_phone_region) == (2, "GB")


def test_load_settings_is_cached(monkeypatch):
    monkeypatch.delenv("MAPPING_SETTINGS", raising=False)
    assert load_settings() is load_settings()


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('{"click_parameter": "s u b"}', "click_parameter"),
        ('{"default_phone_region": "XX"}', "default_phone_region"),
        ('{"consent_texts": {"shopify_chekout": "typo"}}', "shopify_chekout"),
        ('{"consent_texts": {"signup": ""}}', "consent_texts.signup"),
        ('{"tags": {"woocommerce": ["x"]}}', "woocommerce"),
        ('{"tags": {"shopify": ["' + "t" * 65 + '"]}}', "tags.shopify.0"),
        ('{"enabled_topics": {"shopify": ["products/create"]}}', "products/create"),
        ('{"enabled_topics": {"stripe": "customer.created"}}', "must be a list"),
        ('{"send_number_id": 0}', "send_number_id"),
        ('{"shipped_template": ""}', "shipped_template"),
        ('{"shiped_sms_enabled": false}', "shiped_sms_enabled"),
    ],
)
def test_parse_settings_invalid_config_raises_settings_error_naming_the_problem(raw, reason):
    with pytest.raises(SettingsError, match="MAPPING_SETTINGS") as caught:
        parse_settings(raw)
    assert reason in str(caught.value)


def test_load_settings_invalid_env_fails_at_load(monkeypatch):
    monkeypatch.setenv("MAPPING_SETTINGS", '{"click_parameter": 5}')
    with pytest.raises(SettingsError, match="click_parameter"):
        load_settings()


def test_settings_are_immutable():
    settings = MappingSettings()
    with pytest.raises(ValueError, match="frozen"):
        settings.click_parameter = "x"


def test_click_keys_try_metadata_keys_before_the_parameter():
    assert MappingSettings(click_parameter="ref").click_keys() == ["nomi_click_id", "ref"]


def test_every_settings_field_is_documented_in_the_mapping_table():
    doc = (Path(__file__).parents[4] / "docs" / "mapping.md").read_text(encoding="utf-8")
    missing = [name for name in MappingSettings.model_fields if f"| `{name}` |" not in doc]
    assert missing == []
