"""template.yaml: lint-clean (what `sam validate --lint` runs), the contract's resources, and the
environment the ingest function reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from cfnlint.api import ManualArgs, lint_file

from ingest.config import REQUIRED_VARIABLES

REPO = Path(__file__).resolve().parents[3]
TEMPLATE = REPO / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation short-form tags (!Ref, !Sub…) as {"Tag": value}."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        return {suffix: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {suffix: loader.construct_sequence(node, deep=True)}
    return {suffix: loader.construct_mapping(node, deep=True)}


_CfnLoader.add_multi_constructor("!", _tag)


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return yaml.load(TEMPLATE.read_text(encoding="utf-8"), Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass


def test_template_lint_clean() -> None:
    matches = lint_file(TEMPLATE, ManualArgs(regions=["us-east-1"]))
    assert [str(m) for m in matches] == []


def test_template_has_contract_resources(template: dict[str, Any]) -> None:
    expected = {
        "HttpApi": "AWS::Serverless::HttpApi",
        "IngestFunction": "AWS::Serverless::Function",
        "ProcessorFunction": "AWS::Serverless::Function",
        "EventQueue": "AWS::SQS::Queue",
        "EventDeadLetterQueue": "AWS::SQS::Queue",
        "PayloadBucket": "AWS::S3::Bucket",
        "IdempotencyTable": "AWS::DynamoDB::Table",
        "ShopifyWebhookSecret": "AWS::SecretsManager::Secret",
        "StripeWebhookSecret": "AWS::SecretsManager::Secret",
        "NomiApiKeySecret": "AWS::SecretsManager::Secret",
        "PartnerEventsRule": "AWS::Events::Rule",
        "NomiClientLayer": "AWS::Serverless::LayerVersion",
        "GatewayEventsLayer": "AWS::Serverless::LayerVersion",
    }
    assert {k: template["Resources"][k]["Type"] for k in expected} == expected


def test_template_ingest_routes(template: dict[str, Any]) -> None:
    events = template["Resources"]["IngestFunction"]["Properties"]["Events"].values()
    routes = {(e["Properties"]["Method"], e["Properties"]["Path"]) for e in events if e["Type"] == "HttpApi"}
    assert routes == {("POST", "/webhooks/shopify"), ("POST", "/webhooks/stripe"), ("POST", "/signup")}


def test_template_ingest_environment_covers_required_config(template: dict[str, Any]) -> None:
    env = set(template["Resources"]["IngestFunction"]["Properties"]["Environment"]["Variables"])
    env |= set(template["Globals"]["Function"]["Environment"]["Variables"])
    assert env >= REQUIRED_VARIABLES


def test_template_handlers_point_at_existing_modules(template: dict[str, Any]) -> None:
    for name in ("IngestFunction", "ProcessorFunction"):
        props = template["Resources"][name]["Properties"]
        module = props["Handler"].rsplit(".", 1)[0].replace(".", "/") + ".py"
        assert (REPO / props["CodeUri"] / module).is_file(), name


def test_template_processor_reports_batch_item_failures(template: dict[str, Any]) -> None:
    # The queue's mapping is explicit (docs/snapstart.md): the processor has no SAM SQS event.
    assert "Events" not in template["Resources"]["ProcessorFunction"]["Properties"]
    mapping = template["Resources"]["ProcessorFunctionEventQueue"]
    assert mapping["Type"] == "AWS::Lambda::EventSourceMapping"
    assert mapping["Properties"]["EventSourceArn"] == {"GetAtt": "EventQueue.Arn"}
    assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert "MaximumConcurrency" in mapping["Properties"]["ScalingConfig"]


def test_template_visibility_timeout_is_six_processor_timeouts(template: dict[str, Any]) -> None:
    mapping = template["Mappings"]["VisibilityTimeouts"]
    allowed = template["Parameters"]["ProcessorTimeout"]["AllowedValues"]
    assert {k: v["Seconds"] for k, v in mapping.items()} == {v: 6 * int(v) for v in allowed}


def test_template_encrypts_at_rest(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    assert resources["EventQueue"]["Properties"]["SqsManagedSseEnabled"] is True
    assert resources["EventDeadLetterQueue"]["Properties"]["SqsManagedSseEnabled"] is True
    assert resources["IdempotencyTable"]["Properties"]["SSESpecification"]["SSEEnabled"] is True
    assert "BucketEncryption" in resources["PayloadBucket"]["Properties"]


def test_template_secrets_are_not_parameters(template: dict[str, Any]) -> None:
    for name, spec in template["Parameters"].items():
        assert not name.endswith(("Secret", "Key")), name
        assert spec.get("NoEcho") is None, name


def test_ingest_requirements_exclude_stripe() -> None:
    requirements = (REPO / "functions/ingest/requirements.txt").read_text()
    assert "stripe" not in [line.split(">")[0].split("=")[0].strip() for line in requirements.splitlines()]


def _statements(function: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        s
        for policy in function["Properties"]["Policies"]
        if "Statement" in policy
        for s in policy["Statement"]
    ]


def test_template_receipts_bucket_versioned_encrypted_with_optional_governance_lock(
    template: dict[str, Any],
) -> None:
    bucket = template["Resources"]["ConsentReceiptsBucket"]
    properties = bucket["Properties"]
    assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
    assert "BucketEncryption" in properties
    lock = properties["ObjectLockConfiguration"]["If"][1]
    assert lock["Rule"]["DefaultRetention"]["Mode"] == "GOVERNANCE"
    assert bucket["DeletionPolicy"] == "Retain"


def test_template_grants_what_receipts_and_signup_limits_call(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    processor = {a for s in _statements(resources["ProcessorFunction"]) for a in _as_list(s["Action"])}
    ingest = {a for s in _statements(resources["IngestFunction"]) for a in _as_list(s["Action"])}
    # ReceiptStore.write / forget; ratelimit.take (TransactWriteItems is authorised per UpdateItem).
    assert {
        "s3:PutObject",
        "s3:ListBucketVersions",
        "s3:DeleteObjectVersion",
        "s3:BypassGovernanceRetention",
    } <= processor
    assert "dynamodb:UpdateItem" in ingest
    environment = resources["IngestFunction"]["Properties"]["Environment"]["Variables"]
    assert environment["SIGNUP_LIMIT_TABLE"] == {"Ref": "SignupLimitTable"}
    assert environment["SIGNUP_CONSENT_TEXTS"] == {"Ref": "SignupConsentTexts"}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
