"""The ingest handler end to end on moto: every status path, and what reaches the queue."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from ingest_helpers import (
    NOW,
    STRIPE_NEXT_SECRET,
    STRIPE_SECRET,
    AwsFakes,
    FakeContext,
    answer_json,
    http_event,
    shopify_event,
    signup_event,
    stripe_event,
)

from gateway_events import Envelope, SignupPayload, parse_queue_message
from ingest import app, enqueue
from ingest.verify import shopify_signature

ORDER = {"id": 5931082317003, "name": "#1042", "landing_site": "/?sub=Xk29fa", "total_price": "59.90"}
STRIPE_EVT = {"id": "evt_1", "object": "event", "type": "checkout.session.completed", "data": {"object": {}}}
CONSENT = "I agree to receive automated marketing texts. Consent is not a condition of purchase."
SIGNUP = {"phone": "(415) 555-2671", "email": "ada@example.com", "sms_consent": True, "consent_text": CONSENT}


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app, "wall_clock", lambda: float(NOW + 5))


def invoke(event: dict[str, Any]) -> dict[str, Any]:
    return app.lambda_handler(event, FakeContext())


def log_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """The JSON log lines the function wrote to stdout (its EMF metric documents left out)."""
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    return [line for line in lines if "_aws" not in line]


def queued(aws: AwsFakes) -> list[Envelope]:
    return [parse_queue_message(m["Body"]) for m in aws.messages()]


# --- Shopify ------------------------------------------------------------------------------------------


def test_shopify_valid_webhook_queued_with_envelope_and_attributes(aws: AwsFakes) -> None:
    answer = invoke(shopify_event(ORDER, webhook_id="wh-42"))
    assert (answer["statusCode"], answer_json(answer)) == (200, {"status": "queued", "event_id": "wh-42"})
    [message] = aws.messages()
    envelope = parse_queue_message(message["Body"])
    assert (envelope.source, envelope.topic, envelope.payload) == ("shopify", "orders/paid", ORDER)
    attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
    assert attributes == {"source": "shopify", "topic": "orders/paid", "event_id": "wh-42"}


def test_shopify_body_queued_verbatim_inside_the_envelope(aws: AwsFakes) -> None:
    raw = b'{"id": 7,  "name": "#1042", "note": "Zo\\u00eb", "total_price": "59.90"}'
    invoke(shopify_event(raw, base64_body=True))
    [message] = aws.messages()
    assert raw.decode() in message["Body"]
    assert parse_queue_message(message["Body"]).payload == json.loads(raw)


def test_shopify_utf16_body_queued_with_the_same_payload(aws: AwsFakes) -> None:
    raw = json.dumps(ORDER).encode("utf-16")
    assert invoke(shopify_event(raw, base64_body=True))["statusCode"] == 200
    assert queued(aws)[0].payload == ORDER


def test_shopify_bom_text_body_queued_with_the_same_payload(aws: AwsFakes) -> None:
    # json.loads refuses a str that starts with a BOM but reads the same bytes: the bytes route is kept.
    raw = b"\xef\xbb\xbf" + json.dumps(ORDER).encode()
    assert invoke(shopify_event(raw))["statusCode"] == 200
    assert queued(aws)[0].payload == ORDER


@pytest.mark.parametrize("base64_body", [False, True])
def test_shopify_utf16_body_without_bom_queued_as_valid_envelope(aws: AwsFakes, base64_body: bool) -> None:
    # UTF-16-BE of ASCII JSON is also valid UTF-8 (with NULs): json.loads reads it as UTF-16, so its
    # UTF-8 text is not the payload's JSON text and must not be spliced into the envelope.
    raw = json.dumps(ORDER).encode("utf-16-be")
    assert invoke(shopify_event(raw, base64_body=base64_body))["statusCode"] == 200
    [message] = aws.messages()
    assert parse_queue_message(message["Body"]).payload == ORDER


def test_shopify_envelope_keeps_the_headers_that_matter(aws: AwsFakes) -> None:
    invoke(shopify_event(ORDER, extra_headers={"x-shopify-name": "nomi", "x-request-id": "zzz"}))
    [envelope] = queued(aws)
    assert set(envelope.headers) == {
        "x-shopify-topic",
        "x-shopify-shop-domain",
        "x-shopify-webhook-id",
        "x-shopify-event-id",
        "x-shopify-triggered-at",
        "x-shopify-api-version",
        "x-shopify-name",
    }


def test_shopify_mixed_case_headers_accepted(aws: AwsFakes) -> None:
    event = shopify_event(ORDER)
    event["headers"] = {"-".join(p.upper() for p in k.split("-")): v for k, v in event["headers"].items()}
    assert invoke(event)["statusCode"] == 200
    assert queued(aws)[0].headers["x-shopify-webhook-id"] == "wh-0001"


def test_shopify_base64_body_verified_on_decoded_bytes(aws: AwsFakes) -> None:
    body = json.dumps({"note": "naïve café ✓", **ORDER}, ensure_ascii=False).encode("utf-8")
    assert invoke(shopify_event(body, base64_body=True))["statusCode"] == 200
    assert queued(aws)[0].payload["note"] == "naïve café ✓"


def test_shopify_invalid_base64_body_answers_400(aws: AwsFakes) -> None:
    event = shopify_event(ORDER)
    event.update(body="***not base64***", isBase64Encoded=True)
    assert invoke(event)["statusCode"] == 400
    assert aws.messages() == []


def test_shopify_bad_signature_answers_401_nothing_queued(aws: AwsFakes) -> None:
    answer = invoke(shopify_event(ORDER, secret="wrong"))
    assert (answer["statusCode"], answer_json(answer)["status"]) == (401, "rejected")
    assert aws.messages() == []


def test_shopify_missing_signature_answers_401(aws: AwsFakes) -> None:
    event = shopify_event(ORDER)
    del event["headers"]["x-shopify-hmac-sha256"]
    assert invoke(event)["statusCode"] == 401
    assert aws.messages() == []


def test_shopify_rotated_secret_second_accepted(aws: AwsFakes) -> None:
    aws.set_secret("nomi-gateway/shopify", "shpss_new_secret,shpss_test_secret")
    assert invoke(shopify_event(ORDER, secret="shpss_new_secret"))["statusCode"] == 200
    assert invoke(shopify_event(ORDER, secret="shpss_test_secret", webhook_id="wh-2"))["statusCode"] == 200
    assert len(aws.messages()) == 2


@pytest.mark.parametrize("header", ["x-shopify-topic", "x-shopify-webhook-id"])
def test_shopify_missing_required_header_answers_400_with_reason(aws: AwsFakes, header: str) -> None:
    event = shopify_event(ORDER)
    del event["headers"][header]
    answer = invoke(event)
    assert (answer["statusCode"], answer_json(answer)["error"]) == (400, f"missing {header} header")
    assert aws.messages() == []


def test_shopify_body_not_json_answers_400(aws: AwsFakes) -> None:
    answer = invoke(shopify_event(b"not json at all"))
    assert (answer["statusCode"], answer_json(answer)["error"]) == (400, "body is not valid JSON")


def test_shopify_unhandled_topic_answers_200_nothing_queued(aws: AwsFakes) -> None:
    answer = invoke(shopify_event({"id": 1}, topic="products/update"))
    assert (answer["statusCode"], answer_json(answer)["status"]) == (200, "ignored")
    assert aws.messages() == []


def test_shopify_secrets_unavailable_answers_503(aws: AwsFakes) -> None:
    aws.secretsmanager.delete_secret(SecretId="nomi-gateway/shopify", ForceDeleteWithoutRecovery=True)
    assert invoke(shopify_event(ORDER))["statusCode"] == 503


def test_shopify_unhandled_topic_logs_why(aws: AwsFakes, capsys: pytest.CaptureFixture[str]) -> None:
    invoke(shopify_event({"id": 1}, topic="products/update"))
    ignored = [line for line in log_lines(capsys) if line["message"] == "topic not handled; ignored"]
    assert [line["topic"] for line in ignored] == ["products/update"]


# --- Stripe -------------------------------------------------------------------------------------------


def test_stripe_valid_event_queued(aws: AwsFakes) -> None:
    answer = invoke(stripe_event(STRIPE_EVT))
    assert (answer["statusCode"], answer_json(answer)) == (200, {"status": "queued", "event_id": "evt_1"})
    [envelope] = queued(aws)
    assert (envelope.source, envelope.topic, envelope.event_id) == (
        "stripe",
        "checkout.session.completed",
        "evt_1",
    )


def test_stripe_bad_signature_answers_401_nothing_queued(aws: AwsFakes) -> None:
    assert invoke(stripe_event(STRIPE_EVT, secrets=["whsec_wrong"]))["statusCode"] == 401
    assert aws.messages() == []


def test_stripe_stale_timestamp_answers_401(aws: AwsFakes) -> None:
    assert invoke(stripe_event(STRIPE_EVT, timestamp=NOW - 400))["statusCode"] == 401


def test_stripe_tolerance_from_env(aws: AwsFakes, env: pytest.MonkeyPatch) -> None:
    env.setenv("STRIPE_TOLERANCE_SECONDS", "1000")
    app.get_config.cache_clear()
    assert invoke(stripe_event(STRIPE_EVT, timestamp=NOW - 400))["statusCode"] == 200


def test_stripe_zero_tolerance_config_answers_500(aws: AwsFakes, env: pytest.MonkeyPatch) -> None:
    env.setenv("STRIPE_TOLERANCE_SECONDS", "0")
    app.get_config.cache_clear()
    answer = invoke(stripe_event(STRIPE_EVT))
    assert answer["statusCode"] == 500
    assert aws.messages() == []


def test_stripe_secret_roll_header_accepted_with_old_secret_configured(aws: AwsFakes) -> None:
    assert invoke(stripe_event(STRIPE_EVT, secrets=[STRIPE_NEXT_SECRET, STRIPE_SECRET]))["statusCode"] == 200


def test_stripe_second_configured_secret_accepted(aws: AwsFakes) -> None:
    aws.set_secret("nomi-gateway/stripe", f"{STRIPE_NEXT_SECRET},{STRIPE_SECRET}")
    assert invoke(stripe_event(STRIPE_EVT, secrets=[STRIPE_SECRET]))["statusCode"] == 200


@pytest.mark.parametrize("missing", ["id", "type"])
def test_stripe_event_without_id_or_type_answers_400(aws: AwsFakes, missing: str) -> None:
    event = {k: v for k, v in STRIPE_EVT.items() if k != missing}
    answer = invoke(stripe_event(event))
    assert answer["statusCode"] == 400
    assert "id" in answer_json(answer)["error"]


def test_stripe_unhandled_type_answers_200_nothing_queued(aws: AwsFakes) -> None:
    answer = invoke(stripe_event({**STRIPE_EVT, "type": "payment_intent.created"}))
    assert (answer["statusCode"], answer_json(answer)["status"]) == (200, "ignored")
    assert aws.messages() == []


def test_stripe_uppercase_signature_header_name_accepted(aws: AwsFakes) -> None:
    event = stripe_event(STRIPE_EVT)
    event["headers"] = {"Stripe-Signature": event["headers"]["stripe-signature"]}
    assert invoke(event)["statusCode"] == 200


# --- queue failures and the claim check ------------------------------------------------------------------


def test_sqs_failure_answers_503_and_reports_nothing_queued(
    aws: AwsFakes, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(**_: Any) -> None:
        raise EndpointConnectionError(endpoint_url="https://sqs.us-east-1.amazonaws.com")

    monkeypatch.setattr(enqueue.get_sqs_client(), "send_message", refuse)
    answer = invoke(shopify_event(ORDER))
    assert answer["statusCode"] == 503
    assert answer_json(answer)["status"] == "error"


def test_missing_queue_answers_503(aws: AwsFakes) -> None:
    aws.sqs.delete_queue(QueueUrl=aws.queue_url)
    assert invoke(stripe_event(STRIPE_EVT))["statusCode"] == 503


def test_s3_failure_on_claim_check_answers_503_nothing_queued(
    aws: AwsFakes, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "x"}}, "PutObject")

    monkeypatch.setattr(enqueue.get_s3_client(), "put_object", refuse)
    big = {**ORDER, "line_items": [{"title": "x" * 1000, "n": i} for i in range(1200)]}
    assert invoke(shopify_event(big))["statusCode"] == 503
    assert aws.messages() == []


def test_oversized_payload_claim_checked_in_s3_round_trip(aws: AwsFakes) -> None:
    big = {**ORDER, "line_items": [{"title": "x" * 1000, "n": i} for i in range(1200)]}
    body = json.dumps(big).encode()
    assert len(body) > 1_048_576
    answer = invoke(shopify_event(body, webhook_id="wh/big 1"))
    assert answer["statusCode"] == 200
    [message] = aws.messages()
    envelope = parse_queue_message(message["Body"])
    assert envelope.payload is None
    assert envelope.payload_ref is not None
    ref = envelope.payload_ref
    stored = aws.s3.get_object(Bucket=ref.bucket, Key=ref.key)["Body"].read()
    assert stored == body
    assert (ref.size, ref.sha256) == (len(body), hashlib.sha256(body).hexdigest())
    assert ref.key.startswith("shopify/")
    assert ref.key.endswith("/wh%2Fbig%201.json")
    attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
    assert attributes == {"source": "shopify", "topic": "orders/paid", "event_id": "wh/big 1"}


def test_payload_just_under_limit_sent_inline(aws: AwsFakes) -> None:
    body = json.dumps({**ORDER, "pad": "x" * 900_000}).encode()
    assert invoke(shopify_event(body))["statusCode"] == 200
    assert queued(aws)[0].payload_ref is None


# --- signup -------------------------------------------------------------------------------------------


def test_signup_json_accepted_202_with_reference_queued(aws: AwsFakes) -> None:
    answer = invoke(signup_event(SIGNUP))
    assert answer["statusCode"] == 202
    reference = answer_json(answer)["reference"]
    [envelope] = queued(aws)
    assert (envelope.source, envelope.topic, envelope.event_id) == ("signup", "signup", reference)
    payload = SignupPayload.model_validate(envelope.payload)
    assert (payload.phone, payload.ip_address, payload.user_agent) == (
        "+14155552671",
        "198.51.100.7",
        "Mozilla/5.0 (test)",
    )
    assert payload.submitted_at == envelope.received_at


def test_signup_logs_no_personal_data(aws: AwsFakes, capsys: pytest.CaptureFixture[str]) -> None:
    invoke(signup_event(SIGNUP))
    invoke(signup_event({**SIGNUP, "website": "spam"}))
    invoke(signup_event({**SIGNUP, "phone": "12"}))
    logged = capsys.readouterr().out  # every log line and metric document
    assert [line["message"] for line in map(json.loads, logged.splitlines()) if "message" in line]
    for personal in ("2671", "ada@example.com", "198.51.100.7"):
        assert personal not in logged


def test_signup_form_urlencoded_base64_checkbox_on_accepted(aws: AwsFakes) -> None:
    fields = {
        "phone": "415-555-0199",
        "sms_consent": "on",
        "consent_text": CONSENT,
        "tags": "a,b",
        "custom[x]": "1",
    }
    assert invoke(signup_event(fields, form=True, base64_body=True))["statusCode"] == 202
    payload = SignupPayload.model_validate(queued(aws)[0].payload)
    assert (payload.sms_consent, payload.tags, payload.custom_fields) == (True, ["a", "b"], {"x": "1"})


def test_signup_validation_errors_400_per_field_nothing_queued(aws: AwsFakes) -> None:
    answer = invoke(signup_event({"phone": "12", "email": "nope"}))
    assert answer["statusCode"] == 400
    assert {e["field"] for e in answer_json(answer)["errors"]} == {"phone", "email"}
    assert aws.messages() == []


def test_signup_errors_carry_cors_headers_for_allowed_origin(aws: AwsFakes) -> None:
    answer = invoke(signup_event({"phone": "12"}))
    assert answer["headers"]["access-control-allow-origin"] == "https://shop.example.com"


def test_signup_unconfigured_consent_text_answers_400_naming_consent_text(aws: AwsFakes) -> None:
    answer = invoke(signup_event({**SIGNUP, "consent_text": "ok"}))
    assert (answer["statusCode"], [e["field"] for e in answer_json(answer)["errors"]]) == (
        400,
        ["consent_text"],
    )
    assert aws.messages() == []


def test_signup_email_only_answers_400_naming_phone(aws: AwsFakes) -> None:
    answer = invoke(signup_event({"email": "ada@example.com", "email_consent": True}))
    assert (answer["statusCode"], [e["field"] for e in answer_json(answer)["errors"]]) == (400, ["phone"])
    assert aws.messages() == []


def test_signup_each_channel_own_consent_text_queued(aws: AwsFakes) -> None:
    fields = {
        **SIGNUP,
        "email_consent": True,
        "email_consent_text": "Email me news.",
        "page_url": "https://shop.example.com/join",
    }
    assert invoke(signup_event(fields))["statusCode"] == 202
    payload = SignupPayload.model_validate(queued(aws)[0].payload)
    assert (payload.consent_text, payload.email_consent_text, payload.page_url) == (
        CONSENT,
        "Email me news.",
        "https://shop.example.com/join",
    )


def test_signup_envelope_carries_raw_body_sha256(aws: AwsFakes) -> None:
    event = signup_event(SIGNUP)
    invoke(event)
    assert queued(aws)[0].body_sha256 == hashlib.sha256(event["body"].encode()).hexdigest()


def test_signup_honeypot_answers_202_queues_nothing(aws: AwsFakes) -> None:
    answer = invoke(signup_event({**SIGNUP, "website": "http://spam.example"}))
    assert (answer["statusCode"], len(answer_json(answer)["reference"])) == (202, 16)
    assert aws.messages() == []


def test_signup_disallowed_origin_answers_403(aws: AwsFakes) -> None:
    answer = invoke(signup_event(SIGNUP, origin="https://evil.example.net"))
    assert answer["statusCode"] == 403
    assert "access-control-allow-origin" not in answer["headers"]
    assert aws.messages() == []


def test_signup_wildcard_allowlist_accepts_any_origin(aws: AwsFakes, env: pytest.MonkeyPatch) -> None:
    env.setenv("SIGNUP_ALLOWED_ORIGINS", "*")
    app.get_config.cache_clear()
    assert invoke(signup_event(SIGNUP, origin="https://anything.example"))["statusCode"] == 202


def test_signup_without_origin_answers_403_queues_nothing(aws: AwsFakes) -> None:
    answer = invoke(signup_event(SIGNUP, origin=None))
    assert (answer["statusCode"], answer_json(answer)["error"]) == (403, "Origin header required")
    assert aws.messages() == []


def test_signup_body_over_limit_answers_413(aws: AwsFakes) -> None:
    answer = invoke(signup_event({**SIGNUP, "pad": "x" * 17_000}))
    assert (answer["statusCode"], answer_json(answer)["max_bytes"]) == (413, 16_384)
    assert aws.messages() == []


def test_signup_base64_body_over_limit_answers_413(aws: AwsFakes) -> None:
    answer = invoke(signup_event({**SIGNUP, "pad": "x" * 17_000}, base64_body=True))
    assert answer["statusCode"] == 413


def test_signup_unsupported_media_type_answers_415(aws: AwsFakes) -> None:
    answer = invoke(signup_event("--x--", content_type="multipart/form-data; boundary=x"))
    assert answer["statusCode"] == 415


def test_signup_preflight_allowed_origin_answers_204_with_cors(aws: AwsFakes) -> None:
    event = http_event("/signup", None, {"origin": "https://www.example.com"}, method="OPTIONS")
    answer = invoke(event)
    assert answer["statusCode"] == 204
    assert answer["headers"]["access-control-allow-methods"] == "POST, OPTIONS"


def test_signup_preflight_disallowed_origin_answers_403(aws: AwsFakes) -> None:
    event = http_event("/signup", None, {"origin": "https://evil.example.net"}, method="OPTIONS")
    assert invoke(event)["statusCode"] == 403


def test_signup_sqs_failure_answers_503_with_cors(aws: AwsFakes) -> None:
    aws.sqs.delete_queue(QueueUrl=aws.queue_url)
    answer = invoke(signup_event(SIGNUP))
    assert answer["statusCode"] == 503
    assert answer["headers"]["access-control-allow-origin"] == "https://shop.example.com"


# --- routing --------------------------------------------------------------------------------------------


def test_unknown_route_answers_404(aws: AwsFakes) -> None:
    assert invoke(http_event("/webhooks/paypal", "{}"))["statusCode"] == 404


def test_wrong_method_answers_405_with_allow(aws: AwsFakes) -> None:
    answer = invoke(http_event("/webhooks/stripe", None, method="GET"))
    assert (answer["statusCode"], answer["headers"]["allow"]) == (405, "POST")


def test_named_stage_prefix_is_stripped(aws: AwsFakes) -> None:
    event = stripe_event(STRIPE_EVT)
    event["rawPath"] = "/prod/webhooks/stripe"
    event["requestContext"]["stage"] = "prod"
    assert invoke(event)["statusCode"] == 200


def test_answers_are_json(aws: AwsFakes) -> None:
    answer = invoke(shopify_event(ORDER, secret="bad"))
    assert answer["headers"]["content-type"] == "application/json"
    assert json.loads(answer["body"]) == {"status": "rejected", "error": "invalid signature"}


def test_shopify_signature_helper_used_by_tests_is_the_function_under_test() -> None:
    # Guard: the events and tests sign with ingest.verify; make sure it is real HMAC, not a stub.
    assert (
        shopify_signature(b"{}", "k") == "rdhTsQP7zJNqGU+esV4pxP8Ir25H1dG8pPICGOMeT/8="
    )  # openssl dgst -sha256 -hmac k -binary | base64


def test_shopify_request_id_becomes_the_logs_correlation_id(aws: AwsFakes) -> None:
    invoke(shopify_event(ORDER, webhook_id="wh-corr"))
    assert app.logger.get_correlation_id() == "test-request"


def test_request_body_plain_text_decoded_once_and_text_kept() -> None:
    from ingest.http import request_from_event

    request = request_from_event(shopify_event(ORDER))
    assert request.body() is request.body()
    assert request.body_text is not None
    assert request.body_text.encode() == request.body()


def test_request_json_text_plain_body_is_the_event_text() -> None:
    from ingest.http import request_from_event

    event = shopify_event(ORDER)
    assert request_from_event(event).json_text() is event["body"]


def test_request_json_text_base64_utf8_body_is_its_decoded_text() -> None:
    from ingest.http import request_from_event

    request = request_from_event(shopify_event(ORDER, base64_body=True))
    assert request.json_text() == json.dumps(ORDER)


def test_request_body_base64_has_no_event_text() -> None:
    from ingest.http import request_from_event

    request = request_from_event(shopify_event(ORDER, base64_body=True))
    assert (request.body_text, json.loads(request.body())) == (None, ORDER)


def test_request_header_names_not_str_or_values_not_str_made_str() -> None:
    from ingest.http import request_from_event

    event = http_event("/webhooks/shopify", b"{}", {"X-Count": 3})  # type: ignore[dict-item]
    event["headers"][7] = "seven"
    assert request_from_event(event).headers == {"x-count": "3", "7": "seven"}


def test_request_header_names_one_not_lower_case_all_looked_up_lower_case() -> None:
    from ingest.http import request_from_event

    event = http_event("/webhooks/shopify", b"{}", {"x-a": "1", "X-Shopify-Topic": "orders/paid"})
    request = request_from_event(event)
    assert (request.headers, request.header("X-A")) == ({"x-a": "1", "x-shopify-topic": "orders/paid"}, "1")


def test_shopify_queued_logs_one_line_and_one_metric_document(
    aws: AwsFakes, capsys: pytest.CaptureFixture[str]
) -> None:
    invoke(shopify_event(ORDER, webhook_id="wh-log"))
    written = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    [line] = [w for w in written if "_aws" not in w]
    [document] = [w for w in written if "_aws" in w]
    assert (line["message"], line["event_id"], line["claim_checked"]) == ("event queued", "wh-log", False)
    assert (document["route"], document["Queued"]) == ("shopify", [1.0])


def test_message_size_non_ascii_counted_in_utf8_bytes() -> None:
    attributes = {"tópic": {"DataType": "String", "StringValue": "café"}}
    assert enqueue.message_size("☕", attributes) == 3 + 6 + 6 + 5
