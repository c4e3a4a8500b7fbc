"""`nomi-gateway send` without a network: what it reads, how it signs (checked by ingest's verifiers)."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from cli import send
from cli.common import CliError
from cli.main import build_parser, main
from ingest.verify import SignatureVerificationError, verify_shopify, verify_stripe

EVENTS = Path(__file__).resolve().parents[3] / "events"
NOW = 1_800_000_000


def _args(*argv: str):
    return build_parser().parse_args(["send", *argv])


def test_send_load_events_file_keeps_route_topic_and_raw_body():
    request = send.load(EVENTS / "shopify" / "orders-paid.json")
    event = json.loads((EVENTS / "shopify" / "orders-paid.json").read_text())
    assert (request.source, request.method, request.path, request.topic) == (
        "shopify",
        "POST",
        "/webhooks/shopify",
        "orders/paid",
    )
    assert request.body == event["body"].encode("utf-8")
    assert "host" not in request.headers


def test_send_load_base64_events_file_decodes_body_and_lowercases_headers():
    request = send.load(EVENTS / "shopify" / "base64-body.json")
    assert request.headers["x-shopify-topic"] == "orders/create"
    assert json.loads(request.body)["id"]


def test_send_sign_shopify_verifies_with_ingest_verifier():
    request = send.sign(send.load(EVENTS / "shopify" / "orders-paid.json"), ["shpss_live"], now=NOW)
    verify_shopify(request.body, request.headers["x-shopify-hmac-sha256"], ["shpss_live"])


def test_send_sign_shopify_with_other_secret_fails_ingest_verifier():
    request = send.sign(send.load(EVENTS / "shopify" / "orders-paid.json"), ["shpss_other"], now=NOW)
    with pytest.raises(SignatureVerificationError):
        verify_shopify(request.body, request.headers["x-shopify-hmac-sha256"], ["shpss_live"])


def test_send_sign_stripe_fresh_timestamp_verifies_with_ingest_verifier():
    request = send.sign(
        send.load(EVENTS / "stripe" / "checkout-session-completed.json"), ["whsec_a"], now=NOW
    )
    assert (
        verify_stripe(request.body, request.headers["stripe-signature"], ["whsec_a"], tolerance=300, now=NOW)
        == NOW
    )


def test_send_sign_stripe_roll_each_secret_alone_verifies():
    request = send.sign(
        send.load(EVENTS / "stripe" / "customer-created.json"), ["whsec_new", "whsec_old"], now=NOW
    )
    for secret in ("whsec_new", "whsec_old"):
        verify_stripe(request.body, request.headers["stripe-signature"], [secret], tolerance=300, now=NOW)


def test_send_bare_shopify_body_gets_shopify_headers():
    request = send.load(
        EVENTS / "bodies" / "shopify" / "orders-paid.json",
        source="shopify",
        topic="orders/paid",
        now=datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
    )
    assert request.path == "/webhooks/shopify"
    assert request.headers["x-shopify-topic"] == "orders/paid"
    assert request.headers["x-shopify-triggered-at"] == "2026-11-23T09:00:00Z"
    assert request.headers["x-shopify-webhook-id"] != request.headers["x-shopify-event-id"]


def test_send_bare_shopify_body_without_topic_raises():
    with pytest.raises(CliError, match="--topic"):
        send.load(EVENTS / "bodies" / "shopify" / "orders-paid.json", source="shopify")


def test_send_bare_stripe_event_is_recognised_without_source():
    request = send.load(EVENTS / "bodies" / "stripe" / "customer-created.json")
    assert (request.source, request.topic) == ("stripe", "customer.created")


def test_send_bare_signup_body_carries_origin():
    request = send.load(
        EVENTS / "bodies" / "signup" / "json.json", source="signup", origin="https://a.example"
    )
    assert (request.path, request.headers["origin"]) == ("/signup", "https://a.example")


def test_send_unknown_bare_body_asks_for_source(tmp_path):
    path = tmp_path / "body.json"
    path.write_text('{"hello": 1}')
    with pytest.raises(CliError, match="--source"):
        send.load(path)


@pytest.mark.parametrize(
    ("name", "kind"),
    [("canonical/order.paid.json", "canonical"), ("eventbridge/shopify-orders-paid.json", "eventbridge")],
)
def test_send_load_queue_file_is_a_queue_message(name, kind):
    assert send.load(EVENTS / name).kind == kind


def test_send_fresh_ids_changes_shopify_delivery_ids():
    request = send.load(EVENTS / "shopify" / "orders-paid.json")
    fresh = send.with_fresh_ids(request)
    assert fresh.headers["x-shopify-webhook-id"] != request.headers["x-shopify-webhook-id"]
    assert fresh.body == request.body


def test_send_fresh_ids_changes_stripe_event_id_only():
    request = send.load(EVENTS / "stripe" / "customer-created.json")
    before, after = json.loads(request.body), json.loads(send.with_fresh_ids(request).body)
    assert after["id"] != before["id"]
    assert {**after, "id": before["id"]} == before


def test_send_secrets_from_env_when_no_flag():
    secrets = send.secrets_for(
        "stripe", given=[], target=send.Target(), environ={"STRIPE_WEBHOOK_SECRETS": "whsec_new, whsec_old"}
    )
    assert secrets == ["whsec_new", "whsec_old"]


def test_send_secrets_from_stack_secret_signs_with_newest_only():
    with mock_aws():
        sm = boto3.client("secretsmanager", region_name="us-east-1")
        arn = sm.create_secret(Name="shopify", SecretString="shpss_new,shpss_old")["ARN"]
        target = send.Target(secret_ids={"shopify": arn})
        assert send.secrets_for("shopify", given=[], target=target, environ={}, secretsmanager=sm) == [
            "shpss_new"
        ]


def test_send_without_any_secret_exits_2(capsys):
    code = main(["send", str(EVENTS / "shopify" / "orders-paid.json"), "--url", "http://127.0.0.1:9"])
    assert code == 2
    assert "SHOPIFY_WEBHOOK_SECRETS" in capsys.readouterr().err


def test_send_canonical_file_is_queued_with_send_message():
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="events")["QueueUrl"]
        out = io.StringIO()
        code = send.run(
            _args(str(EVENTS / "canonical" / "order.paid.json"), "--queue-url", url), out=out, sqs=sqs
        )
        body = sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"]
    assert code == 0
    assert json.loads(body)["type"] == "order.paid"
    assert "queued canonical message" in out.getvalue()


def test_send_canonical_file_without_queue_exits_2(capsys):
    assert main(["send", str(EVENTS / "canonical" / "order.paid.json"), "--url", "http://127.0.0.1:9"]) == 2
    assert "--queue-url" in capsys.readouterr().err


def test_send_stack_resolves_api_url_and_secret_from_outputs():
    with mock_aws():
        sm = boto3.client("secretsmanager", region_name="us-east-1")
        arn = sm.create_secret(Name="stripe", SecretString="whsec_stack")["ARN"]

        class FakeCloudFormation:
            def describe_stacks(self, StackName):
                outputs = {"ApiUrl": "https://api.example", "StripeWebhookSecretArn": arn}
                return {
                    "Stacks": [{"Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()]}]
                }

        args = _args(str(EVENTS / "stripe" / "customer-created.json"), "--stack", "shop", "--dry-run")
        out = io.StringIO()
        code = send.run(
            args, out=out, secretsmanager=sm, cloudformation=FakeCloudFormation(), clock=lambda: NOW
        )
    text = out.getvalue()
    header = next(line for line in text.splitlines() if line.startswith("stripe-signature: "))
    body = text.split("\n\n", 1)[1].strip().encode("utf-8")
    assert code == 0
    assert text.startswith("POST https://api.example/webhooks/stripe")
    verify_stripe(body, header.removeprefix("stripe-signature: "), ["whsec_stack"], tolerance=300, now=NOW)
    assert "whsec_stack" not in text
