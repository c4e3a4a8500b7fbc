"""Failure classification of one record: permanent → DLQ with attributes; transient → retry with backoff."""

from __future__ import annotations

import pytest
from processor_fakes import (
    NOW,
    FakeNomi,
    as_record,
    canonical_body,
    envelope_body,
    make_worker,
    person,
    shipped,
)

from nomi_client.errors import AuthenticationError, RateLimitError, ServerError, ValidationError
from processor.dlq import InMemoryDeadLetters
from processor.errors import TransientEventError
from processor.record import identity_of, is_permanent, queue_url


class FakeSqs:
    def __init__(self) -> None:
        self.visibility: list[dict] = []

    def change_message_visibility(self, **kwargs) -> None:
        self.visibility.append(kwargs)


def _worker(nomi=None, **kwargs):
    dlq = InMemoryDeadLetters()
    sqs = FakeSqs()
    return make_worker(nomi or FakeNomi(), dead_letters=dlq, sqs=sqs, **kwargs), dlq, sqs


def test_record_not_json_goes_to_dlq_with_attributes():
    worker, dlq, _ = _worker()
    result = worker.handle(as_record("not json", attributes={"source": "shopify", "event_id": "wh-1"}))
    assert result["dead_lettered"] is True
    letter = dlq.letters[0]
    attributes = {k: v["StringValue"] for k, v in letter.attributes().items()}
    assert attributes["error_type"] == "EnvelopeError"
    assert attributes["source"] == "shopify"
    assert attributes["event_id"] == "wh-1"
    assert attributes["failed_at"] == NOW.isoformat()
    assert "not JSON" in attributes["error_reason"]
    assert letter.body == "not json"


def test_unsupported_source_goes_to_dlq_at_once():
    worker, dlq, sqs = _worker()
    worker.handle(as_record(envelope_body("eventbridge", "Order Created", {"source": "acme", "detail": {}})))
    assert dlq.letters[0].error_type == "UnsupportedEventError"
    assert sqs.visibility == []


def test_unhandled_shopify_topic_is_acknowledged_not_dead_lettered():
    worker, dlq, sqs = _worker()
    result = worker.handle(as_record(envelope_body("shopify", "carts/create", {"id": 1})))
    assert (result["acknowledged"], dlq.letters, sqs.visibility) == (True, [], [])
    assert worker.stats.skips["unhandled_topic"] == 1
    assert worker.stats.events[("shopify", "carts/create", "acknowledged")] == 1


def test_invalid_phone_goes_to_dlq_with_masked_reason():
    worker, dlq, _ = _worker()
    contact = {
        "type": "contact.upsert",
        "event_id": "c-bad-phone",
        "occurred_at": NOW.isoformat(),
        "person": person("+1 312 555 0142 999"),
    }
    worker.handle(as_record(canonical_body(contact)))
    assert dlq.letters[0].error_type == "PhoneNumberError"
    assert "0142" not in dlq.letters[0].error_reason


def test_nomi_rejection_4xx_goes_to_dlq():
    nomi = FakeNomi()
    nomi.fail["create_contact"] = [ValidationError("bad field", status_code=400)]
    worker, dlq, _ = _worker(nomi)
    worker.handle(as_record(canonical_body(shipped())))
    assert dlq.letters[0].error_type == "ValidationError"
    assert dlq.letters[0].event_id == "ship-evt-1"


def test_rate_limit_fails_record_with_growing_visibility_delay():
    nomi = FakeNomi()
    nomi.fail["create_contact"] = [RateLimitError("slow down"), RateLimitError("slow down")]
    worker, dlq, sqs = _worker(nomi)
    for receives in (1, 3):
        with pytest.raises(TransientEventError):
            worker.handle(as_record(canonical_body(shipped()), receive_count=receives))
    assert [v["VisibilityTimeout"] for v in sqs.visibility] == [60, 240]
    assert sqs.visibility[0]["QueueUrl"] == "https://sqs.us-east-1.amazonaws.com/123456789012/events"
    assert dlq.letters == []


def test_retry_after_longer_than_backoff_is_honoured():
    nomi = FakeNomi()
    nomi.fail["create_contact"] = [RateLimitError("slow down", retry_after=90)]
    worker, _, sqs = _worker(nomi)
    with pytest.raises(TransientEventError):
        worker.handle(as_record(canonical_body(shipped())))
    assert sqs.visibility[0]["VisibilityTimeout"] == 91


def test_backoff_is_capped():
    nomi = FakeNomi()
    nomi.fail["create_contact"] = [ServerError("down", status_code=503)]
    worker, _, sqs = _worker(nomi)
    with pytest.raises(TransientEventError):
        worker.handle(as_record(canonical_body(shipped()), receive_count=12))
    assert sqs.visibility[0]["VisibilityTimeout"] == 7200


def test_unknown_exception_is_transient_not_a_crash():
    nomi = FakeNomi()
    nomi.fail["create_contact"] = [RuntimeError("surprise")]
    worker, dlq, _ = _worker(nomi)
    with pytest.raises(TransientEventError):
        worker.handle(as_record(canonical_body(shipped())))
    assert dlq.letters == []


def test_dlq_send_failure_turns_permanent_into_retry():
    class BrokenDlq:
        def send(self, letter):
            raise OSError("sqs down")

    worker = make_worker(FakeNomi(), dead_letters=BrokenDlq())
    with pytest.raises(TransientEventError):
        worker.handle(as_record("not json"))


@pytest.mark.parametrize(
    ("error", "permanent"),
    [
        (ServerError("x", status_code=500), False),
        (RateLimitError("x"), False),
        (AuthenticationError("x", status_code=401), False),
        (ValidationError("x", status_code=400), True),
        (TransientEventError("x"), False),
        (KeyError("x"), False),
    ],
)
def test_is_permanent_classifies_errors(error, permanent):
    assert is_permanent(error) is permanent


def test_identity_of_shopify_uses_event_id_and_topic():
    from gateway_events import parse_queue_message

    body = envelope_body(
        "shopify", "orders/paid", {"id": 1}, event_id="wh-1", headers={"x-shopify-event-id": "ev-9"}
    )
    assert identity_of(parse_queue_message(body)) == "shopify:event:ev-9:orders/paid"


def test_identity_of_stripe_uses_event_id_not_message_id():
    from gateway_events import parse_queue_message

    body = envelope_body("stripe", "customer.created", {"id": "evt_1"}, event_id="evt_1")
    assert identity_of(parse_queue_message(body)) == "stripe:evt_1"


def test_queue_url_from_arn():
    assert (
        queue_url("arn:aws:sqs:eu-west-1:111122223333:q")
        == "https://sqs.eu-west-1.amazonaws.com/111122223333/q"
    )
