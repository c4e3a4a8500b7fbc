"""Executor + record flow on fakes: calls per type, checkpoints, resume, ambiguous sends, consent order."""

from __future__ import annotations

from decimal import Decimal

import pytest
from processor_fakes import NOW, FakeNomi, as_record, canonical_body, consent, make_worker, person, shipped

from nomi_client.errors import APITimeoutError, ServerError
from processor.checkpoints import InMemoryCheckpoints
from processor.errors import TransientEventError
from processor.settings import MappingSettings


def _handle(worker, event, **kwargs):
    return worker.handle(as_record(canonical_body(event), **kwargs))


def _consent_change(event_id, status, at, channel="sms", source="webform"):
    return {
        "type": "consent.change",
        "event_id": event_id,
        "occurred_at": NOW.isoformat(),
        "person": person(),
        "channel": channel,
        "evidence": consent(status, at, source),
    }


def _paid(event_id, order_id="9"):
    return {
        "type": "order.paid",
        "event_id": event_id,
        "occurred_at": NOW.isoformat(),
        "order_id": order_id,
        "order_name": "#1042",
        "person": person(),
        "amount": "12.50",
        "currency": "USD",
        "click_id": "click-1",
    }


def _existing(nomi: FakeNomi, status: str | None = None, unsubscribed_at: str | None = None) -> None:
    nomi.contacts["+15555550100"] = {
        "contact_id": 1,
        "phone": "+15555550100",
        "custom_variables": {},
        "tags": [],
        "sms_status": status,
        "unsubscribed_at": unsubscribed_at,
    }


def test_shipped_new_contact_two_calls_and_one_sms():
    nomi = FakeNomi()
    _handle(make_worker(nomi), shipped())
    assert nomi.calls == ["create_contact", "send_message"]
    assert nomi.contacts["+15555550100"]["custom_variables"]["order_id"] == "#1042"
    assert len(nomi.messages) == 1


def test_shipped_existing_contact_checks_consent_status_before_send():
    nomi = FakeNomi()
    _existing(nomi)
    _handle(make_worker(nomi), shipped())
    assert nomi.calls == ["create_contact", "get_consent_status", "send_message"]


def test_shipped_contact_without_transactional_consent_gets_no_sms():
    nomi = FakeNomi()
    _existing(nomi, status="unsubscribed")
    result = _handle(make_worker(nomi), shipped())
    assert nomi.messages == []
    assert result["events"][0]["skips"][0]["reason"] == "no_transactional_consent"


def test_shipped_sms_skipped_for_consent_leaves_no_claim_behind():
    # The send is claimed before the consent check (the claim is its only read): a skip drops it, so
    # that another description of the parcel, once the person may receive SMS, is not kept waiting.
    nomi, store = FakeNomi(), InMemoryCheckpoints()
    _existing(nomi, status="unsubscribed")
    _handle(make_worker(nomi, checkpoints=store), shipped())
    assert "shipment:F-1:sms" not in store.steps


def test_sms_claim_that_took_over_an_ambiguous_attempt_survives_a_consent_skip():
    # Attempt 1 may have sent (timeout); the retry finds the person opted out and skips: the claim
    # stays, so that a later description of the parcel checks NOMI's log instead of sending blindly.
    nomi, store = FakeNomi(), InMemoryCheckpoints()
    worker = make_worker(nomi, checkpoints=store)
    nomi.fail_after["send_message"] = [APITimeoutError("read timeout")]
    with pytest.raises(TransientEventError):
        _handle(worker, shipped())
    nomi.contacts["+15555550100"]["sms_status"] = "unsubscribed"
    _handle(worker, shipped(), receive_count=2)
    assert store.steps["shipment:F-1:sms"].state == "attempted"


def test_duplicate_delivery_without_idempotency_record_repeats_only_the_upsert():
    # The idempotency record stops a second delivery before any call (test_handler_moto); the
    # checkpoints alone still stop every effect: only the upsert, which has none, is repeated.
    nomi, store = FakeNomi(), InMemoryCheckpoints()
    worker = make_worker(nomi, checkpoints=store)
    _handle(worker, shipped(), message_id="m-1")
    calls_after_first = len(nomi.calls)
    result = _handle(worker, shipped(), message_id="m-2")
    assert len(nomi.messages) == 1
    assert nomi.calls[calls_after_first:] == ["create_contact"]
    assert result["events"][0]["status"] == "duplicate"


def test_same_fulfillment_under_different_event_ids_sends_one_sms():
    nomi, store = FakeNomi(), InMemoryCheckpoints()
    worker = make_worker(nomi, checkpoints=store)
    _handle(worker, shipped(event_id="fulfillments-create-1"))
    _handle(worker, shipped(event_id="orders-fulfilled-2"))
    assert len(nomi.messages) == 1


def test_second_shipment_of_same_order_sends_its_own_sms():
    nomi, store = FakeNomi(), InMemoryCheckpoints()
    worker = make_worker(nomi, checkpoints=store)
    _handle(worker, shipped(event_id="a", shipment_id="F-1"))
    _handle(worker, shipped(event_id="b", shipment_id="F-2", tracking_numbers=["2Z"]))
    assert len(nomi.messages) == 2


def test_retry_after_partial_failure_repeats_no_completed_step():
    # A redelivery skips the upsert its failed attempt completed: a retry a day late must not write
    # its older variables over a newer event's.
    nomi, store = FakeNomi(), InMemoryCheckpoints()
    worker = make_worker(nomi, checkpoints=store)
    nomi.fail["send_message"] = [ServerError("boom", status_code=503)]
    with pytest.raises(TransientEventError):
        _handle(worker, shipped())
    _handle(worker, shipped(), receive_count=2)
    assert nomi.count("create_contact") == 1
    assert len(nomi.messages) == 1


def test_ambiguous_send_retry_looks_up_and_never_sends_twice():
    nomi, store = FakeNomi(), InMemoryCheckpoints()
    worker = make_worker(nomi, checkpoints=store)
    # NOMI sent the SMS, then the answer was lost.
    nomi.fail_after["send_message"] = [APITimeoutError("read timeout")]
    with pytest.raises(TransientEventError):
        _handle(worker, shipped())
    result = _handle(worker, shipped(), receive_count=2)
    assert len(nomi.messages) == 1
    assert nomi.count("lookup_messages") == 1
    assert result["events"][0]["steps"][-1]["status"] == "done"


def test_send_rejected_with_4xx_releases_claim_so_nothing_is_checked_on_redrive():
    from nomi_client.errors import ValidationError

    nomi, store = FakeNomi(), InMemoryCheckpoints()
    worker = make_worker(nomi, checkpoints=store)
    nomi.fail["send_message"] = [ValidationError("bad number_id", status_code=400)]
    _handle(worker, shipped())  # dead-lettered
    assert store.get("shipment:F-1:sms") is None


def test_consent_for_new_contact_rides_on_create_in_one_call():
    nomi = FakeNomi()
    _handle(make_worker(nomi), _consent_change("c-1", "subscribed", "2026-11-20T10:00:00+00:00"))
    assert nomi.calls == ["create_contact"]
    assert [e["channel"] for e in nomi.consent_log] == ["sms"]


def test_consent_for_existing_contact_goes_through_consent_endpoint():
    nomi = FakeNomi()
    _existing(nomi)
    _handle(make_worker(nomi), _consent_change("c-1", "subscribed", "2026-11-20T10:00:00+00:00"))
    assert nomi.calls == ["create_contact", "record_consent"]
    assert nomi.consent_log[0]["timestamp"].isoformat() == "2026-11-20T10:00:00+00:00"


def test_unsubscribe_is_one_call_without_lookup():
    nomi = FakeNomi()
    _handle(make_worker(nomi), _consent_change("c-1", "unsubscribed", "2026-11-20T10:00:00+00:00"))
    assert nomi.calls == ["unsubscribe"]
    assert nomi.unsubscribes[0]["type"] == "sms"


def test_unsubscribe_of_contact_unknown_to_nomi_is_retried_not_dead_lettered():
    worker = make_worker(FakeNomi(unknown_unsubscribe_404=True))
    with pytest.raises(TransientEventError, match="no contact to unsubscribe yet"):
        _handle(worker, _consent_change("c-1", "unsubscribed", "2026-11-20T10:00:00+00:00"))


def test_unsubscribe_retried_after_the_contact_appears_is_applied():
    nomi, store = FakeNomi(unknown_unsubscribe_404=True), InMemoryCheckpoints()
    worker = make_worker(nomi, checkpoints=store)
    event = _consent_change("c-1", "unsubscribed", "2026-11-20T10:00:00+00:00")
    with pytest.raises(TransientEventError):
        _handle(worker, event)
    _existing(nomi)
    _handle(worker, event)
    assert nomi.calls == ["unsubscribe", "unsubscribe"]


def test_out_of_order_consent_newest_wins():
    nomi, store = FakeNomi(), InMemoryCheckpoints()
    _existing(nomi)
    worker = make_worker(nomi, checkpoints=store)
    _handle(worker, _consent_change("newer", "unsubscribed", "2026-11-21T10:00:00+00:00"))
    result = _handle(worker, _consent_change("older", "subscribed", "2026-11-20T10:00:00+00:00"))
    assert nomi.count("record_consent") == 0
    assert result["events"][0]["skips"][0]["reason"] == "stale_consent"


def test_stale_consent_is_not_attached_to_create_for_new_contact():
    nomi, store = FakeNomi(), InMemoryCheckpoints()
    store.advance_consent(MappingSettings().pseudonym("phone", "+15555550100"), "sms", NOW)
    _handle(
        make_worker(nomi, checkpoints=store),
        _consent_change("older", "subscribed", "2026-11-20T10:00:00+00:00"),
    )
    assert nomi.consent_log == []


def test_cooling_off_is_recorded_as_outcome_not_retried():
    nomi, store = FakeNomi(), InMemoryCheckpoints()
    _existing(nomi, status="unsubscribed", unsubscribed_at="2026-11-21T00:00:00+00:00")
    nomi.cooling_off_hours = 47
    worker = make_worker(nomi, checkpoints=store)
    # Source api: a web form or checkout box would be refused before NOMI (sms_opted_out_at_nomi).
    result = _handle(worker, _consent_change("c-1", "subscribed", "2026-11-22T10:00:00+00:00", source="api"))
    assert result["events"][0]["steps"][-1]["status"] == "cooling_off"
    assert worker.stats.skips["cooling_off"] == 1
    _handle(worker, _consent_change("c-1", "subscribed", "2026-11-22T10:00:00+00:00", source="api"))
    assert nomi.count("record_consent") == 1


def test_old_opt_in_never_resubscribes_after_stop():
    nomi = FakeNomi()
    _existing(nomi, status="unsubscribed", unsubscribed_at="2026-11-21T00:00:00+00:00")
    result = _handle(
        make_worker(nomi), _consent_change("c-1", "subscribed", "2026-11-20T10:00:00+00:00", source="api")
    )
    assert nomi.count("record_consent") == 0
    assert result["events"][0]["skips"][0]["reason"] == "consent_predates_unsubscribe"


def test_conversion_recorded_once_per_order_across_event_ids():
    nomi, store = FakeNomi(), InMemoryCheckpoints()
    worker = make_worker(nomi, checkpoints=store)
    _handle(worker, _paid("orders-paid-1"))
    _handle(worker, _paid("orders-create-paid-2"))
    assert nomi.conversions == [{"id": "click-1", "amount": Decimal("12.50")}]


def test_order_paid_new_contact_costs_two_calls():
    nomi = FakeNomi()
    _handle(make_worker(nomi), _paid("p-1"))
    assert nomi.calls == ["create_contact", "record_conversion"]


def test_contact_upsert_unsubscribed_evidence_for_existing_contact_uses_unsubscribe():
    nomi = FakeNomi()
    _existing(nomi)
    event = {
        "type": "contact.upsert",
        "event_id": "u-1",
        "occurred_at": NOW.isoformat(),
        "person": person(),
        "sms_consent": consent("unsubscribed"),
    }
    _handle(make_worker(nomi), event)
    assert nomi.calls == ["create_contact", "unsubscribe"]


def test_transactional_message_sent_at_most_once_per_dedupe_key():
    nomi, store = FakeNomi(), InMemoryCheckpoints()
    worker = make_worker(nomi, checkpoints=store)
    message = {
        "type": "message.transactional",
        "occurred_at": NOW.isoformat(),
        "person": person(),
        "message": "Your code is ready",
        "dedupe_key": "ticket-7",
    }
    _handle(worker, {**message, "event_id": "x-1"})
    _handle(worker, {**message, "event_id": "x-2"})
    assert len(nomi.messages) == 1


def test_failed_upsert_releases_claim_so_other_event_of_same_shipment_proceeds():
    nomi, store = FakeNomi(), InMemoryCheckpoints()
    worker = make_worker(nomi, checkpoints=store)
    nomi.fail["create_contact"] = [ServerError("down", status_code=503)]
    with pytest.raises(TransientEventError):
        _handle(worker, shipped(event_id="fulfillments-create-1"))
    _handle(worker, shipped(event_id="orders-fulfilled-2"))
    result = _handle(worker, shipped(event_id="fulfillments-create-1"), receive_count=2)
    assert len(nomi.messages) == 1
    assert result["events"][0]["status"] == "duplicate"
