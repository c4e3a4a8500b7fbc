"""Round trips: completions buffered per record and written with the idempotency record's own write."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
from processor_fakes import dynamodb_calls

from processor.checkpoints import DynamoDBCheckpoints, StepDoneError
from processor.idempotency import CheckpointingPersistenceLayer

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(idempotency_table):
    return DynamoDBCheckpoints("idem", client=idempotency_table)


def _item(client: Any, key: str) -> dict[str, Any] | None:
    return client.get_item(TableName="idem", Key={"id": {"S": key}}).get("Item")


def test_checkpoint_completion_in_a_unit_of_work_is_written_when_it_ends(store, idempotency_table):
    with store.unit_of_work():
        store.claim("shipment:1:sms", owner="a", now=T0, fact=True)
        store.complete("shipment:1:sms", owner="a", result={"status": "sent"}, fact=True)
        assert _item(idempotency_table, "step#shipment:1:sms")["state"]["S"] == "attempted"
    assert _item(idempotency_table, "step#shipment:1:sms")["state"]["S"] == "done"


def test_checkpoint_buffered_completion_reads_back_as_done_within_the_unit(store):
    with store.unit_of_work():
        store.complete("order:1:conversion", owner="a", result={"n": 1}, fact=True)
        assert store.get("order:1:conversion").result == {"n": 1}
        with pytest.raises(StepDoneError) as done:
            store.claim("order:1:conversion", owner="b", now=T0, fact=True)
    assert done.value.checkpoint.state == "done"


def _sms_sent_then_a_later_step_fails(store: DynamoDBCheckpoints) -> None:
    with store.unit_of_work():
        store.claim("shipment:1:sms", owner="a", now=T0, fact=True)
        store.complete("shipment:1:sms", owner="a", result={}, fact=True)
        raise RuntimeError("a later step failed")


def test_checkpoint_unit_of_work_failing_still_writes_the_steps_done_before(store, idempotency_table):
    with pytest.raises(RuntimeError):
        _sms_sent_then_a_later_step_fails(store)
    assert _item(idempotency_table, "step#shipment:1:sms")["state"]["S"] == "done"


def test_checkpoint_completions_ride_with_the_idempotency_record_in_one_request(store, idempotency_table):
    persistence = CheckpointingPersistenceLayer(store)
    record = DataRecord(
        idempotency_key="processor#k", status="COMPLETED", expiry_timestamp=2_000_000_000, response_data="{}"
    )
    with store.unit_of_work():
        store.complete("shipment:1:sms", owner="a", result={}, fact=True)
        store.complete("a#shipment:1:vars", owner="a", result={}, fact=False)
        with dynamodb_calls() as calls:
            persistence._update_record(record)
        assert calls == Counter({"BatchWriteItem": 1})
    assert _item(idempotency_table, "processor#k")["status"]["S"] == "COMPLETED"
    assert _item(idempotency_table, "step#shipment:1:sms")["state"]["S"] == "done"
    assert _item(idempotency_table, "step#a#shipment:1:vars")["state"]["S"] == "done"


def test_checkpoint_failed_record_deletion_carries_the_completions(store, idempotency_table):
    persistence = CheckpointingPersistenceLayer(store)
    idempotency_table.put_item(
        TableName="idem", Item={"id": {"S": "processor#k"}, "status": {"S": "INPROGRESS"}}
    )
    with store.unit_of_work():
        store.complete("shipment:1:sms", owner="a", result={}, fact=True)
        persistence._delete_record(DataRecord(idempotency_key="processor#k", status="INPROGRESS"))
    assert _item(idempotency_table, "processor#k") is None
    assert _item(idempotency_table, "step#shipment:1:sms")["state"]["S"] == "done"


def test_checkpoint_forget_writes_buffered_items_first_so_they_are_deleted_too(store, idempotency_table):
    key = "consent:phone:" + "a" * 64 + ":sms:t"
    with store.unit_of_work():
        store.complete(key, owner="a", result={}, fact=True)
        assert store.forget(("phone:" + "a" * 64,)) == 1
    assert _item(idempotency_table, f"step#{key}") is None


class _FailingWrites:
    """The moto client, except that batch writes (the record's last write) fail as throttling does."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def batch_write_item(self, **_: Any) -> Any:
        raise RuntimeError("ProvisionedThroughputExceeded")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def _completion_write_fails(store: DynamoDBCheckpoints, persistence: CheckpointingPersistenceLayer) -> None:
    record = DataRecord(idempotency_key="processor#k", status="COMPLETED", expiry_timestamp=2_000_000_000)
    with store.unit_of_work():
        store.claim("order:1:conversion", owner="a", now=T0, fact=True)
        store.complete("order:1:conversion", owner="a", result={}, fact=True)
        store.complete("order:1:buyer", owner="buyer-memory", result={}, fact=True)
        persistence._update_record(record)


def test_checkpoint_failed_last_write_keeps_the_completions_for_the_failure_path(idempotency_table):
    store = DynamoDBCheckpoints("idem", client=_FailingWrites(idempotency_table))
    with pytest.raises(RuntimeError):
        _completion_write_fails(store, CheckpointingPersistenceLayer(store))
    # The batch failed; leaving the unit wrote the two completions one request each instead.
    assert _item(idempotency_table, "step#order:1:conversion")["state"]["S"] == "done"
    assert _item(idempotency_table, "step#order:1:buyer")["state"]["S"] == "done"


def test_checkpoint_immediate_completion_is_written_inside_a_unit_of_work(store, idempotency_table):
    # The remembered buyer: a fulfillment processed at the same moment on another thread reads it.
    with store.unit_of_work():
        store.complete("order:1:buyer", owner="buyer-memory", result={}, fact=True, immediate=True)
        assert _item(idempotency_table, "step#order:1:buyer")["state"]["S"] == "done"
