"""Fixtures for the ingest function: AWS on moto (in-process), test secrets, a Lambda context."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from ingest_helpers import SHOPIFY_SECRET, STRIPE_SECRET, AwsFakes
from moto import mock_aws

from ingest.config import clear_caches

BASE_ENV = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "POWERTOOLS_SERVICE_NAME": "ingest",
    "POWERTOOLS_METRICS_NAMESPACE": "NomiGatewayTest",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "SHOPIFY_SECRET_NAME": "nomi-gateway/shopify",
    "STRIPE_SECRET_NAME": "nomi-gateway/stripe",
    "STRIPE_TOLERANCE_SECONDS": "300",
    "SIGNUP_ALLOWED_ORIGINS": "https://shop.example.com, https://www.example.com",
    "SIGNUP_MAX_BODY_BYTES": "16384",
    "DEFAULT_PHONE_REGION": "US",
    # The tests' CONSENT (test_ingest_app, test_ingest_signup): an SMS opt-in must post a configured text.
    "SIGNUP_CONSENT_TEXTS": '["I agree to receive automated marketing texts. Consent is not a condition of purchase."]',
}


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """The function's environment, without queue/bucket (see `aws`); caches cleared around each test."""
    for name in (
        "SQS_MAX_MESSAGE_BYTES",
        "AWS_PROFILE",
        "SIGNUP_EMAIL_CONSENT_TEXTS",
        "SIGNUP_LIMIT_TABLE",
        "IDENTITY_HASH_SECRET_NAME",
        "SIGNUP_CAPTCHA_PROVIDER",
        "SIGNUP_CAPTCHA_SECRET_NAME",
        "SIGNUP_CAPTCHA_VERIFY_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in BASE_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("QUEUE_URL", "https://sqs.us-east-1.amazonaws.com/123456789012/unset")
    monkeypatch.setenv("PAYLOAD_BUCKET", "unset")
    clear_all_caches()
    yield monkeypatch
    clear_all_caches()


def clear_all_caches() -> None:
    """The function's caches, and Powertools' parameter providers as ingest once cleared them too: a
    provider keeps the AWS endpoint of its first use (another test's moto server), and later test
    folders (the processor's) rely on finding none."""
    from aws_lambda_powertools.utilities import parameters

    clear_caches()
    parameters.clear_caches()


@pytest.fixture
def aws(env: pytest.MonkeyPatch) -> Iterator[AwsFakes]:
    """moto SQS queue, S3 bucket and the two webhook secrets; QUEUE_URL/PAYLOAD_BUCKET point at them."""
    with mock_aws():
        fakes = AwsFakes.create(shopify_secrets=f"{SHOPIFY_SECRET}", stripe_secrets=f"{STRIPE_SECRET}")
        env.setenv("QUEUE_URL", fakes.queue_url)
        env.setenv("PAYLOAD_BUCKET", fakes.bucket)
        clear_caches()
        yield fakes
