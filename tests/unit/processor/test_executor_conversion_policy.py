"""/conversion after an unknown outcome: at least once (retry through SQS) or at most once (keep the claim)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from processor_fakes import NOW, FakeNomi, as_record, canonical_body, make_worker, person

from nomi_client.errors import AmbiguousSendError, ValidationError
from processor.checkpoints import InMemoryCheckpoints
from processor.errors import TransientEventError
from processor.settings import MappingSettings

AT_MOST_ONCE = MappingSettings(conversion_delivery="at_most_once")


def _paid(event_id: str = "paid-1") -> dict:
    return {
        "type": "order.paid",
        "event_id": event_id,
        "occurred_at": NOW.isoformat(),
        "order_id": "9",
        "person": person(),
        "amount": "12.50",
        "currency": "USD",
        "click_id": "click-1",
    }


def _ambiguous() -> AmbiguousSendError:
    return AmbiguousSendError("500 after the request went out", attempted_at=NOW - timedelta(seconds=1))


def _handle(worker, event=None):
    return worker.handle(as_record(canonical_body(event or _paid())))


def test_conversion_at_least_once_unknown_outcome_is_retried_through_sqs_and_posted_again():
    nomi, store = FakeNomi(), InMemoryCheckpoints()
    nomi.fail_after["record_conversion"] = [_ambiguous()]
    worker = make_worker(nomi, checkpoints=store)
    with pytest.raises(TransientEventError):
        _handle(worker)
    _handle(worker)  # SQS's redelivery
    assert nomi.conversions == [{"id": "click-1", "amount": Decimal("12.50")}] * 2


def test_conversion_at_most_once_unknown_outcome_keeps_the_claim_and_never_posts_again():
    nomi, store = FakeNomi(), InMemoryCheckpoints()
    nomi.fail_after["record_conversion"] = [_ambiguous()]
    worker = make_worker(nomi, checkpoints=store, settings=AT_MOST_ONCE)
    result = _handle(worker)
    _handle(worker, _paid("paid-again"))  # the same order told again
    assert nomi.count("record_conversion") == 1
    assert "conversion_outcome_unknown" in [s["reason"] for s in result["events"][0]["skips"]]
    assert store.get("order:9:conversion").state == "done"


def test_conversion_at_most_once_earlier_attempt_of_ours_is_not_posted_again():
    nomi, store = FakeNomi(), InMemoryCheckpoints()
    owner = "canonical:paid-1#0"
    # A crash between claiming and the answer: the attempt may have reached NOMI.
    store.claim("order:9:conversion", owner=owner, now=NOW - timedelta(minutes=1), fact=True)
    _handle(make_worker(nomi, checkpoints=store, settings=AT_MOST_ONCE))
    assert nomi.count("record_conversion") == 0


def test_conversion_refused_with_4xx_releases_the_claim_under_both_policies():
    for settings in (MappingSettings(), AT_MOST_ONCE):
        nomi, store = FakeNomi(), InMemoryCheckpoints()
        nomi.fail["record_conversion"] = [ValidationError("bad id", status_code=400)]
        _handle(make_worker(nomi, checkpoints=store, settings=settings))
        assert store.get("order:9:conversion") is None
