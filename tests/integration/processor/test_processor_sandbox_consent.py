"""Consent integrity end to end against the NOMI sandbox (issue 12): its real answers (409 for
update=false on a known phone, consent history, cooling-off) drive the processor's decisions."""

from __future__ import annotations

import pytest
from test_processor_sandbox import NOW, PHONE, _batch, _consent_change, _contact, _upsert, stack

pytestmark = pytest.mark.integration

__all__ = ["stack"]  # the fixture, shared with the sandbox end-to-end tests


def _signup(reference: str, **fields: object) -> dict:
    payload = {
        "reference": reference,
        "submitted_at": NOW.isoformat(),
        "ip_address": "203.0.113.9",
        "user_agent": "Mozilla/5.0",
        "phone": PHONE,
        "first_name": "Mallory",
        "last_name": "Mischief",
        "email": "mallory@example.com",
        "tags": ["attacker"],
        "sms_consent": True,
        "consent_text": "Text me offers. Reply STOP to opt out.",
        **fields,
    }
    return {
        "version": 1,
        "source": "signup",
        "event_id": reference,
        "topic": "signup",
        "received_at": NOW.isoformat(),
        "payload": payload,
    }


def test_sandbox_anonymous_signup_leaves_existing_contact_untouched(stack):
    app, sandbox = stack
    _batch(app, _upsert())
    assert _batch(app, _signup("r-1")) == {"batchItemFailures": []}
    contact = _contact(sandbox)
    assert (contact.first_name, contact.last_name, contact.email) == ("Zoë", "Ångström", "zoe@example.com")
    assert "attacker" not in contact.tags


def test_sandbox_signup_after_stop_does_not_resubscribe(stack):
    app, sandbox = stack
    _batch(app, _upsert())
    _batch(app, _consent_change("stop-1", "unsubscribed", "2026-11-21T10:00:00+00:00"))
    assert _batch(app, _signup("r-2")) == {"batchItemFailures": []}
    events = sandbox.state.consent_events_for(_contact(sandbox).contact_id, "sms")
    assert [e.status for e in events] == ["subscribed", "unsubscribed"]


def test_sandbox_redact_unsubscribes_by_phone_and_by_email(stack):
    app, sandbox = stack
    _batch(app, _upsert())
    redact = {
        "version": 1,
        "source": "shopify",
        "event_id": "wh-redact-1",
        "topic": "customers/redact",
        "received_at": NOW.isoformat(),
        "headers": {"x-shopify-triggered-at": NOW.isoformat()},
        "payload": {"customer": {"id": 7, "phone": "(555) 555-0100", "email": "ZOE@example.com"}},
    }
    assert _batch(app, redact) == {"batchItemFailures": []}
    forms = [
        r.get("form") or {} for r in sandbox.state.request_log() if r.get("path") == "/contacts/unsubscribe"
    ]
    assert [("phone" in f, "email" in f) for f in forms] == [(True, False), (False, True)]
    assert sandbox.state.consent_status(_contact(sandbox).contact_id, "sms") == "unsubscribed"
