"""What a newcomer relies on and CI can check without an AWS account: the template, samconfig.toml and
the docs agree (every parameter documented, every topic and event type listed, every CLI command
explained), the mapping parameters build valid MAPPING_SETTINGS, and the docs' examples are valid."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import boto3
import pytest
import yaml
from moto import mock_aws

from cli.main import build_parser
from gateway_events import parse_queue_message
from gateway_events.topics import SHOPIFY_TOPICS, STRIPE_EVENT_TYPES
from local.template import load_template
from processor.settings import MappingSettings, parse_settings

ROOT = Path(__file__).resolve().parents[3]
DOCS = ROOT / "docs"


class _AnyTagLoader(yaml.SafeLoader):
    """Reads CloudFormation YAML, keeping the value under any !Tag."""


_AnyTagLoader.add_multi_constructor(
    "!",
    lambda loader, _suffix, node: (
        loader.construct_scalar(node)
        if isinstance(node, yaml.ScalarNode)
        else loader.construct_sequence(node)
        if isinstance(node, yaml.SequenceNode)
        else loader.construct_mapping(node)
    ),
)


def _template() -> dict:
    return yaml.load((ROOT / "template.yaml").read_text(), Loader=_AnyTagLoader)  # noqa: S506 - SafeLoader subclass


def _doc(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def _mapping_settings(**overrides: str) -> str:
    template = load_template(ROOT / "template.yaml", stack_name="docs-test", parameter_overrides=overrides)
    env = template.properties("ProcessorFunction")["Environment"]["Variables"]
    return template.resolve_static(env["MAPPING_SETTINGS"])


def _fenced(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)


# --- the template ----------------------------------------------------------------------------------


@pytest.mark.parametrize("parameter", sorted(_template()["Parameters"]))
def test_deploying_doc_documents_every_template_parameter(parameter):
    assert f"`{parameter}`" in _doc("deploying.md")


def test_template_takes_no_secret_value_as_parameter():
    for name, spec in _template()["Parameters"].items():
        if re.search(r"secret|key|token|password", name, flags=re.I):
            assert name.endswith("Arn"), f"{name} looks like a secret value; take an ARN instead"
            assert "secretsmanager" not in str(spec.get("Default", ""))


def test_template_defaults_build_the_processor_default_settings():
    assert parse_settings(_mapping_settings()) == MappingSettings()


def test_template_mapping_parameters_reach_the_settings():
    settings = parse_settings(
        _mapping_settings(
            ClickParameter="ref",
            ShopifyTags="vip,shopify",
            CanonicalTags="erp",
            ShippedSmsEnabled="false",
            ShippedSmsTemplate="Shipped: [tracking_url]",
            SendNumberId="42",
            ShopifyCustomerSmsConsentText="Texts from us",
            SignupDefaultConsentText="I agree to texts",
            StripeCheckoutConsentText="Send me offers",
        )
    )
    assert settings.click_parameter == "ref"
    assert settings.tags_for("shopify") == ["vip", "shopify"]
    assert settings.tags_for("canonical") == ["erp"]
    assert (settings.shipped_sms_enabled, settings.shipped_template) == (False, "Shipped: [tracking_url]")
    assert settings.send_number_id == 42
    assert settings.consent_text("shopify_customer") == "Texts from us"
    assert settings.consent_text("signup") == "I agree to texts"
    assert settings.consent_text("stripe_checkout") == "Send me offers"


def test_template_consent_parameters_reach_the_settings():
    settings = parse_settings(_mapping_settings(SmsDoubleOptIn="true", ProcessTestEvents="true"))
    assert (settings.sms_double_opt_in, settings.process_test_events) == (True, True)


def test_template_empty_tags_give_empty_lists():
    settings = parse_settings(_mapping_settings(ShopifyTags="", StripeTags="", SignupTags=""))
    assert settings.tags_for("shopify") == settings.tags_for("stripe") == settings.tags_for("signup") == []


def test_template_mapping_settings_json_replaces_the_parameters():
    raw = '{"enabled_topics": {"shopify": ["orders/paid"]}}'
    assert _mapping_settings(MappingSettings=raw, ClickParameter="ignored") == raw


def test_template_text_parameters_forbid_json_breaking_characters():
    for name, spec in _template()["Parameters"].items():
        if name.endswith(("ConsentText", "Template")):
            pattern = re.compile(spec["AllowedPattern"])
            assert not pattern.match('say "hi"'), name
            assert pattern.match(spec["Default"]) or spec["Default"] == "", name


@pytest.mark.parametrize(
    "alarm",
    [
        "DeadLetterQueueNotEmptyAlarm",
        "ProcessorErrorsAlarm",
        "NomiAuthFailureAlarm",
        "Ingest5xxAlarm",
        "QueueAgeAlarm",
    ],
)
def test_template_alarm_notifies_the_alarm_topic_and_is_documented(alarm):
    resource = _template()["Resources"][alarm]
    assert resource["Type"] == "AWS::CloudWatch::Alarm"
    assert resource["Properties"]["AlarmActions"] == ["AlarmTopic"]
    assert f"`{alarm}`" in _doc("operating.md")


def test_template_nomi_401_filter_matches_the_processor_retry_log_line():
    pattern = _template()["Resources"]["NomiAuthFailureMetricFilter"]["Properties"]["FilterPattern"]
    assert pattern == '{ $.error_type = "AuthenticationError" }'
    record_py = (ROOT / "functions" / "processor" / "processor" / "record.py").read_text()
    assert "error_type=type(exc).__name__" in record_py


def test_template_dashboard_body_is_json_with_every_powertools_metric():
    template = load_template(ROOT / "template.yaml", stack_name="docs-test")
    resolver = template.resolver(ref=lambda name: f"ref-{name}", attr=lambda name, attr: f"{name}-{attr}")
    body = json.loads(resolver.resolve(template.properties("Dashboard")["DashboardBody"]))
    text = json.dumps(body)
    for metric in ("Events", "Records", "NomiCalls", "NomiErrors", "Skips"):
        assert f'MetricName=\\"{metric}\\"' in text


# --- samconfig.toml --------------------------------------------------------------------------------


def _samconfig() -> dict:
    return tomllib.loads((ROOT / "samconfig.toml").read_text())


@pytest.mark.parametrize("env", ["default", "staging", "prod"])
def test_samconfig_environment_follows_sam_conventions(env):
    config = _samconfig()[env]
    assert config["build"]["parameters"] == {"cached": True, "parallel": True}
    assert config["validate"]["parameters"]["lint"] is True
    deploy = config["deploy"]["parameters"]
    assert deploy["capabilities"] == "CAPABILITY_IAM"
    assert deploy["resolve_s3"] is True
    assert deploy["confirm_changeset"] is (env == "prod")


def test_samconfig_overrides_name_only_template_parameters():
    parameters = set(_template()["Parameters"])
    for env, config in _samconfig().items():
        if not isinstance(config, dict):
            continue
        overrides = config.get("deploy", {}).get("parameters", {}).get("parameter_overrides", "")
        for name in re.findall(r'(\w+)="', overrides):
            assert name in parameters, f"{env}: {name} is not a template parameter"


# --- the connection guides -------------------------------------------------------------------------


@pytest.mark.parametrize("topic", sorted(SHOPIFY_TOPICS))
def test_shopify_doc_lists_every_handled_topic(topic):
    assert f"`{topic}`" in _doc("shopify.md")


@pytest.mark.parametrize("event_type", sorted(STRIPE_EVENT_TYPES))
def test_stripe_doc_lists_every_handled_event_type(event_type):
    assert f"`{event_type}`" in _doc("stripe.md")


def test_shopify_doc_app_config_subscribes_every_topic():
    toml = tomllib.loads(_fenced(_doc("shopify.md"), "toml")[0])
    subscribed = {
        t
        for s in toml["webhooks"]["subscriptions"]
        for t in s.get("topics", []) + s.get("compliance_topics", [])
    }
    assert subscribed == SHOPIFY_TOPICS


def test_stripe_doc_api_example_enables_every_event_type():
    example = _fenced(_doc("stripe.md"), "sh")[0]
    assert set(re.findall(r"enabled_events\[\]=([\w.]+)", example)) == STRIPE_EVENT_TYPES


# --- the signup form -------------------------------------------------------------------------------


def _signup_consent_text() -> str:
    html = _fenced(_doc("signup-form.md"), "html")[0]
    span = re.search(r'<span id="sms-consent-text">(.*?)</span>', html, flags=re.S).group(1)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", span)).replace("&amp;", "&").strip()


@pytest.mark.parametrize(
    "phrase",
    [
        "automated marketing text messages",
        "Consent is not a condition of purchase",
        "Msg & data rates may apply",
        "Msg frequency varies",
        "HELP",
        "STOP",
    ],
)
def test_signup_doc_consent_text_has_required_phrase(phrase):
    assert phrase in _signup_consent_text()


def test_signup_doc_example_fields_are_signup_fields():
    from ingest.signup import SignupForm

    html = _fenced(_doc("signup-form.md"), "html")[0]
    names = set(re.findall(r'name="([\w\[\]]+)"', html)) | {"consent_text", "page_url"}
    assert names - {"website"} <= set(SignupForm.model_fields)
    assert "checked" not in html  # the opt-in box is never pre-ticked
    assert "sms_consent" in names


def test_signup_doc_example_consent_text_fits_the_form_limit():
    assert len(_signup_consent_text()) <= 1000


# --- producing -------------------------------------------------------------------------------------


def test_producing_doc_boto3_example_queues_a_valid_canonical_event(monkeypatch):
    code = _fenced(_doc("producing.md"), "python")[0]
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="nomi-gateway-prod-EventQueue-AbC123")["QueueUrl"]
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        exec(compile(code, "producing.md", "exec"), {"__name__": "docs_example", "print": lambda *_a: None})  # noqa: S102 - our own doc
        body = sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"]
    envelope = parse_queue_message(body)
    assert (envelope.source, envelope.topic) == ("canonical", "order.shipped")


def test_producing_doc_names_the_schema_file_that_exists():
    assert "schemas/queue-message.schema.json" in _doc("producing.md")
    assert (ROOT / "schemas" / "queue-message.schema.json").is_file()


# --- the CLI ---------------------------------------------------------------------------------------


def test_operating_doc_explains_every_cli_command():
    commands = build_parser()._subparsers._group_actions[0].choices  # argparse keeps them here
    for command in commands:
        assert f"nomi-gateway {command}" in _doc("operating.md")


@pytest.mark.parametrize(
    "name", ["deploying.md", "shopify.md", "stripe.md", "signup-form.md", "producing.md", "operating.md"]
)
def test_docs_relative_links_point_to_existing_files(name):
    for target in re.findall(r"\]\(([\w.-]+\.md)(?:#[\w-]+)?\)", _doc(name)):
        assert (DOCS / target).is_file(), f"{name} links to missing {target}"
