"""Fixtures shared by several test folders."""

from __future__ import annotations

import pytest

FAKE_AWS_ENV = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake AWS credentials, and none of the variables the CLI reads secrets or endpoints from."""
    for name, value in FAKE_AWS_ENV.items():
        monkeypatch.setenv(name, value)
    for name in (
        "SHOPIFY_WEBHOOK_SECRETS",
        "STRIPE_WEBHOOK_SECRETS",
        "NOMI_API_KEY",
        "NOMI_API_URL",
        "AWS_ENDPOINT_URL",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def fresh_powertools_parameter_providers() -> None:
    """No test inherits another's secrets provider: Powertools keeps one per process, with the AWS
    endpoint and values of its first use (perhaps a moto server that has stopped since)."""
    from aws_lambda_powertools.utilities.parameters import base

    base.DEFAULT_PROVIDERS.clear()
