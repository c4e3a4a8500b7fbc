"""Consent integrity (issue 12) through the record flow on fakes: what reaches NOMI's consent log,
what is refused as an outcome (reason + metric, never the DLQ), and what the watermarks remember."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from processor_fakes import NOW, FakeNomi, as_record, canonical_body, envelope_body, make_worker, person

from nomi_client.errors import ServerError, ValidationError
from processor.checkpoints import InMemoryCheckpoints
from processor.dlq import InMemoryDeadLetters
from processor.errors import TransientEventError
from processor.settings import MappingSettings

PHONE = "+15555550100"
FIXTURES = Path(__file__).parent / "sources" / "fixtures"
TEXT = "Yes, text me offers. Msg & data rates may apply. Reply STOP to opt out."


def _load(name):
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def _handle(worker, event):
    return worker.handle(as_record(canonical_body(event)))


def _existing(nomi, *, email=None, unsubscribed_at=None, sms_status=None, history=()):
    nomi.contacts[PHONE] = {
        "contact_id": 1,
        "phone": PHONE,
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": email,
        "custom_variables": {"vip": "yes"},
        "tags": ["vip"],
        "sms_status": sms_status,
        "unsubscribed_at": unsubscribed_at,
    }
    nomi.history.extend((PHONE, "sms", status, source, NOW) for status, source in history)


def _evidence(status="subscribed", at="2026-11-22T10:00:00+00:00", source="webform", text=TEXT):
    return {"status": status, "timestamp": at, "source": source, "consent_text": text}


def _upsert(event_id="u-1", sms=None, email=None, who=None, **more):
    return {
        "type": "contact.upsert",
        "event_id": event_id,
        "occurred_at": NOW.isoformat(),
        "person": who or person(PHONE),
        "sms_consent": sms,
        "email_consent": email,
        **more,
    }


def _change(event_id, channel, evidence, who=None):
    return {
        "type": "consent.change",
        "event_id": event_id,
        "occurred_at": NOW.isoformat(),
        "person": who or person(PHONE),
        "channel": channel,
        "evidence": evidence,
    }


def _sms_log(nomi):
    return [e for e in nomi.consent_log if e["channel"] == "sms"]


# --- every SMS opt-in carries its consent text


def test_queued_sms_opt_in_without_text_skips_sms_consent_but_applies_the_rest():
    nomi, dlq = FakeNomi(), InMemoryDeadLetters()
    worker = make_worker(nomi, dead_letters=dlq)
    who = person(PHONE, email="ada@example.com")
    result = _handle(worker, _upsert(sms=_evidence(text=None), email=_evidence(text=None), who=who))
    assert dlq.letters == []
    assert _sms_log(nomi) == []
    assert [e["channel"] for e in nomi.consent_log] == ["email"]
    assert result["events"][0]["skips"][0]["reason"] == "sms_consent_without_text"
    assert worker.stats.skips["sms_consent_without_text"] == 1


def test_queued_pending_sms_without_text_is_skipped():
    nomi = FakeNomi()
    _handle(make_worker(nomi), _change("c-1", "sms", _evidence(status="pending", text="  ")))
    assert nomi.consent_log == []


def test_eventbridge_canonical_sms_opt_in_without_text_is_skipped_not_dead_lettered():
    nomi, dlq = FakeNomi(), InMemoryDeadLetters()
    worker = make_worker(nomi, dead_letters=dlq)
    bus_event = {
        "version": "0",
        "id": "eb-1",
        "detail-type": "contact.upsert",
        "source": "acme.crm",
        "time": NOW.isoformat(),
        "detail": _upsert(sms=_evidence(text=None)),
    }
    result = worker.handle(as_record(envelope_body("eventbridge", "contact.upsert", bus_event)))
    assert dlq.letters == []
    assert "dead_lettered" not in result
    assert nomi.consent_log == []
    assert worker.stats.skips["sms_consent_without_text"] == 1


def test_shopify_customer_sms_consent_without_configured_text_is_skipped():
    # consent_texts.shopify_customer is unset by default: the admin's wording is unknown.
    nomi = FakeNomi()
    payload = _load("shopify/customers_marketing_consent_update.json")
    payload["sms_marketing_consent"]["consent_collected_from"] = "OTHER"
    payload["sms_marketing_consent"]["state"] = "subscribed"
    worker = make_worker(nomi)
    worker.handle(as_record(envelope_body("shopify", "customers_marketing_consent/update", payload)))
    assert nomi.consent_log == []
    assert worker.stats.skips["sms_consent_without_text"] == 1


# --- newest wins per channel and identity; the watermark moves only after NOMI accepted


def test_email_watermark_is_keyed_on_the_email_not_the_phone():
    nomi = FakeNomi()
    worker = make_worker(nomi)
    newer = _change(
        "e-new",
        "email",
        _evidence(at="2026-11-22T10:00:00+00:00"),
        who=person(PHONE, email="Ada@Example.com"),
    )
    older = _change(
        "e-old",
        "email",
        _evidence(status="unsubscribed", at="2026-11-21T10:00:00+00:00", text=None),
        who=person("+15555550111", email="ada@example.com"),
    )
    _handle(worker, newer)
    result = _handle(worker, older)
    assert nomi.unsubscribes == []
    assert result["events"][0]["skips"][0]["reason"] == "stale_consent"


def test_newer_consent_nomi_refused_does_not_silence_an_older_unsubscribe():
    nomi, dlq = FakeNomi(), InMemoryDeadLetters()
    _existing(nomi)
    nomi.fail["record_consent"] = [ValidationError("The timestamp field is invalid.", status_code=400)]
    worker = make_worker(nomi, dead_letters=dlq)
    _handle(worker, _change("new", "sms", _evidence(at="2026-11-22T10:00:00+00:00", source="api")))
    assert len(dlq.letters) == 1  # refused for good
    _handle(worker, _change("old", "sms", _evidence(status="unsubscribed", at="2026-11-21T10:00:00+00:00")))
    assert nomi.unsubscribes == [{"phone": PHONE, "email": None, "type": "sms"}]


def test_cooling_off_does_not_advance_the_watermark():
    nomi, store = FakeNomi(), InMemoryCheckpoints()
    _existing(nomi, unsubscribed_at="2026-11-21T00:00:00+00:00", sms_status="unsubscribed")
    nomi.cooling_off_hours = 40
    worker = make_worker(nomi, checkpoints=store)
    _handle(worker, _change("c-1", "sms", _evidence(at="2026-11-22T10:00:00+00:00", source="api")))
    assert store.latest_consent(MappingSettings().pseudonym("phone", PHONE), "sms") is None


# --- checkout consent: once per token, time first seen, never carried over an unsubscribe


def _checkout(updated_at, token="tok-1", ticked=True):
    payload = _load("shopify/checkouts_create.json")
    payload.update(
        token=token,
        updated_at=updated_at,
        buyer_accepts_sms_marketing=ticked,
        buyer_accepts_marketing=False,
        sms_marketing_phone=PHONE,
    )
    return as_record(envelope_body("shopify", "checkouts/update", payload, event_id=f"w-{updated_at}"))


def test_checkout_box_seen_on_several_updates_is_one_opt_in_at_first_seen_time():
    nomi = FakeNomi()
    worker = make_worker(nomi)
    worker.handle(_checkout("2026-11-20T10:00:00-06:00"))
    worker.handle(_checkout("2026-11-20T10:05:00-06:00"))
    worker.handle(_checkout("2026-11-20T10:09:00-06:00"))
    log = _sms_log(nomi)
    assert len(log) == 1
    assert log[0]["timestamp"].isoformat() == "2026-11-20T10:00:00-06:00"


def test_checkout_box_carried_over_an_unsubscribe_never_resubscribes():
    nomi = FakeNomi()
    worker = make_worker(nomi)
    worker.handle(_checkout("2026-11-20T10:00:00-06:00"))
    stop = _evidence(status="unsubscribed", at="2026-11-22T17:00:00+00:00", source="stop", text=None)
    _handle(worker, _change("stop-1", "sms", stop))
    # The same checkout updated after NOMI recorded the STOP, its box still ticked from before.
    worker.handle(_checkout("2026-11-23T12:30:00+00:00"))
    assert [e["status"] for e in _sms_log(nomi)] == ["subscribed"]
    assert nomi.contacts[PHONE]["sms_status"] == "unsubscribed"


def test_checkout_first_seen_after_a_newer_unsubscribe_stays_decided_on_later_updates():
    nomi = FakeNomi()
    _existing(nomi)
    worker = make_worker(nomi)
    stop = _evidence(status="unsubscribed", at="2026-11-20T16:30:00+00:00", source="api", text=None)
    _handle(worker, _change("unsub-1", "sms", stop))
    worker.handle(_checkout("2026-11-20T10:00:00-06:00"))  # box ticked before the unsubscribe
    worker.handle(_checkout("2026-11-23T12:30:00+00:00"))  # the same box, still ticked, much later
    assert nomi.count("record_consent") == 0


# --- the latest opt-out at NOMI wins over a web form or checkout box


def test_webform_opt_in_after_stop_at_nomi_is_an_outcome_not_an_error():
    nomi, dlq = FakeNomi(), InMemoryDeadLetters()
    _existing(
        nomi,
        unsubscribed_at="2026-11-21T00:00:00+00:00",
        sms_status="unsubscribed",
        history=[("subscribed", "webform"), ("unsubscribed", "stop")],
    )
    worker = make_worker(nomi, dead_letters=dlq)
    result = _handle(worker, _change("c-1", "sms", _evidence(at="2026-11-23T10:00:00+00:00")))
    assert nomi.count("record_consent") == 0
    assert dlq.letters == []
    assert "dead_lettered" not in result
    assert result["events"][0]["skips"][0]["reason"] == "sms_opted_out_at_nomi"
    assert worker.stats.skips["sms_opted_out_at_nomi"] == 1


def test_checkout_opt_in_after_spam_report_at_nomi_is_refused():
    nomi = FakeNomi()
    _existing(nomi, unsubscribed_at="2026-11-21T00:00:00+00:00", history=[("unsubscribed", "spam_report")])
    _handle(make_worker(nomi), _upsert(sms=_evidence(at="2026-11-23T10:00:00+00:00", source="checkout")))
    assert nomi.count("record_consent") == 0


def test_webform_opt_in_after_keyword_start_at_nomi_is_recorded():
    nomi = FakeNomi()
    _existing(
        nomi,
        unsubscribed_at="2026-11-21T00:00:00+00:00",
        history=[("unsubscribed", "stop"), ("subscribed", "keyword")],
    )
    _handle(make_worker(nomi), _change("c-1", "sms", _evidence(at="2026-11-23T10:00:00+00:00")))
    assert nomi.count("record_consent") == 1


def test_webform_opt_in_for_contact_never_unsubscribed_reads_no_history():
    nomi = FakeNomi()
    _existing(nomi)
    _handle(make_worker(nomi), _change("c-1", "sms", _evidence()))
    assert nomi.calls == ["create_contact", "record_consent"]


# --- anonymous signups never overwrite an existing contact


def _signup(reference="r-1", **fields):
    payload = {
        "reference": reference,
        "submitted_at": "2026-11-23T11:00:00+00:00",
        "ip_address": "203.0.113.9",
        "user_agent": "Mozilla/5.0",
        "phone": PHONE,
        "first_name": "Mallory",
        "last_name": "Mischief",
        "email": "mallory@example.com",
        "tags": ["attacker"],
        "sms_consent": True,
        "email_consent": False,
        "consent_text": TEXT,
        **fields,
    }
    return as_record(envelope_body("signup", "signup", payload, event_id=reference))


def test_anonymous_signup_never_overwrites_existing_contact_fields():
    nomi = FakeNomi()
    _existing(nomi, email="ada@example.com")
    make_worker(nomi).handle(_signup())
    contact = nomi.contacts[PHONE]
    assert (contact["first_name"], contact["last_name"], contact["email"]) == (
        "Ada",
        "Lovelace",
        "ada@example.com",
    )
    assert contact["tags"] == ["vip"]
    assert contact["custom_variables"] == {"vip": "yes"}


def test_anonymous_signup_still_records_its_sms_opt_in_on_the_existing_contact():
    nomi = FakeNomi()
    _existing(nomi)
    make_worker(nomi).handle(_signup())
    assert [(e["status"], e["source"]) for e in _sms_log(nomi)] == [("subscribed", "webform")]


def test_anonymous_signup_email_consent_is_skipped_when_contact_holds_another_email():
    nomi = FakeNomi()
    _existing(nomi, email="ada@example.com")
    worker = make_worker(nomi)
    result = worker.handle(_signup(email_consent=True))
    assert [e["channel"] for e in nomi.consent_log] == ["sms"]
    assert "email_not_on_contact" in [s["reason"] for s in result["events"][0]["skips"]]


def test_anonymous_signup_email_consent_stays_skipped_when_retried_after_the_upsert_step():
    nomi = FakeNomi()
    _existing(nomi, email="ada@example.com")
    nomi.fail["record_consent"] = [ServerError("Server Error", status_code=500)]
    worker = make_worker(nomi)
    record = _signup(email_consent=True)
    with pytest.raises(TransientEventError):
        worker.handle(record)
    worker.handle(record)  # the upsert step is done: its checkpoint must still say "another email"
    assert [e["channel"] for e in nomi.consent_log] == ["sms"]


def test_anonymous_signup_retried_after_its_create_answer_was_lost_records_consent_once():
    nomi = FakeNomi()
    nomi.fail_after["create_contact"] = [ServerError("Server Error", status_code=500)]
    worker = make_worker(nomi)
    record = _signup()
    with pytest.raises(TransientEventError):
        worker.handle(record)
    worker.handle(record)  # SQS redelivers: NOMI now answers 409 for the contact it did create
    assert len(_sms_log(nomi)) == 1


def test_anonymous_signup_creates_a_new_contact_with_its_names_and_tags():
    nomi = FakeNomi()
    make_worker(nomi).handle(_signup())
    contact = nomi.contacts[PHONE]
    assert contact["first_name"] == "Mallory"
    assert "attacker" in contact["tags"]
    assert nomi.calls == ["create_contact"]


# --- double opt-in


def test_double_opt_in_records_webform_sms_opt_in_as_pending():
    nomi = FakeNomi()
    make_worker(nomi, settings=MappingSettings(sms_double_opt_in=True)).handle(_signup())
    assert [e["status"] for e in _sms_log(nomi)] == ["pending"]


def test_double_opt_in_leaves_checkout_sms_opt_in_subscribed():
    nomi = FakeNomi()
    worker = make_worker(nomi, settings=MappingSettings(sms_double_opt_in=True))
    _handle(worker, _upsert(sms=_evidence(source="checkout")))
    assert [e["status"] for e in _sms_log(nomi)] == ["subscribed"]


# --- test-mode events


def test_shopify_test_order_creates_no_contact_consent_or_conversion_by_default():
    nomi = FakeNomi()
    payload = _load("shopify/orders_paid.json")
    payload["test"] = True
    worker = make_worker(nomi)
    result = worker.handle(as_record(envelope_body("shopify", "orders/paid", payload)))
    assert nomi.calls == []
    assert result["events"][0]["skips"][0]["reason"] == "test_event"
    assert worker.stats.skips["test_event"] == 1


def test_shopify_test_order_is_processed_when_the_setting_says_so():
    nomi = FakeNomi()
    payload = _load("shopify/orders_paid.json")
    payload["test"] = True
    worker = make_worker(nomi, settings=MappingSettings(process_test_events=True))
    worker.handle(as_record(envelope_body("shopify", "orders/paid", payload)))
    assert nomi.conversions != []


def test_test_mode_shipment_sends_no_sms_by_default():
    nomi = FakeNomi()
    payload = _load("shopify/orders_fulfilled.json")
    payload["test"] = True
    make_worker(nomi).handle(as_record(envelope_body("shopify", "orders/fulfilled", payload)))
    assert nomi.messages == []


def test_stripe_livemode_false_checkout_creates_nothing_by_default():
    nomi = FakeNomi()
    payload = _load("stripe/checkout_session_completed_acacia.json")
    payload["livemode"] = False
    make_worker(nomi).handle(as_record(envelope_body("stripe", "checkout.session.completed", payload)))
    assert nomi.calls == []


def test_create_with_consent_retried_hours_after_its_answer_was_lost_records_consent_once():
    nomi = FakeNomi()
    nomi.fail_after["create_contact"] = [ServerError("Server Error", status_code=500)]
    worker = make_worker(nomi)
    event = _upsert(sms=_evidence(source="api"))
    with pytest.raises(TransientEventError):
        _handle(worker, event)
    # SQS's backoff brings the retry hours later: NOMI's contact is no longer "just created".
    nomi.contacts[PHONE]["created_at"] = (NOW - timedelta(hours=3)).isoformat()
    _handle(worker, event)
    assert len(_sms_log(nomi)) == 1
