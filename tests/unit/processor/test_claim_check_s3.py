"""Claim-checked payloads: fetched from S3 (moto) and verified before anything else happens."""

from __future__ import annotations

import hashlib
import json

import boto3
import pytest
from moto import mock_aws
from processor_fakes import NOW, FakeNomi, as_record, make_worker, shipped

from processor.dlq import InMemoryDeadLetters


@pytest.fixture
def s3(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="payloads")
        yield client


def _body(payload: bytes, *, key: str = "canonical/evt-1.json", sha: str | None = None) -> str:
    ref = {
        "bucket": "payloads",
        "key": key,
        "size": len(payload),
        "sha256": sha or hashlib.sha256(payload).hexdigest(),
    }
    event = json.loads(payload)
    return json.dumps(
        {
            "source": "canonical",
            "event_id": event["event_id"],
            "topic": event["type"],
            "received_at": NOW.isoformat(),
            "payload_ref": ref,
        }
    )


def _worker(s3):
    nomi, dlq = FakeNomi(), InMemoryDeadLetters()
    worker = make_worker(nomi, dead_letters=dlq)
    worker.deps.s3 = s3
    return worker, nomi, dlq


def test_claim_check_payload_is_fetched_and_processed(s3):
    payload = json.dumps(shipped()).encode()
    s3.put_object(Bucket="payloads", Key="canonical/evt-1.json", Body=payload)
    worker, nomi, _ = _worker(s3)
    worker.handle(as_record(_body(payload)))
    assert len(nomi.messages) == 1


def test_claim_check_with_wrong_sha256_is_dead_lettered(s3):
    payload = json.dumps(shipped()).encode()
    s3.put_object(Bucket="payloads", Key="canonical/evt-1.json", Body=payload)
    worker, nomi, dlq = _worker(s3)
    worker.handle(as_record(_body(payload, sha="0" * 64)))
    assert nomi.calls == []
    assert "SHA-256" in dlq.letters[0].error_reason


def test_claim_check_missing_object_is_dead_lettered(s3):
    payload = json.dumps(shipped()).encode()
    worker, _, dlq = _worker(s3)
    worker.handle(as_record(_body(payload, key="canonical/gone.json")))
    assert "missing" in dlq.letters[0].error_reason
