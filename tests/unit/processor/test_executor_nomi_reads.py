"""NOMI reads the executor leaves out when an earlier answer already holds what they would say."""

from __future__ import annotations

from typing import Any

from processor_fakes import NOW, FakeNomi, as_record, canonical_body, make_worker, person

from processor.checkpoints import InMemoryCheckpoints

PHONE = "+15555550100"


def _handle(worker: Any, event: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    return worker.handle(as_record(canonical_body(event), **kwargs))


def _transactional(event_id: str = "t-1", **who: Any) -> dict[str, Any]:
    return {
        "type": "message.transactional",
        "event_id": event_id,
        "occurred_at": NOW.isoformat(),
        "person": person(**who),
        "message": "Hi [first_name], your appointment is confirmed.",
    }


def _existing(nomi: FakeNomi, status: str | None) -> None:
    nomi.contacts[PHONE] = {
        "contact_id": 1,
        "phone": PHONE,
        "custom_variables": {},
        "tags": [],
        "sms_status": status,
        "unsubscribed_at": None,
    }


def test_transactional_existing_contact_lookup_status_answers_gate_in_two_calls() -> None:
    nomi = FakeNomi()
    _existing(nomi, status=None)
    _handle(make_worker(nomi), _transactional())
    assert (nomi.calls, len(nomi.messages)) == (["find_contact", "send_message"], 1)


def test_transactional_unknown_phone_looked_up_then_sent_by_phone() -> None:
    nomi = FakeNomi()
    _handle(make_worker(nomi), _transactional())
    assert (nomi.calls, len(nomi.messages)) == (["find_contact", "send_message"], 1)


def test_transactional_unsubscribed_contact_asks_consent_status_and_gets_no_sms() -> None:
    nomi = FakeNomi()
    _existing(nomi, status="unsubscribed")
    result = _handle(make_worker(nomi), _transactional())
    assert nomi.messages == []
    assert nomi.calls == ["find_contact", "get_consent_status"]
    assert result["events"][0]["skips"][0]["reason"] == "no_transactional_consent"


def test_transactional_with_email_still_upserts_the_contact_first() -> None:
    nomi = FakeNomi()
    _handle(make_worker(nomi), _transactional(email="ada@example.com"))
    assert nomi.calls[0] == "create_contact"
    assert nomi.contacts[PHONE]["email"] == "ada@example.com"


def test_transactional_duplicate_delivery_makes_no_nomi_call() -> None:
    nomi, store = FakeNomi(), InMemoryCheckpoints()
    worker = make_worker(nomi, checkpoints=store)
    _handle(worker, _transactional(), message_id="m-1")
    calls_after_first = len(nomi.calls)
    _handle(worker, _transactional(), message_id="m-2")
    assert (len(nomi.calls), len(nomi.messages)) == (calls_after_first, 1)
