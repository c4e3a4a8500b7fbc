"""The planner: each canonical type → its ordered steps and business keys (pure, no I/O)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from processor_fakes import NOW, consent, person, shipped

from gateway_events import parse_canonical_event
from nomi_client.errors import PhoneNumberError
from processor.plan import (
    ApplyConsent,
    RecordConversion,
    SendTransactional,
    Unsubscribe,
    UpsertContact,
    plan,
)
from processor.settings import MappingSettings

SETTINGS = MappingSettings()


def _event(**data):
    return parse_canonical_event({"event_id": "e-1", "occurred_at": NOW.isoformat(), **data})


def _kinds(p):
    return [type(s).__name__ for s in p.steps]


def test_plan_contact_upsert_with_consents_upserts_then_one_consent_step_per_channel():
    p = plan(
        _event(
            type="contact.upsert",
            person=person("(555) 555-0100", email="Ada@Example.com"),
            sms_consent=consent(),
            email_consent=consent(source="webform"),
        ),
        SETTINGS,
    )
    phone_key = SETTINGS.pseudonym("phone", "+15555550100")
    email_key = SETTINGS.pseudonym("email", "ada@example.com")
    assert _kinds(p) == ["UpsertContact", "ApplyConsent", "ApplyConsent"]
    assert p.steps[0].key == f"contact:{phone_key}"
    assert not p.steps[0].fact
    assert p.steps[1].key == f"consent:{phone_key}:sms:2026-11-20T10:00:00+00:00"
    assert p.steps[1].fact
    assert p.steps[2].key == f"consent:{email_key}:email:2026-11-20T10:00:00+00:00"


def test_plan_contact_upsert_without_phone_skips_with_reason():
    p = plan(_event(type="contact.upsert", person=person(None, email="a@example.com")), SETTINGS)
    assert p.steps == ()
    assert [s.reason for s in p.skips] == ["no_phone"]


def test_plan_international_phone_uses_person_country():
    p = plan(_event(type="contact.upsert", person=person("020 7946 0958", country="GB")), SETTINGS)
    assert p.steps[0].phone == "+442079460958"


def test_plan_invalid_phone_raises_phone_number_error():
    with pytest.raises(PhoneNumberError):
        plan(_event(type="contact.upsert", person=person("12")), SETTINGS)


def test_plan_consent_unsubscribe_is_one_unsubscribe_step_without_contact():
    p = plan(
        _event(type="consent.change", person=person(), channel="both", evidence=consent("unsubscribed")),
        SETTINGS,
    )
    assert _kinds(p) == ["Unsubscribe"]
    step = p.steps[0]
    assert isinstance(step, Unsubscribe)
    assert step.channels == ("sms", "email")
    assert step.phone == "+15555550100"


def test_plan_consent_email_unsubscribe_without_phone_uses_email():
    p = plan(
        _event(
            type="consent.change",
            person=person(None, email="A@Example.com"),
            channel="email",
            evidence=consent("unsubscribed"),
        ),
        SETTINGS,
    )
    assert p.steps[0].email == "a@example.com"
    assert p.steps[0].phone is None


def test_plan_consent_subscribe_upserts_then_applies_consent():
    p = plan(_event(type="consent.change", person=person(), channel="sms", evidence=consent()), SETTINGS)
    assert _kinds(p) == ["UpsertContact", "ApplyConsent"]
    assert isinstance(p.steps[1], ApplyConsent)
    assert p.steps[1].channel == "sms"


def test_plan_order_placed_sets_order_variables_and_no_conversion():
    p = plan(
        _event(
            type="order.placed",
            order_id="9",
            order_name="#1042",
            person=person(),
            amount="12.50",
            currency="USD",
            click_id="abc",
        ),
        SETTINGS,
    )
    assert _kinds(p) == ["UpsertContact"]
    assert p.steps[0].custom_variables == {
        "last_order_id": "#1042",
        "last_order_total": "12.50",
        "last_order_currency": "USD",
    }


def test_plan_order_paid_with_click_id_records_one_conversion_per_order():
    p = plan(
        _event(
            type="order.paid", order_id="9", person=person(), amount="1500", currency="JPY", click_id="abc"
        ),
        SETTINGS,
    )
    conversion = p.steps[-1]
    assert isinstance(conversion, RecordConversion)
    assert conversion.key == "order:9:conversion"
    assert conversion.fact
    assert conversion.amount == Decimal("1500")


def test_plan_order_paid_without_phone_still_records_conversion():
    p = plan(
        _event(
            type="order.paid", order_id="9", person=person(None), amount="5", currency="USD", click_id="c"
        ),
        SETTINGS,
    )
    assert _kinds(p) == ["RecordConversion"]
    assert [s.reason for s in p.skips] == ["no_phone"]


def test_plan_order_paid_without_click_id_skips_conversion_with_reason():
    p = plan(_event(type="order.paid", order_id="9", person=person(), amount="5", currency="USD"), SETTINGS)
    assert _kinds(p) == ["UpsertContact"]
    assert [s.reason for s in p.skips] == ["no_click_id"]


def test_plan_order_shipped_sets_tracking_variables_then_one_sms_per_shipment():
    p = plan(parse_canonical_event(shipped(tracking_numbers=["A1", "B2"])), SETTINGS)
    assert _kinds(p) == ["UpsertContact", "SendTransactional"]
    variables = p.steps[0].custom_variables
    assert variables == {
        "order_id": "#1042",
        "tracking_number": "A1, B2",
        "tracking_url": "https://track.example/1Z999",
        "carrier": "UPS",
    }
    send = p.steps[1]
    assert isinstance(send, SendTransactional)
    assert send.key == "shipment:F-1:sms"
    assert send.message == "Hi Ada, your order #1042 has shipped. Track it: https://track.example/1Z999"


def test_plan_order_shipped_without_tracking_skips_sms():
    p = plan(parse_canonical_event(shipped(tracking_numbers=[], tracking_urls=[])), SETTINGS)
    assert _kinds(p) == ["UpsertContact"]
    assert [s.reason for s in p.skips] == ["no_tracking"]


def test_plan_order_shipped_sms_disabled_skips_sms():
    p = plan(parse_canonical_event(shipped()), MappingSettings(shipped_sms_enabled=False))
    assert _kinds(p) == ["UpsertContact"]
    assert [s.reason for s in p.skips] == ["shipped_sms_disabled"]


def test_plan_transactional_message_dedupes_on_dedupe_key():
    p = plan(
        _event(type="message.transactional", person=person(), message="Hi [first_name]", dedupe_key="k-7"),
        SETTINGS,
    )
    assert _kinds(p) == ["UpsertContact", "SendTransactional"]
    assert p.steps[1].key == "message:k-7:sms"


def test_plan_transactional_message_without_dedupe_key_uses_event_id():
    p = plan(_event(type="message.transactional", person=person(), message="Hi"), SETTINGS)
    assert p.steps[1].key == "message:e-1:sms"


def test_plan_upsert_step_is_event_scoped_and_shipment_vars_are_fact_scoped():
    p = plan(parse_canonical_event(shipped()), SETTINGS)
    assert isinstance(p.steps[0], UpsertContact)
    assert p.steps[0].fact
    assert p.steps[0].key.startswith("shipment:F-1:vars:")
