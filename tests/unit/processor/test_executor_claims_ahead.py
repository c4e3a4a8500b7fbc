"""Claims taken ahead: a plan's send and conversion are claimed while its contacts/create is in flight."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from processor_fakes import NOW, FakeNomi, as_record, canonical_body, make_worker, shipped

from gateway_events.canonical import parse_canonical_event
from nomi_client.errors import ServerError
from processor.checkpoints import DynamoDBCheckpoints, InMemoryCheckpoints
from processor.errors import TransientEventError
from processor.execute import Executor
from processor.plan import plan
from processor.settings import MappingSettings


def _handle(worker, event, **kwargs):
    return worker.handle(as_record(canonical_body(event), **kwargs))


class _CreateWaitsForTheClaim(FakeNomi):
    """contacts/create that answers only once the send's claim has been asked for: sequential claims
    (after the create) would leave it waiting."""

    def __init__(self, claimed: threading.Event) -> None:
        super().__init__()
        self.claimed = claimed
        self.claim_seen_during_create = False

    def create_contact(self, **kwargs: Any) -> Any:
        self.claim_seen_during_create = self.claimed.wait(timeout=10)
        return super().create_contact(**kwargs)


class _NotingClaims(InMemoryCheckpoints):
    def __init__(self, claimed: threading.Event) -> None:
        super().__init__()
        self.claimed = claimed

    def claim(self, key: str, **kwargs: Any) -> Any:
        if key.endswith(":sms"):
            self.claimed.set()
        return super().claim(key, **kwargs)


def test_executor_send_is_claimed_while_contacts_create_is_in_flight():
    claimed = threading.Event()
    nomi, store = _CreateWaitsForTheClaim(claimed), _NotingClaims(claimed)
    _handle(make_worker(nomi, checkpoints=store), shipped())
    assert nomi.claim_seen_during_create
    assert len(nomi.messages) == 1
    assert store.steps["shipment:F-1:sms"].state == "done"


def test_executor_fresh_claim_taken_ahead_is_dropped_when_contacts_create_fails():
    nomi, store = FakeNomi(), InMemoryCheckpoints()
    nomi.fail["create_contact"] = [ServerError("NOMI is down", status_code=503)]
    with pytest.raises(TransientEventError):
        _handle(make_worker(nomi, checkpoints=store), shipped())
    # No SMS was attempted: another description of the parcel must not wait for this claim's lease.
    assert "shipment:F-1:sms" not in store.steps


def test_executor_claim_ahead_that_took_over_an_attempt_stays_when_contacts_create_fails():
    nomi, store = FakeNomi(), InMemoryCheckpoints()
    worker = make_worker(nomi, checkpoints=store)
    # An earlier attempt of another event claimed the SMS long ago and may have sent it.
    store.claim("shipment:F-1:sms", owner="crashed", now=NOW - timedelta(hours=1), fact=True)
    nomi.fail["create_contact"] = [ServerError("NOMI is down", status_code=503)]
    with pytest.raises(TransientEventError):
        _handle(worker, shipped())
    kept = store.steps["shipment:F-1:sms"]
    assert kept.state == "attempted"
    assert kept.attempted_since == NOW - timedelta(hours=1)  # whoever comes next checks NOMI from here


def test_executor_same_parcel_twice_in_one_record_is_done_not_busy(idempotency_table):
    # Two events of one envelope describing one parcel: the second's claim, taken on another thread,
    # cannot see the first's completion the record still holds; it is asked again and found done.
    store, nomi = DynamoDBCheckpoints("idem", client=idempotency_table), FakeNomi()
    executor = Executor(nomi, store, clock=lambda: NOW)
    settings = MappingSettings()
    with store.unit_of_work():
        outcomes = [
            executor.run(plan(parse_canonical_event(shipped(event_id=event_id)), settings), owner=f"env#{n}")
            for n, event_id in enumerate(("fulfillments-create-1", "orders-fulfilled-2"))
        ]
    assert len(nomi.messages) == 1
    assert outcomes[1].as_dict()["steps"][-1]["status"] == "already_done"
