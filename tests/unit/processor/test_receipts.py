"""Consent receipts: written once to a versioned S3 bucket (moto) right after NOMI accepted an opt-in,
keyed by pseudonym, retrievable per person, deleted (every version) by a redact."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from processor_fakes import NOW, FakeNomi, as_record, envelope_body, make_worker

from gateway_events.identity import pseudonym
from processor.errors import TransientEventError
from processor.receipts import ConsentReceipt, ReceiptStore

KEY = b"k" * 48
BUCKET = "receipts"
SMS_TEXT = "Text me Acme offers. Consent is not a condition of purchase. Reply STOP to cancel."
EMAIL_TEXT = "Email me Acme news."
RAW = b'{"phone":"(415) 555-2671"}'


def _signup(reference: str = "ref-1", **overrides: Any) -> dict[str, Any]:
    return {
        "reference": reference,
        "phone": "+14155552671",
        "email": "Ada@Example.com",
        "sms_consent": True,
        "email_consent": True,
        "consent_text": SMS_TEXT,
        "email_consent_text": EMAIL_TEXT,
        "ip_address": "198.51.100.7",
        "user_agent": "Mozilla/5.0 (test)",
        "page_url": "https://shop.example.com/pages/join",
        "submitted_at": NOW.isoformat(),
        **overrides,
    }


def _record(
    payload: dict[str, Any], *, event_id: str = "ref-1", source: str = "signup", topic: str = "signup"
):
    body = json.loads(envelope_body(source, topic, payload, event_id=event_id))
    body["body_sha256"] = hashlib.sha256(RAW).hexdigest()
    return as_record(json.dumps(body))


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        yield client


@pytest.fixture
def store(s3: Any) -> ReceiptStore:
    return ReceiptStore(BUCKET, key=lambda: KEY, s3=s3)


def _worker(nomi: FakeNomi, store: ReceiptStore) -> Any:
    worker = make_worker(nomi)
    worker.deps.receipts = store
    return worker


def test_receipts_signup_opt_ins_each_written_with_their_evidence(store: ReceiptStore) -> None:
    _worker(FakeNomi(), store).handle(_record(_signup()))
    [sms] = store.find("phone", "+14155552671")
    [email] = store.find("email", "ada@example.com")
    assert (sms.channel, sms.consent_text, email.channel, email.consent_text) == (
        "sms",
        SMS_TEXT,
        "email",
        EMAIL_TEXT,
    )
    assert (sms.page_url, sms.ip_address, sms.user_agent) == (
        "https://shop.example.com/pages/join",
        "198.51.100.7",
        "Mozilla/5.0 (test)",
    )
    assert (sms.consented_at, sms.gateway_source, sms.consent_source) == (NOW, "signup", "webform")
    assert sms.raw_request_sha256 == hashlib.sha256(RAW).hexdigest()


def test_receipts_existing_contact_opt_in_via_consent_endpoint_written(store: ReceiptStore) -> None:
    nomi = FakeNomi()
    worker = _worker(nomi, store)
    worker.handle(_record(_signup(sms_consent=False, email_consent=False), event_id="first"))
    worker.handle(_record(_signup("ref-2"), event_id="ref-2"))
    assert nomi.count("record_consent") == 2
    assert [r.event_id for r in store.find("phone", "+14155552671")] == ["ref-2"]


def test_receipts_keys_name_no_phone_or_email(store: ReceiptStore, s3: Any) -> None:
    _worker(FakeNomi(), store).handle(_record(_signup()))
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert len(keys) == 2
    assert not any("4155552671" in k or "example.com" in k.lower() for k in keys)
    assert {k.split("/")[1] for k in keys} == {
        pseudonym("phone", "+14155552671", key=KEY),
        pseudonym("email", "ada@example.com", key=KEY),
    }


def test_receipts_no_opt_in_writes_none(store: ReceiptStore, s3: Any) -> None:
    _worker(FakeNomi(), store).handle(_record(_signup(sms_consent=False, email_consent=False)))
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET)


def test_receipts_cooling_off_refusal_writes_none(store: ReceiptStore, s3: Any) -> None:
    nomi = FakeNomi()
    worker = _worker(nomi, store)
    worker.handle(_record(_signup(sms_consent=False, email_consent=False), event_id="first"))
    nomi.cooling_off_hours = 47
    worker.handle(_record(_signup("ref-2", email_consent=False), event_id="ref-2"))
    assert store.find("phone", "+14155552671") == []


def test_receipts_second_write_keeps_the_first_copy(store: ReceiptStore, s3: Any) -> None:
    receipt = ConsentReceipt(
        channel="sms",
        status="subscribed",
        consent_source="webform",
        gateway_source="signup",
        event_id="ref-1",
        phone="+14155552671",
        consent_text=SMS_TEXT,
        consented_at=NOW,
        recorded_at=NOW,
    )
    key = store.write(receipt)
    store.write(receipt.model_copy(update={"consent_text": "tampered"}))
    assert len(s3.list_object_versions(Bucket=BUCKET)["Versions"]) == 1
    assert store.find("phone", "+14155552671")[0].consent_text == SMS_TEXT
    assert key is not None


def test_receipts_write_failure_retries_the_event_then_writes(store: ReceiptStore, s3: Any) -> None:
    broken = ReceiptStore("no-such-bucket", key=lambda: KEY, s3=s3)
    nomi = FakeNomi()
    worker = _worker(nomi, broken)
    with pytest.raises(TransientEventError):
        worker.handle(_record(_signup(email_consent=False)))
    worker.deps.receipts = store
    worker.handle(_record(_signup(email_consent=False)))
    assert len(store.find("phone", "+14155552671")) == 1


def test_receipts_redact_deletes_every_version_of_that_persons_receipts(store: ReceiptStore, s3: Any) -> None:
    worker = _worker(FakeNomi(), store)
    worker.handle(_record(_signup()))
    worker.handle(
        _record(_signup("ref-9", phone="+14155550199", email="other@example.com"), event_id="ref-9")
    )
    redact = {"customer": {"id": 7, "phone": "+14155552671", "email": "ada@example.com"}}
    worker.handle(_record(redact, source="shopify", topic="customers/redact", event_id="wh-redact"))
    assert store.find("phone", "+14155552671") == []
    assert store.find("email", "ada@example.com") == []
    remaining = s3.list_object_versions(Bucket=BUCKET)
    assert len(remaining.get("Versions", [])) == 2
    assert "DeleteMarkers" not in remaining


def test_email_opt_in_words_reach_nomi_through_the_consent_endpoint(store: ReceiptStore) -> None:
    # contacts/create has no email consent text: riding on it would drop the email box's words.
    nomi = FakeNomi()
    _worker(nomi, store).handle(_record(_signup(sms_consent=False)))
    [email] = [e for e in nomi.consent_log if e["channel"] == "email"]
    assert (email["consent_text"], nomi.count("record_consent")) == (EMAIL_TEXT, 1)
