"""Where the NOMI key comes from."""

from __future__ import annotations

import boto3
from moto import mock_aws

from processor.wiring import nomi_api_key


def test_nomi_api_key_from_env_when_no_secret_name(monkeypatch):
    monkeypatch.delenv("NOMI_API_KEY_SECRET_NAME", raising=False)
    monkeypatch.setenv("NOMI_API_KEY", "env-key")
    assert nomi_api_key() == "env-key"


def test_nomi_api_key_from_secrets_manager_when_named(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("NOMI_API_KEY", "env-key")
    monkeypatch.setenv("NOMI_API_KEY_SECRET_NAME", "nomi-key")
    with mock_aws():
        boto3.client("secretsmanager").create_secret(Name="nomi-key", SecretString="secret-key\n")
        assert nomi_api_key() == "secret-key"
