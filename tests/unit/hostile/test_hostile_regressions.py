"""Regressions for the defects the chaos run found (each fixed in deployed code):

1. A consent fact recorded twice: contacts/create applied the consent, its answer was lost, the retry
   answered "existing contact", and the executor recorded the consent again through the endpoint.
2. The consent POST retried blindly after a 5xx/timeout that NOMI had already applied.
3. A second parcel's SMS taken for the first (same template, same contact) after an ambiguous send:
   lost SMS. The lookup now matches the template with the values the plan sets.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from gateway_events import parse_canonical_event
from nomi_client import NomiClient
from nomi_client.errors import AmbiguousSendError
from nomi_client.models import ConsentHistory, ConsentHistoryEvent, Contact, SendOutcome
from processor.checkpoints import InMemoryCheckpoints
from processor.execute import Executor
from processor.plan import plan
from processor.settings import MappingSettings

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
CONSENT_AT = datetime(2026, 11, 23, 11, 0, 30, 123456, tzinfo=UTC)  # microseconds: NOMI keeps seconds
PHONE = "+14155550123"


class Nomi:
    """Answers the executor's calls from fixed values and records them."""

    def __init__(
        self,
        *,
        created_at: datetime,
        history: list[ConsentHistoryEvent],
        consent_error: Exception | None = None,
        create_errors: list[Exception] | None = None,
    ) -> None:
        self.created_at = created_at
        self.history = history
        self.consent_error = consent_error
        self.create_errors = list(create_errors or [])
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def create_contact(self, **kwargs: Any) -> Contact:
        self.calls.append(("create_contact", kwargs))
        if self.create_errors:
            raise self.create_errors.pop(0)
        # "Contact updated": no consent fields, so the executor sees an existing contact.
        return Contact(contact_id=7, phone=PHONE, created_at=self.created_at)

    def get_consent_history(self, contact_id: int, **kwargs: Any) -> ConsentHistory:
        self.calls.append(("get_consent_history", kwargs))
        return ConsentHistory(contact_id=contact_id, consent_events=self.history)

    def record_consent(self, contact_id: int, **kwargs: Any) -> None:
        self.calls.append(("record_consent", kwargs))
        if self.consent_error is not None:
            raise self.consent_error

    def get_consent_status(self, contact_id: int) -> Any:
        from nomi_client.models import ChannelStatus, ConsentStatus

        self.calls.append(("get_consent_status", {}))
        ok = ChannelStatus(can_receive_marketing=False, can_receive_transactional=True)
        return ConsentStatus(contact_id=contact_id, sms=ok, email=ok)

    def send_message_safely(self, **kwargs: Any) -> SendOutcome:
        self.calls.append(("send_message_safely", kwargs))
        return SendOutcome(status="sent", attempts=1)

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]


def _recorded(status: str = "subscribed") -> ConsentHistoryEvent:
    return ConsentHistoryEvent(
        id=1,
        channel="sms",
        status=status,
        source="webform",
        event_timestamp=CONSENT_AT.replace(microsecond=0),
    )


def _signup_plan():
    event = parse_canonical_event(
        {
            "type": "contact.upsert",
            "event_id": "signup:ref-1",
            "occurred_at": NOW.isoformat(),
            "person": {"phone": PHONE},
            "sms_consent": {
                "status": "subscribed",
                "timestamp": CONSENT_AT.isoformat(),
                "source": "webform",
                "consent_text": "Texts",
            },
        }
    )
    return plan(event, MappingSettings())


def _run(nomi: Nomi, store: InMemoryCheckpoints | None = None):
    return Executor(nomi, store or InMemoryCheckpoints(), clock=lambda: NOW).run(_signup_plan())


def test_hostile_regression_consent_applied_by_a_lost_create_is_not_recorded_again():
    # The create applied the consent and its answer was lost: the client raises (it does not retry a
    # create that carries consent), the executor asks again and finds the fact in NOMI's log.
    lost = AmbiguousSendError("read timeout", attempted_at=NOW)
    nomi = Nomi(created_at=NOW - timedelta(seconds=2), history=[_recorded()], create_errors=[lost])
    outcome = _run(nomi)
    assert nomi.names() == ["create_contact", "create_contact", "get_consent_history"]
    assert [s.status for s in outcome.steps] == ["done", "done"]


def test_hostile_regression_create_with_consent_asks_the_client_not_to_retry_blindly():
    nomi = Nomi(created_at=NOW - timedelta(days=30), history=[])
    _run(nomi)
    assert nomi.calls[0][1]["retry_unknown_outcome"] is False


@pytest.mark.parametrize("age", [timedelta(seconds=2), timedelta(days=30)])
def test_hostile_regression_consent_for_an_existing_contact_costs_no_extra_call(age):
    # However recently NOMI created it: without an earlier attempt of this consent, it is not ours.
    nomi = Nomi(created_at=NOW - age, history=[])
    _run(nomi)
    assert nomi.names() == ["create_contact", "record_consent"]


def test_hostile_regression_ambiguous_consent_post_found_in_history_is_done():
    ambiguous = AmbiguousSendError("timeout", attempted_at=NOW)
    nomi = Nomi(created_at=NOW - timedelta(days=30), history=[_recorded()], consent_error=ambiguous)
    outcome = _run(nomi)
    assert nomi.names() == ["create_contact", "record_consent", "get_consent_history"]
    assert outcome.steps[-1].status == "done"


def test_hostile_regression_ambiguous_consent_post_not_in_history_is_retried_after_a_check():
    store = InMemoryCheckpoints()
    ambiguous = AmbiguousSendError("timeout", attempted_at=NOW)
    first = Nomi(created_at=NOW - timedelta(days=30), history=[], consent_error=ambiguous)
    with pytest.raises(AmbiguousSendError):
        _run(first, store)
    retry = Nomi(created_at=NOW - timedelta(days=30), history=[_recorded()])
    _run(retry, store)
    # The upsert (no checkpoint) is repeated; the claimed consent is looked up, not resent.
    assert retry.names() == ["create_contact", "get_consent_history"]


def test_hostile_regression_send_lookup_matches_this_parcel_not_the_template():
    event = parse_canonical_event(
        {
            "type": "order.shipped",
            "event_id": "wms:2",
            "occurred_at": NOW.isoformat(),
            "order_id": "1",
            "order_name": "#1042",
            "shipment_id": "parcel-2",
            "person": {"phone": PHONE, "first_name": "Ann"},
            "tracking_numbers": ["TRACK-2"],
            "tracking_urls": ["https://track.example.com/TRACK-2"],
            "carrier": "UPS",
        }
    )
    nomi = Nomi(created_at=NOW - timedelta(days=30), history=[])
    Executor(nomi, InMemoryCheckpoints(), clock=lambda: NOW).run(plan(event, MappingSettings()))
    (send,) = [kwargs for name, kwargs in nomi.calls if name == "send_message_safely"]
    # The gateway renders this parcel's text and sends it literal; the lookup looks for that text.
    rendered = "Hi Ann, your order #1042 has shipped. Track it: https://track.example.com/TRACK-2"
    assert send["message"] == rendered
    assert send["expected"] == rendered


def test_hostile_regression_client_does_not_retry_a_consent_post_after_a_500():
    requests: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(500, json={"success": False, "data": [], "message": "Server Error"})

    client = NomiClient(
        api_key="k",
        base_url="http://nomi.test",
        http_client=httpx.Client(transport=httpx.MockTransport(answer)),
        sleep=lambda _: None,
    )
    with pytest.raises(AmbiguousSendError):
        client.record_consent(7, channel="sms", status="subscribed", source="webform", timestamp=NOW)
    assert len(requests) == 1


def test_hostile_regression_retry_of_an_attempt_that_claimed_only_its_upsert_checks_the_log():
    # An attempt before this release claimed the upsert (not its consent steps) and kept that claim
    # when the create carrying consent failed: its redelivery must still look before recording.
    from processor.plan import UpsertContact

    store = InMemoryCheckpoints()
    event_plan = _signup_plan()
    (upsert,) = [s for s in event_plan.steps if isinstance(s, UpsertContact)]
    store.claim(f"{event_plan.event_id}#{upsert.key}", owner=event_plan.event_id, now=NOW, fact=False)
    nomi = Nomi(created_at=NOW - timedelta(hours=20), history=[_recorded()])
    Executor(nomi, store, clock=lambda: NOW).run(event_plan, redelivery=True)
    assert nomi.names() == ["create_contact", "get_consent_history"]


def test_hostile_regression_send_looked_up_from_the_first_attempt_after_a_failed_retry():
    # Attempt 1: the send's answer is lost (it may have gone out). Attempt 2 takes the claim over and
    # fails on the consent check before sending. Attempt 3 must look for the SMS from attempt 1's time.
    from nomi_client.errors import ServerError

    class Flaky(Nomi):
        def __init__(self) -> None:
            super().__init__(created_at=NOW - timedelta(days=30), history=[])
            self.sends = [AmbiguousSendError("read timeout", attempted_at=NOW)]
            self.statuses = [None, ServerError("down", status_code=503)]

        def send_message_safely(self, **kwargs: Any) -> SendOutcome:
            outcome = super().send_message_safely(**kwargs)
            if self.sends:
                raise self.sends.pop(0)
            return outcome

        def get_consent_status(self, contact_id: int) -> Any:
            error = self.statuses.pop(0) if self.statuses else None
            if error is not None:
                raise error
            return super().get_consent_status(contact_id)

    event = parse_canonical_event(
        {
            "type": "order.shipped",
            "event_id": "wms:3",
            "occurred_at": NOW.isoformat(),
            "order_id": "1",
            "shipment_id": "parcel-3",
            "person": {"phone": PHONE},
            "tracking_numbers": ["T-3"],
        }
    )
    event_plan = plan(event, MappingSettings())
    store, nomi = InMemoryCheckpoints(), Flaky()
    for minutes in (0, 5):
        with pytest.raises((AmbiguousSendError, ServerError)):
            Executor(nomi, store, clock=lambda m=minutes: NOW + timedelta(minutes=m)).run(event_plan)
    Executor(nomi, store, clock=lambda: NOW + timedelta(minutes=20)).run(event_plan)
    sends = [kwargs for name, kwargs in nomi.calls if name == "send_message_safely"]
    assert sends[-1]["attempted_since"] == NOW
