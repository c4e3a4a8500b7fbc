"""The EventBridge partner rules let through only what the gateway handles: their patterns are
`gateway_events.topics.partner_event_pattern()` (one list), and they match as EventBridge matches
(moto's implementation of TestEventPattern)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from gateway_events.topics import partner_event_pattern
from local import event_patterns
from local.template import parse_template_text

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
EVENTS = ROOT / "events" / "eventbridge"


def _partner_rules() -> dict[str, dict[str, Any]]:
    resources = parse_template_text((ROOT / "template.yaml").read_text(encoding="utf-8"))["Resources"]
    return {
        name: r["Properties"]
        for name, r in resources.items()
        if r["Type"] == "AWS::Events::Rule"
        and "PartnerEventBusNames" in json.dumps(r["Properties"]["EventBusName"])
    }


def test_partner_rules_filter_on_the_topic_list():
    rules = _partner_rules()
    assert sorted(rules) == ["PartnerEventsRule", "SecondPartnerEventsRule"]
    assert {name: rule["EventPattern"] for name, rule in rules.items()} == {
        name: partner_event_pattern() for name in rules
    }


def test_event_patterns_tool_finds_the_template_up_to_date():
    assert event_patterns.main(["--check"]) == 0


def test_event_patterns_tool_rewrites_a_stale_block(tmp_path):
    stale = tmp_path / "template.yaml"
    text = (ROOT / "template.yaml").read_text(encoding="utf-8")
    stale.write_text(text.replace('"orders/paid",\n', "", 1), encoding="utf-8")
    assert event_patterns.main(["--check", "--template", str(stale)]) == 1
    assert event_patterns.main(["--template", str(stale)]) == 0
    assert stale.read_text(encoding="utf-8") == text


def _event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


def _matches(event: dict[str, Any]) -> bool:
    """Whether a rule with the partner pattern on a bus delivers `event` to its SQS target."""
    with mock_aws():
        events = boto3.client("events", region_name="us-east-1")
        sqs = boto3.client("sqs", region_name="us-east-1")
        queue = sqs.create_queue(QueueName="target")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.create_event_bus(Name="partner")
        events.put_rule(
            Name="partner", EventBusName="partner", EventPattern=json.dumps(partner_event_pattern())
        )
        events.put_targets(Rule="partner", EventBusName="partner", Targets=[{"Id": "queue", "Arn": arn}])
        entry = {
            "Source": event["source"],
            "DetailType": event["detail-type"],
            "Detail": json.dumps(event["detail"]),
        }
        assert events.put_events(Entries=[{**entry, "EventBusName": "partner"}])["FailedEntryCount"] == 0
        return bool(sqs.receive_message(QueueUrl=queue).get("Messages"))


@pytest.mark.parametrize("name", sorted(p.name for p in EVENTS.glob("*.json")))
def test_partner_pattern_lets_handled_events_through(name):
    assert _matches(_event(name))


def test_partner_pattern_filters_an_unhandled_shopify_topic():
    event = copy.deepcopy(_event("shopify-orders-paid.json"))
    event["detail"]["metadata"]["X-Shopify-Topic"] = "carts/create"
    assert not _matches(event)


def test_partner_pattern_filters_an_unhandled_stripe_type():
    event = copy.deepcopy(_event("stripe-checkout-session-completed.json"))
    event["detail-type"] = event["detail"]["type"] = "invoice.paid"
    assert not _matches(event)


def test_partner_pattern_filters_another_partner():
    event = copy.deepcopy(_event("stripe-checkout-session-completed.json"))
    event["source"] = "aws.partner/example.com/1/app"
    assert not _matches(event)
