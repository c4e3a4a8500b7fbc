"""Shopify and Stripe signature checks, Stripe's cross-checked against the official `stripe` package."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import pytest
import stripe
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.verify import (
    SignatureVerificationError,
    shopify_signature,
    stripe_signature_header,
    verify_shopify,
    verify_stripe,
)

BODY = b'{"id":"evt_1","object":"event","type":"customer.created"}'
SECRET = "whsec_test_secret"
T = 1795420800


def stripe_test_header(
    payload: bytes, secret: str = SECRET, timestamp: int = T, scheme: str = "v1", signature: str | None = None
) -> str:
    """A header made as stripe-python's own tests make one (their `generate_header`)."""
    payload_to_sign = f"{timestamp}.{payload.decode('utf-8')}"
    if signature is None:
        signature = stripe.WebhookSignature._compute_signature(payload_to_sign, secret)
    return f"t={timestamp},{scheme}={signature}"


# --- Shopify ---------------------------------------------------------------------------------------


def test_shopify_signature_matches_base64_hmac_sha256() -> None:
    expected = base64.b64encode(hmac.new(b"shpss_test_secret", BODY, hashlib.sha256).digest()).decode()
    assert shopify_signature(BODY, "shpss_test_secret") == expected


def test_verify_shopify_valid_signature_passes() -> None:
    verify_shopify(BODY, shopify_signature(BODY, "s1"), ["s1"])


def test_verify_shopify_second_secret_accepted_during_rotation() -> None:
    verify_shopify(BODY, shopify_signature(BODY, "old"), ["new", "old"])


def test_verify_shopify_tampered_body_raises() -> None:
    with pytest.raises(SignatureVerificationError):
        verify_shopify(BODY + b" ", shopify_signature(BODY, "s1"), ["s1"])


def test_verify_shopify_missing_header_raises() -> None:
    with pytest.raises(SignatureVerificationError, match="missing"):
        verify_shopify(BODY, None, ["s1"])


def test_verify_shopify_non_ascii_header_raises_typed_error() -> None:
    with pytest.raises(SignatureVerificationError):
        verify_shopify(BODY, "é" * 44, ["s1"])


def test_verify_shopify_no_secret_configured_raises() -> None:
    with pytest.raises(SignatureVerificationError, match="no Shopify secret"):
        verify_shopify(BODY, shopify_signature(BODY, "s1"), [])


# --- Stripe: our verifier accepts what Stripe's helpers sign -----------------------------------------


def test_verify_stripe_accepts_header_from_stripe_test_helper() -> None:
    assert verify_stripe(BODY, stripe_test_header(BODY), [SECRET], tolerance=300, now=T + 10) == T


def test_verify_stripe_accepts_stripe_generate_signature_header() -> None:
    header = stripe.WebhookSignature.generate_signature_header(BODY.decode(), SECRET, timestamp=T)
    verify_stripe(BODY, header, [SECRET], tolerance=300, now=T)


def test_stripe_construct_event_accepts_our_header() -> None:
    header = stripe_signature_header(BODY, [SECRET], int(time.time()))
    event = stripe.Webhook.construct_event(BODY, header, SECRET)
    assert event["id"] == "evt_1"


def test_stripe_verify_header_accepts_each_v1_of_our_rolling_header() -> None:
    header = stripe_signature_header(BODY, ["whsec_new", SECRET], int(time.time()))
    assert stripe.WebhookSignature.verify_header(BODY, header, "whsec_new")
    assert stripe.WebhookSignature.verify_header(BODY, header, SECRET)


def test_verify_stripe_several_v1_one_matching_passes() -> None:
    header = f"{stripe_test_header(BODY)},v1={'0' * 64}"
    verify_stripe(BODY, header, [SECRET], tolerance=300, now=T)


def test_verify_stripe_second_secret_accepted_during_rotation() -> None:
    verify_stripe(BODY, stripe_test_header(BODY), ["whsec_newer", SECRET], tolerance=300, now=T)


def test_verify_stripe_v0_only_is_refused() -> None:
    header = stripe_test_header(BODY, scheme="v0")
    with pytest.raises(SignatureVerificationError, match="no v1"):
        verify_stripe(BODY, header, [SECRET], tolerance=300, now=T)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(BODY, header, SECRET, tolerance=None)


def test_verify_stripe_v0_alongside_valid_v1_is_ignored() -> None:
    header = f"{stripe_test_header(BODY)},v0={'f' * 64}"
    verify_stripe(BODY, header, [SECRET], tolerance=300, now=T)


def test_verify_stripe_wrong_secret_raises() -> None:
    with pytest.raises(SignatureVerificationError, match="matches no"):
        verify_stripe(BODY, stripe_test_header(BODY, secret="whsec_other"), [SECRET], tolerance=300, now=T)


def test_verify_stripe_timestamp_older_than_tolerance_raises() -> None:
    with pytest.raises(SignatureVerificationError, match="older than 300"):
        verify_stripe(BODY, stripe_test_header(BODY), [SECRET], tolerance=300, now=T + 301)


def test_verify_stripe_timestamp_at_tolerance_edge_passes() -> None:
    verify_stripe(BODY, stripe_test_header(BODY), [SECRET], tolerance=300, now=T + 300)


@pytest.mark.parametrize("tolerance", [0, -1])
def test_verify_stripe_non_positive_tolerance_raises_value_error(tolerance: int) -> None:
    with pytest.raises(ValueError, match="positive"):
        verify_stripe(BODY, stripe_test_header(BODY), [SECRET], tolerance=tolerance, now=T)


@pytest.mark.parametrize(
    "header",
    [None, "", "garbage", "t=notanumber,v1=abc", "v1=abc", f"t={T}"],
)
def test_verify_stripe_malformed_header_raises_typed_error(header: str | None) -> None:
    with pytest.raises(SignatureVerificationError):
        verify_stripe(BODY, header, [SECRET], tolerance=300, now=T)


def test_verify_stripe_tampered_body_raises() -> None:
    with pytest.raises(SignatureVerificationError):
        verify_stripe(
            BODY.replace(b"evt_1", b"evt_2"), stripe_test_header(BODY), [SECRET], tolerance=300, now=T
        )


@settings(max_examples=60, deadline=None)
@given(
    body=st.text(max_size=200).map(lambda s: s.encode("utf-8")),
    secret=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=40),
    signer=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=40),
)
def test_verify_stripe_agrees_with_stripe_package(body: bytes, secret: str, signer: str) -> None:
    header = stripe_test_header(body, secret=signer)
    try:
        stripe.WebhookSignature.verify_header(body, header, secret, tolerance=None)
        stripe_says = True
    except stripe.SignatureVerificationError:
        stripe_says = False
    try:
        verify_stripe(body, header, [secret], tolerance=300, now=T)
        we_say = True
    except SignatureVerificationError:
        we_say = False
    assert we_say == stripe_says
