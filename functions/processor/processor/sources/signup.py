"""Signup-form posts (`gateway_events.SignupPayload`, already validated by ingest) → contact.upsert."""

from __future__ import annotations

from typing import Any

from gateway_events import CanonicalEvent, ConsentEvidence, ContactUpsert, Envelope, Person, SignupPayload
from processor.errors import UnsupportedEventError
from processor.settings import MappingSettings
from processor.sources._common import clip_name, first, unique_in_order, validate_source


def _evidence(consented: bool, signup: SignupPayload, consent_text: str | None) -> ConsentEvidence | None:
    """Webform evidence with the server's own observations (time, IP, user agent); none without a tick."""
    if not consented:
        return None
    return ConsentEvidence(
        status="subscribed",
        timestamp=signup.submitted_at,
        source="webform",
        consent_text=consent_text,
        ip_address=signup.ip_address,
        user_agent=signup.user_agent,
    )


def adapt_signup(envelope: Envelope, payload: Any, settings: MappingSettings) -> list[CanonicalEvent]:
    """One contact.upsert per form post. Each channel's evidence carries that box's own words: the
    SMS disclosure is never the evidence of an email opt-in. (The configured signup text covers SMS
    messages queued before ingest required the text.)"""
    if envelope.topic != "signup":
        raise UnsupportedEventError(f"signup topic {envelope.topic!r} is not handled")
    signup: SignupPayload = validate_source(SignupPayload, payload, "signup")
    sms_text = first(signup.consent_text) or settings.consent_text("signup")
    email_text = first(signup.email_consent_text)
    return [
        ContactUpsert(
            event_id=f"signup:{signup.reference}",
            occurred_at=signup.submitted_at,
            person=Person(
                phone=first(signup.phone),
                email=first(signup.email),
                first_name=clip_name(first(signup.first_name)),
                last_name=clip_name(first(signup.last_name)),
            ),
            tags=unique_in_order(signup.tags, settings.tags_for("signup")),
            custom_variables=dict(signup.custom_fields),
            sms_consent=_evidence(signup.sms_consent, signup, sms_text),
            email_consent=_evidence(signup.email_consent, signup, email_text),
        )
    ]
