"""DynamoDB checkpoints on moto: conditional claims, completion, release, consent compare-and-set."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from processor_fakes import dynamodb_calls

from processor.checkpoints import DynamoDBCheckpoints, InMemoryCheckpoints, StepBusyError, StepDoneError

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture
def dynamo_store(idempotency_table):
    return DynamoDBCheckpoints("idem", client=idempotency_table)


@pytest.fixture(params=["memory", "dynamodb"])
def store(request):
    if request.param == "memory":
        return InMemoryCheckpoints()
    return request.getfixturevalue("dynamo_store")


def test_checkpoint_fresh_claim_returns_none_and_marks_attempted(store):
    assert store.claim("shipment:1:sms", owner="a", now=T0, fact=True) is None
    assert store.get("shipment:1:sms").state == "attempted"


def test_checkpoint_claim_of_done_step_raises_done(store):
    store.claim("k", owner="a", now=T0, fact=True)
    store.complete("k", owner="a", result={"contact_id": 7}, fact=True)
    with pytest.raises(StepDoneError):
        store.claim("k", owner="b", now=T0, fact=True)
    assert store.get("k").result == {"contact_id": 7}


def test_checkpoint_completed_without_claim_reads_back_as_done(store):
    store.complete("consent:+15555550100:email:t", owner="a", result={}, fact=True)
    with pytest.raises(StepDoneError):
        store.claim("consent:+15555550100:email:t", owner="b", now=T0, fact=True)
    assert store.get("consent:+15555550100:email:t").state == "done"


def test_checkpoint_own_earlier_attempt_is_taken_over_with_its_time(store):
    store.claim("k", owner="a", now=T0, fact=True)
    previous = store.claim("k", owner="a", now=T0 + timedelta(seconds=30), fact=True)
    assert previous.state == "attempted"
    assert previous.attempted_at == T0


def test_checkpoint_takeover_of_a_takeover_still_reports_the_first_attempt(store):
    # Attempt 1 may have sent; attempt 2 took over and failed before sending; attempt 3 must search
    # NOMI's log from attempt 1's time, not attempt 2's.
    store.claim("k", owner="a", now=T0, fact=True)
    store.claim("k", owner="a", now=T0 + timedelta(minutes=1), fact=True)
    previous = store.claim("k", owner="a", now=T0 + timedelta(minutes=3), fact=True)
    assert previous.attempted_at == T0 + timedelta(minutes=1)
    assert previous.attempted_since == T0


def test_checkpoint_foreign_fresh_attempt_is_busy(store):
    store.claim("k", owner="a", now=T0, fact=True)
    with pytest.raises(StepBusyError):
        store.claim("k", owner="b", now=T0 + timedelta(minutes=1), fact=True)


def test_checkpoint_foreign_stale_attempt_is_taken_over(store):
    store.claim("k", owner="a", now=T0, fact=True)
    previous = store.claim("k", owner="b", now=T0 + timedelta(minutes=20), fact=True)
    assert previous.owner == "a"


def test_checkpoint_release_drops_only_own_attempt(store):
    store.claim("k", owner="a", now=T0, fact=True)
    store.release("k", owner="b")
    assert store.get("k") is not None
    store.release("k", owner="a")
    assert store.get("k") is None


def test_consent_compare_and_set_keeps_newest(store):
    assert store.advance_consent("+15555550100", "sms", T0) is True
    assert store.advance_consent("+15555550100", "sms", T0 - timedelta(hours=1)) is False
    assert store.advance_consent("+15555550100", "sms", T0) is True  # a retry of the same fact
    assert store.advance_consent("+15555550100", "email", T0 - timedelta(hours=1)) is True


def test_dynamodb_checkpoint_items_carry_ttl(dynamo_store):
    dynamo_store.claim("k", owner="a", now=T0, fact=False)
    item = dynamo_store._client.get_item(TableName="idem", Key={"id": {"S": "step#k"}})["Item"]
    assert int(item["expiration"]["N"]) > T0.timestamp()


def test_dynamodb_checkpoint_fresh_claim_costs_one_put(dynamo_store):
    with dynamodb_calls() as calls:
        dynamo_store.claim("shipment:1:sms", owner="a", now=T0, fact=True)
    assert calls == Counter({"PutItem": 1})


def test_dynamodb_checkpoint_takeover_costs_a_second_put_and_keeps_the_first_time(dynamo_store):
    dynamo_store.claim("k", owner="a", now=T0, fact=True)
    with dynamodb_calls() as calls:
        dynamo_store.claim("k", owner="b", now=T0 + timedelta(minutes=20), fact=True)
    assert calls == Counter({"PutItem": 2})
    taken = dynamo_store.get("k")
    assert (taken.owner, taken.attempted_at, taken.attempted_since) == ("b", T0 + timedelta(minutes=20), T0)


class _ClaimedInBetween:
    """The moto client, except that another event claims the step between our refused put and our
    takeover (two processors retrying the same fact at the same moment)."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._raced = False

    def put_item(self, **kwargs: Any) -> Any:
        if kwargs.get("ConditionExpression", "").startswith("#s = :attempted") and not self._raced:
            self._raced = True
            DynamoDBCheckpoints("idem", client=self._client).claim(
                "k", owner="c", now=T0 + timedelta(minutes=20), fact=True
            )
        return self._client.put_item(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def test_dynamodb_checkpoint_takeover_raced_by_another_claim_is_busy(idempotency_table):
    DynamoDBCheckpoints("idem", client=idempotency_table).claim("k", owner="a", now=T0, fact=True)
    store = DynamoDBCheckpoints("idem", client=_ClaimedInBetween(idempotency_table))
    with pytest.raises(StepBusyError):
        store.claim("k", owner="b", now=T0 + timedelta(minutes=20), fact=True)
    assert store.get("k").owner == "c"  # the other event's claim stands


class _CompletedInBetween(_ClaimedInBetween):
    """The earlier attempt's event completes the step between our refused put and our takeover."""

    def put_item(self, **kwargs: Any) -> Any:
        if kwargs.get("ConditionExpression", "").startswith("#s = :attempted") and not self._raced:
            self._raced = True
            DynamoDBCheckpoints("idem", client=self._client).complete("k", owner="a", result={}, fact=True)
        return self._client.put_item(**kwargs)


def test_dynamodb_checkpoint_takeover_of_a_step_completed_meanwhile_is_done(idempotency_table):
    DynamoDBCheckpoints("idem", client=idempotency_table).claim("k", owner="a", now=T0, fact=True)
    store = DynamoDBCheckpoints("idem", client=_CompletedInBetween(idempotency_table))
    with pytest.raises(StepDoneError):
        store.claim("k", owner="b", now=T0 + timedelta(minutes=20), fact=True)
    assert store.get("k").state == "done"


def test_dynamodb_checkpoint_takeover_of_an_item_without_first_time_keeps_its_attempt_time(dynamo_store):
    # A claim written before first_attempted_at existed: its own attempt time is where a lookup starts.
    dynamo_store._client.put_item(
        TableName="idem",
        Item={
            "id": {"S": "step#k"},
            "state": {"S": "attempted"},
            "owner": {"S": "a"},
            "attempted_at": {"N": str(int(T0.timestamp() * 1_000_000))},
            "expiration": {"N": "2000000000"},
        },
    )
    previous = dynamo_store.claim("k", owner="b", now=T0 + timedelta(minutes=20), fact=True)
    assert previous.attempted_since == T0
    assert dynamo_store.get("k").attempted_since == T0


def test_dynamodb_checkpoint_takeover_keeps_the_person_attribute(dynamo_store):
    key = "consent:phone:" + "a" * 64 + ":sms:t"
    dynamo_store.claim(key, owner="a", now=T0, fact=True)
    dynamo_store.claim(key, owner="a", now=T0 + timedelta(minutes=1), fact=True)
    item = dynamo_store._client.get_item(TableName="idem", Key={"id": {"S": f"step#{key}"}})["Item"]
    assert item["person"]["S"] == "phone:" + "a" * 64


PHONE_KEY = "phone:" + "a" * 64
EMAIL_KEY = "email:" + "b" * 64
OTHER_KEY = "phone:" + "c" * 64


def test_checkpoint_latest_consent_is_none_until_advanced(store):
    assert store.latest_consent(PHONE_KEY, "sms") is None
    store.advance_consent(PHONE_KEY, "sms", T0)
    assert store.latest_consent(PHONE_KEY, "sms") == T0


def test_checkpoint_forget_deletes_only_that_persons_items(store):
    for key in (f"consent:{PHONE_KEY}:sms:t", f"evt#contact:{EMAIL_KEY}", f"consent:{OTHER_KEY}:sms:t"):
        store.complete(key, owner="a", result={}, fact=True)
    store.claim(f"consent:{PHONE_KEY}:email:t2", owner="a", now=T0, fact=True)
    store.advance_consent(PHONE_KEY, "sms", T0)
    store.advance_consent(OTHER_KEY, "sms", T0)
    assert store.forget((PHONE_KEY, EMAIL_KEY)) == 4
    assert store.get(f"consent:{PHONE_KEY}:sms:t") is None
    assert store.get(f"consent:{PHONE_KEY}:email:t2") is None
    assert store.latest_consent(PHONE_KEY, "sms") is None
    assert store.get(f"consent:{OTHER_KEY}:sms:t").state == "done"
    assert store.latest_consent(OTHER_KEY, "sms") == T0


def test_checkpoint_forget_deletes_item_completed_for_a_named_person(store):
    # The remembered buyer of an order is keyed on the order, not on the person it describes.
    store.complete(
        "order:1001:buyer", owner="buyer-memory", result={"phone": "+1"}, fact=True, person=PHONE_KEY
    )
    store.complete(
        "order:1002:buyer", owner="buyer-memory", result={"phone": "+2"}, fact=True, person=OTHER_KEY
    )
    assert store.forget((PHONE_KEY,)) == 1
    assert store.get("order:1001:buyer") is None
    assert store.get("order:1002:buyer").state == "done"
