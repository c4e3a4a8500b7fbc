import pytest
from pydantic import ValidationError

from gateway_events import ConsentChange, Order, parse_canonical_event

EVIDENCE = {"status": "subscribed", "timestamp": "2026-11-20T10:00:00Z", "source": "webform"}
BASE = {"event_id": "e-1", "occurred_at": "2026-11-20T10:00:00Z", "person": {"phone": "+15555550100"}}


def test_parse_canonical_event_dispatches_on_type():
    event = parse_canonical_event(
        {**BASE, "type": "order.paid", "order_id": "1", "amount": "12.50", "currency": "USD"}
    )
    assert isinstance(event, Order)
    assert str(event.amount) == "12.50"


def test_consent_change_both_channels_only_for_unsubscribe():
    with pytest.raises(ValidationError, match="only for unsubscribing"):
        ConsentChange.model_validate({**BASE, "channel": "both", "evidence": EVIDENCE})


def test_consent_evidence_naive_timestamp_is_rejected():
    evidence = {**EVIDENCE, "timestamp": "2026-11-20T10:00:00"}
    with pytest.raises(ValidationError):
        ConsentChange.model_validate({**BASE, "channel": "sms", "evidence": evidence})


def test_order_negative_amount_is_rejected():
    with pytest.raises(ValidationError):
        parse_canonical_event(
            {**BASE, "type": "order.paid", "order_id": "1", "amount": "-1", "currency": "USD"}
        )
