"""Signup-form posts → contact.upsert with webform consent evidence."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gateway_events import ContactUpsert
from processor.errors import InvalidEventError, UnsupportedEventError
from processor.settings import MappingSettings

SUBMITTED = "2026-11-23T14:05:09.250000+00:00"


def _signup(**overrides):
    payload = {
        "reference": "sg_01JDX7Q2ZK",
        "phone": "+447700900123",
        "email": "zoe@example.co.uk",
        "first_name": "Zoë",
        "last_name": "O'Brien-Ñúñez",
        "sms_consent": True,
        "email_consent": False,
        "consent_text": "Yes! Text me offers from Acme. Consent not required to buy. Reply STOP to opt out.",
        "tags": ["popup", "black-friday"],
        "custom_fields": {"favourite_colour": "teal", "birthday": "04-12"},
        "ip_address": "203.0.113.42",
        "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X)",
        "origin": "https://acme.example",
        "page_url": "https://acme.example/pages/join",
        "submitted_at": SUBMITTED,
    }
    payload.update(overrides)
    return payload


def test_signup_with_sms_consent_yields_upsert_with_webform_evidence(run):
    [event] = run("signup", "signup", _signup())
    assert isinstance(event, ContactUpsert)
    assert event.event_id == "signup:sg_01JDX7Q2ZK"
    assert event.occurred_at == datetime(2026, 11, 23, 14, 5, 9, 250000, tzinfo=UTC)
    evidence = event.sms_consent
    assert (evidence.status, evidence.source) == ("subscribed", "webform")
    assert evidence.timestamp == event.occurred_at
    assert evidence.consent_text.startswith("Yes! Text me offers from Acme.")
    assert (evidence.ip_address, evidence.user_agent) == ("203.0.113.42", _signup()["user_agent"])
    assert event.email_consent is None


def test_signup_person_keeps_unicode_names_and_international_phone(run):
    [event] = run("signup", "signup", _signup())
    assert (event.person.first_name, event.person.last_name) == ("Zoë", "O'Brien-Ñúñez")
    assert (event.person.phone, event.person.email) == ("+447700900123", "zoe@example.co.uk")


def test_signup_tags_are_the_forms_then_the_configured_ones(run):
    settings = MappingSettings(tags={"signup": ["signup", "popup"]})
    [event] = run("signup", "signup", _signup(), settings=settings)
    assert event.tags == ["popup", "black-friday", "signup"]


def test_signup_custom_fields_become_custom_variables(run):
    [event] = run("signup", "signup", _signup())
    assert event.custom_variables == {"favourite_colour": "teal", "birthday": "04-12"}


def test_signup_without_consent_yields_no_evidence(run):
    [event] = run("signup", "signup", _signup(sms_consent=False))
    assert event.sms_consent is None


def test_signup_email_consent_gets_the_same_evidence_on_the_email_channel(run):
    [event] = run("signup", "signup", _signup(sms_consent=False, email_consent=True))
    assert event.email_consent.source == "webform"
    assert event.email_consent.ip_address == "203.0.113.42"


def test_signup_each_channel_evidence_carries_its_own_box_text(run):
    payload = _signup(email_consent=True, email_consent_text="Email me Acme news. Unsubscribe any time.")
    [event] = run("signup", "signup", payload)
    assert event.sms_consent.consent_text == payload["consent_text"]
    assert event.email_consent.consent_text == "Email me Acme news. Unsubscribe any time."


def test_signup_email_consent_without_its_text_never_borrows_the_sms_text(run):
    [event] = run("signup", "signup", _signup(email_consent=True))
    assert event.email_consent.consent_text is None


def test_signup_without_consent_text_uses_configured_signup_text(run):
    settings = MappingSettings(consent_texts={"signup": "Acme form consent v3"})
    [event] = run("signup", "signup", _signup(consent_text=None), settings=settings)
    assert event.sms_consent.consent_text == "Acme form consent v3"


def test_signup_email_only_yields_upsert_with_phone_none(run):
    [event] = run("signup", "signup", _signup(phone=None, sms_consent=False, email_consent=True))
    assert event.person.phone is None


def test_signup_without_submitted_at_is_invalid(run):
    payload = _signup()
    del payload["submitted_at"]
    with pytest.raises(InvalidEventError, match="submitted_at"):
        run("signup", "signup", payload)


def test_signup_with_naive_submitted_at_is_invalid(run):
    with pytest.raises(InvalidEventError, match="submitted_at"):
        run("signup", "signup", _signup(submitted_at="2026-11-23T14:05:09"))


def test_signup_with_other_topic_is_unsupported(run):
    with pytest.raises(UnsupportedEventError):
        run("signup", "newsletter", _signup())
