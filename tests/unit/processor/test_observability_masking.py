"""Masking before logging, and where the NOMI key comes from."""

from __future__ import annotations

import boto3
from moto import mock_aws

from processor.observability import mask, mask_email, mask_text
from processor.wiring import nomi_api_key


def test_mask_text_masks_phones_and_emails_inside_keys():
    text = mask_text("consent:+15555550100:sms and ada.l@example.com")
    assert text == "consent:+1*******100:sms and a***@example.com"


def test_mask_walks_nested_outcomes():
    masked = mask({"steps": [{"key": "contact:+442079460958"}], "calls": 2})
    assert masked == {"steps": [{"key": "contact:+4********958"}], "calls": 2}


def test_mask_email_without_domain_hides_all():
    assert mask_email("nobody") == "***"


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
