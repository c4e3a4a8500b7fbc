"""`nomi-gateway consent show`: one person's receipts from the local stack's bucket (moto)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from cli.main import main
from processor.receipts import ConsentReceipt, ReceiptStore

KEY = "k" * 48
AT = datetime(2026, 11, 23, 12, tzinfo=UTC)


def _receipt(phone: str, text: str) -> ConsentReceipt:
    return ConsentReceipt(
        channel="sms",
        status="subscribed",
        consent_source="webform",
        gateway_source="signup",
        event_id=f"ref-{phone[-4:]}",
        phone=phone,
        consent_text=text,
        page_url="https://shop.example.com/join",
        consented_at=AT,
        recorded_at=AT,
    )


@pytest.fixture
def local_stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="receipts")
        arn = boto3.client("secretsmanager", region_name="us-east-1").create_secret(
            Name="identity", SecretString=KEY
        )["ARN"]
        (tmp_path / ".local-stack").mkdir()
        info = {
            "buckets": {"ConsentReceiptsBucket": "receipts"},
            "secrets": {"IdentityHashKey": arn},
            "aws_endpoint_url": None,
        }
        (tmp_path / ".local-stack" / "stack.json").write_text(json.dumps(info))
        monkeypatch.chdir(tmp_path)
        yield ReceiptStore("receipts", key=lambda: KEY.encode(), s3=s3)


def test_consent_show_phone_prints_that_persons_receipts_only(local_stack, capsys) -> None:
    local_stack.write(_receipt("+14155552671", "Text me offers."))
    local_stack.write(_receipt("+14155550199", "Someone else's."))
    assert main(["consent", "show", "--local", "--phone", "(415) 555-2671"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line)["consent_text"] for line in lines] == ["Text me offers."]


def test_consent_show_invalid_phone_exits_2(local_stack, capsys) -> None:
    assert main(["consent", "show", "--local", "--phone", "12"]) == 2
    assert "not a valid phone number" in capsys.readouterr().err
