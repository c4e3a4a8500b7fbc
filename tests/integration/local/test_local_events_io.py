"""Sending events/ as their senders do: re-signing rules, file discovery."""

import base64
import hashlib
import hmac
import json

import pytest

from local.events_io import (
    STRIPE_ROLL_NEXT_SECRET,
    WRONG_TEST_SECRET,
    Signer,
    classify,
    list_event_files,
    shopify_hmac,
    stripe_v1,
    unsendable_files,
)

BODY = b'{"id": 1}'


def test_shopify_hmac_is_base64_hmac_sha256_of_the_body():
    expected = base64.b64encode(hmac.new(b"s", BODY, hashlib.sha256).digest()).decode()
    assert shopify_hmac(BODY, "s") == expected


def test_signer_shopify_resigns_a_test_signed_file_with_the_stack_secret():
    headers = {"x-shopify-hmac-sha256": shopify_hmac(BODY, "shpss_test_secret")}
    signed = Signer(shopify_secrets=("mine",)).shopify(headers, BODY)
    assert signed["x-shopify-hmac-sha256"] == shopify_hmac(BODY, "mine")


def test_signer_shopify_keeps_a_wrongly_signed_file_wrong():
    headers = {"x-shopify-hmac-sha256": shopify_hmac(BODY, WRONG_TEST_SECRET)}
    signed = Signer(shopify_secrets=("mine",)).shopify(headers, BODY)
    assert signed["x-shopify-hmac-sha256"] != shopify_hmac(BODY, "mine")


def test_signer_stripe_resigns_with_a_fresh_timestamp():
    header = f"t=100,v1={stripe_v1(BODY, 'whsec_test_secret', 100)}"
    signed = Signer(clock=lambda: 5000).stripe({"stripe-signature": header}, BODY)
    assert signed["stripe-signature"] == f"t=5000,v1={stripe_v1(BODY, 'whsec_test_secret', 5000)}"


def test_signer_stripe_roll_keeps_one_signature_per_secret():
    header = f"t=100,v1={stripe_v1(BODY, STRIPE_ROLL_NEXT_SECRET, 100)},v1={stripe_v1(BODY, 'whsec_test_secret', 100)}"
    signed = Signer(stripe_secrets=("mine",), clock=lambda: 7).stripe({"stripe-signature": header}, BODY)
    expected = f"t=7,v1={stripe_v1(BODY, STRIPE_ROLL_NEXT_SECRET, 7)},v1={stripe_v1(BODY, 'mine', 7)}"
    assert signed["stripe-signature"] == expected


def test_signer_leaves_unsigned_requests_alone():
    assert Signer().sign({"content-type": "application/json"}, BODY) == {"content-type": "application/json"}


@pytest.mark.parametrize(
    ("relative", "data", "kind"),
    [
        ("shopify/a.json", {"rawPath": "/x", "requestContext": {}}, "http"),
        ("canonical/a.json", {"type": "order.paid"}, "queue"),
        ("eventbridge/a.json", {"detail-type": "x"}, "queue"),
        ("processor/a.json", {"Records": [{"eventSource": "aws:sqs", "body": "{}"}]}, None),
        ("other/a.json", {"something": "else"}, None),
    ],
)
def test_classify_names_how_a_file_reaches_the_gateway(relative, data, kind):
    assert classify(relative, data) == kind


def test_list_event_files_skips_bodies_index_and_unknown_shapes(tmp_path):
    for relative, data in {
        "index.json": {},
        "bodies/shopify/a.json": {"id": 1},
        "shopify/a.json": {"rawPath": "/webhooks/shopify", "requestContext": {"http": {"method": "POST"}}},
        "canonical/b.json": {"type": "order.paid"},
        "misc/c.json": {"nothing": True},
    }.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(json.dumps(data))
    assert [(f.name, f.kind) for f in list_event_files(tmp_path)] == [
        ("canonical/b.json", "queue"),
        ("shopify/a.json", "http"),
    ]


def test_unsendable_files_names_function_fixtures(tmp_path):
    (tmp_path / "processor").mkdir()
    (tmp_path / "processor" / "batch.json").write_text(json.dumps({"Records": []}))
    assert unsendable_files(tmp_path) == ["processor/batch.json"]
