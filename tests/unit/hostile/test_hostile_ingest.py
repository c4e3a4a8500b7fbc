"""Hostile input at the front door: every route, random and mutated requests.

Properties: never a 5xx from bad input (a 5xx means only "SQS did not take it"), never an unsigned
webhook queued, a signature made with another secret or over other bytes is a 401, a stale Stripe
timestamp is a 401, CORS never opens to an origin off the allowlist.
"""

from __future__ import annotations

import json

from hostile_fakes import (
    ALLOWED_ORIGIN,
    CONSENT_TEXT,
    NOW,
    OTHER_SECRET,
    SHOPIFY_SECRET,
    http_event,
    nested,
    shopify_hmac,
    shopify_request,
    stripe_request,
)
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

ROUTES = ("/webhooks/shopify", "/webhooks/stripe", "/signup")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD")
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

header_names = st.sampled_from(
    [
        "content-type",
        "origin",
        "x-shopify-topic",
        "x-shopify-webhook-id",
        "x-shopify-hmac-sha256",
        "x-shopify-event-id",
        "stripe-signature",
        "user-agent",
        "access-control-request-method",
    ]
) | st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=20)
header_values = st.text(max_size=200) | st.sampled_from(
    ["application/json", "application/x-www-form-urlencoded", "orders/paid", ALLOWED_ORIGIN, "t=1,v1=00"]
)
bodies = st.binary(max_size=2048) | st.builds(
    lambda d: json.dumps(d).encode(), st.dictionaries(st.text(max_size=20), st.text(max_size=50), max_size=8)
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
shopify_topics = st.sampled_from(
    ["orders/paid", "checkouts/create", "fulfillments/create", "app/uninstalled", ""]
) | st.text(max_size=40)


def _status(answer: dict) -> int:
    return int(answer["statusCode"])


@FAST
@given(
    method=st.sampled_from(METHODS),
    path=st.sampled_from(ROUTES) | st.text(max_size=40).map(lambda p: "/" + p),
    headers=st.dictionaries(header_names, header_values, max_size=8),
    body=st.none() | bodies,
    base64_body=st.booleans(),
)
def test_hostile_any_request_never_answers_5xx_nor_queues_an_unsigned_webhook(
    ingest, method, path, headers, body, base64_body
):
    if body is not None and not base64_body:
        body = body.decode("utf-8", errors="replace").encode("utf-8")
    answer = ingest(http_event(path, body, headers, method=method, base64_body=base64_body))
    assert _status(answer) < 500
    if path.startswith("/webhooks/"):
        assert ingest.sqs.sent == []


@FAST
@given(
    body=bodies,
    topic=shopify_topics,
    secret=st.text(min_size=1, max_size=40).filter(lambda s: s != SHOPIFY_SECRET),
)
@example(body=b'{"id": 1}', topic="orders/paid", secret=OTHER_SECRET)
def test_hostile_shopify_signed_with_another_secret_is_401_and_queues_nothing(ingest, body, topic, secret):
    answer = ingest(shopify_request(body, secret=secret, topic=topic))
    assert (_status(answer), ingest.sqs.sent) == (401, [])


@FAST
@given(body=st.binary(min_size=1, max_size=1024), data=st.data())
def test_hostile_shopify_body_changed_after_signing_is_401(ingest, body, data):
    event = shopify_request(body)
    cut = data.draw(st.integers(min_value=0, max_value=len(body) - 1))
    mutated = data.draw(
        st.sampled_from([body[:cut], body + b" ", body[:cut] + bytes([body[cut] ^ 0x01]) + body[cut + 1 :]])
    )
    forged = shopify_request(mutated)
    forged["headers"]["x-shopify-hmac-sha256"] = event["headers"]["x-shopify-hmac-sha256"]
    assert (_status(ingest(forged)), ingest.sqs.sent) == (401, [])


@FAST
@given(
    body=st.binary(max_size=2048) | st.builds(lambda v: json.dumps(v).encode(), json_values),
    topic=shopify_topics,
)
@example(body=nested(50_000), topic="orders/paid")
@example(body=b"\xff\xfe{not utf-8", topic="orders/paid")
@example(body=b'{"id": 1', topic="orders/paid")
def test_hostile_shopify_correctly_signed_garbage_is_never_a_5xx(ingest, body, topic):
    answer = ingest(shopify_request(body, topic=topic))
    assert _status(answer) in (200, 400)
    for message in ingest.sqs.envelopes():
        assert message["payload"] == json.loads(body)


@FAST
@given(age=st.integers(min_value=301, max_value=NOW))
def test_hostile_stripe_stale_timestamp_is_401(ingest, age):
    # Stripe's own libraries refuse signatures older than the tolerance (replays); so does ingest.
    body = json.dumps({"id": "evt_1", "type": "customer.created", "data": {"object": {}}}).encode()
    answer = ingest(stripe_request(body, timestamp=NOW - age))
    assert (_status(answer), ingest.sqs.sent) == (401, [])


@FAST
@given(body=bodies, secret=st.text(min_size=1, max_size=40).filter(lambda s: s != "whsec_hostile_secret"))
def test_hostile_stripe_signed_with_another_secret_is_401(ingest, body, secret):
    assert (_status(ingest(stripe_request(body, secret=secret))), ingest.sqs.sent) == (401, [])


@FAST
@given(header=st.text(max_size=300))
@example(header="t=1795420800")
@example(header="t=1795420800,v1=")
@example(header="t=abc,v1=" + "0" * 64)
def test_hostile_stripe_garbage_signature_header_is_401(ingest, header):
    event = http_event(
        "/webhooks/stripe", b'{"id":"evt_1","type":"customer.created"}', {"stripe-signature": header}
    )
    assert (_status(ingest(event)), ingest.sqs.sent) == (401, [])


@FAST
@given(body=st.binary(max_size=2048) | st.builds(lambda v: json.dumps(v).encode(), json_values))
@example(body=nested(50_000))
@example(body=b'{"id": "evt_1", "type": ["not", "a", "string"]}')
def test_hostile_stripe_correctly_signed_garbage_is_never_a_5xx(ingest, body):
    assert _status(ingest(stripe_request(body))) in (200, 400)


signup_fields = st.dictionaries(
    st.sampled_from(["consent_text", "email_consent_text"]),
    st.just(CONSENT_TEXT) | st.text(max_size=40),
    max_size=2,
).flatmap(
    lambda texts: st.dictionaries(
        st.sampled_from(
            [
                "phone",
                "email",
                "first_name",
                "last_name",
                "sms_consent",
                "email_consent",
                "consent_text",
                "tags",
                "custom",
                "website",
            ]
        )
        | st.text(max_size=15),
        json_values,
        max_size=10,
    ).map(lambda fields: {**fields, **texts})
)


@FAST
@given(
    fields=signup_fields,
    origin=st.none() | st.just(ALLOWED_ORIGIN) | st.text(max_size=60),
    as_form=st.booleans(),
)
@example(
    fields={"phone": "+14155550100", "sms_consent": True, "custom": nested(3000).decode()},
    origin=ALLOWED_ORIGIN,
    as_form=False,
)
@example(
    fields={"phone": "+14155550100", "sms_consent": True, "consent_text": CONSENT_TEXT},
    origin=ALLOWED_ORIGIN,
    as_form=True,
)
@example(
    fields={"phone": "+14155550100", "sms_consent": True, "consent_text": "ok"},
    origin=ALLOWED_ORIGIN,
    as_form=False,
)
@example(
    fields={"phone": "+14155550100", "sms_consent": True, "consent_text": CONSENT_TEXT},
    origin=None,
    as_form=False,
)
def test_hostile_signup_random_fields_are_never_a_5xx_and_only_a_valid_phone_is_queued(
    ingest, fields, origin, as_form
):
    from urllib.parse import urlencode

    if as_form:
        body = urlencode(
            {k: json.dumps(v) if not isinstance(v, str) else v for k, v in fields.items()}
        ).encode()
        content_type = "application/x-www-form-urlencoded"
    else:
        body, content_type = json.dumps(fields).encode(), "application/json"
    headers = {"content-type": content_type, **({"origin": origin} if origin is not None else {})}
    answer = ingest(http_event("/signup", body, headers))
    assert _status(answer) in (202, 400, 403, 413, 415)
    for message in ingest.sqs.envelopes():
        assert origin == ALLOWED_ORIGIN  # no Origin, or another one: nothing is queued
        assert message["payload"]["phone"].startswith("+")
        if message["payload"].get("sms_consent"):
            # An SMS opt-in is queued only with the words the merchant's forms show.
            assert message["payload"]["consent_text"] == CONSENT_TEXT


@FAST
@given(origin=st.text(max_size=80).filter(lambda o: o.strip().rstrip("/").lower() != ALLOWED_ORIGIN))
def test_hostile_signup_from_an_origin_off_the_allowlist_gets_no_cors_grant(ingest, origin):
    body = json.dumps({"phone": "+14155550100", "sms_consent": True, "consent_text": CONSENT_TEXT}).encode()
    answer = ingest(http_event("/signup", body, {"content-type": "application/json", "origin": origin}))
    headers = {k.lower(): v for k, v in (answer.get("headers") or {}).items()}
    assert headers.get("access-control-allow-origin") in (None, ALLOWED_ORIGIN)
    assert ingest.sqs.sent == []


@FAST
@given(origin=st.text(max_size=80), method=st.text(max_size=10))
def test_hostile_cors_preflight_grants_only_the_allowlisted_origin(ingest, origin, method):
    headers = {"origin": origin, "access-control-request-method": method}
    answer = ingest(http_event("/signup", None, headers, method="OPTIONS"))
    granted = {k.lower(): v for k, v in (answer.get("headers") or {}).items()}.get(
        "access-control-allow-origin"
    )
    allowed = origin.strip().rstrip("/").lower() == ALLOWED_ORIGIN
    assert _status(answer) == (204 if allowed else 403)
    assert granted in ((ALLOWED_ORIGIN, origin.strip()) if allowed else (None,))


def test_hostile_signup_body_over_the_limit_is_413(ingest):
    body = json.dumps({"phone": "+14155550100", "first_name": "x" * 20_000}).encode()
    answer = ingest(
        http_event("/signup", body, {"content-type": "application/json", "origin": ALLOWED_ORIGIN})
    )
    assert (_status(answer), ingest.sqs.sent) == (413, [])


def test_hostile_deeply_nested_json_is_400_on_every_route(ingest):
    body = nested(50_000)
    shopify = ingest(shopify_request(body))
    stripe = ingest(stripe_request(body))
    signup = ingest(
        http_event("/signup", nested(5_000), {"content-type": "application/json", "origin": ALLOWED_ORIGIN})
    )
    assert [_status(shopify), _status(stripe), _status(signup)] == [400, 400, 400]


def test_hostile_invalid_base64_body_is_400(ingest):
    event = http_event("/webhooks/shopify", None, {"x-shopify-hmac-sha256": shopify_hmac(b"")})
    event.update(body="!!!not base64!!!", isBase64Encoded=True)
    assert _status(ingest(event)) == 400


def test_hostile_replayed_shopify_delivery_is_queued_again_under_the_same_id(ingest):
    body = json.dumps({"id": 1, "name": "#1"}).encode()
    first = ingest(shopify_request(body))
    first_ids = [m["event_id"] for m in ingest.sqs.envelopes()]
    second = ingest(shopify_request(body))
    assert (_status(first), _status(second)) == (200, 200)
    assert first_ids == [m["event_id"] for m in ingest.sqs.envelopes()] == ["wh-hostile-1"]


def test_hostile_oversized_signed_webhook_is_claim_checked_not_refused(ingest):
    body = json.dumps({"id": 1, "note": "x" * 1_200_000}).encode()
    answer = ingest(shopify_request(body))
    (envelope,) = ingest.sqs.envelopes()
    assert (_status(answer), envelope.get("payload"), len(ingest.s3.objects)) == (200, None, 1)
    assert envelope["payload_ref"]["size"] == len(body)


def test_hostile_sqs_failure_is_the_only_5xx(ingest):
    ingest.sqs.fail = True
    try:
        answer = ingest(shopify_request(json.dumps({"id": 1}).encode()))
    finally:
        ingest.sqs.fail = False
    assert _status(answer) == 503
