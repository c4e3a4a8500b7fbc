"""Powertools' idempotency record, written together with the steps' checkpoints.

Powertools writes an event's record twice: INPROGRESS before the work (a conditional PutItem that
must stay its own request: it is what stops a second delivery) and COMPLETED after it, or it deletes
the record when the work failed. That second write carries the step completions the executor
buffered meanwhile (`DynamoDBCheckpoints.unit_of_work`), so that they cost no request of their own.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

from processor.checkpoints import DynamoDBCheckpoints


class CheckpointingPersistenceLayer(DynamoDBPersistenceLayer):
    """Powertools' DynamoDB layer on the checkpoints' table whose completion and deletion of the
    record are written in the same request as this thread's buffered step completions."""

    def __init__(self, checkpoints: DynamoDBCheckpoints) -> None:
        super().__init__(table_name=checkpoints.table_name, boto3_client=checkpoints.client)
        self._checkpoints = checkpoints

    def _update_record(self, data_record: DataRecord) -> None:
        # The whole COMPLETED item (a batch write puts, it cannot update): what Powertools' own
        # update leaves in it, less the in-progress expiry, which a completed record no longer needs.
        item: dict[str, Any] = {
            **self._get_key(data_record.idempotency_key),
            self.expiry_attr: {"N": str(data_record.expiry_timestamp)},
            self.status_attr: {"S": data_record.status},
            self.data_attr: {"S": data_record.response_data},
        }
        if self.payload_validation_enabled and data_record.payload_hash:
            item[self.validation_key_attr] = {"S": data_record.payload_hash}
        self._checkpoints.flush({"PutRequest": {"Item": item}})

    def _delete_record(self, data_record: DataRecord) -> None:
        self._checkpoints.flush({"DeleteRequest": {"Key": self._get_key(data_record.idempotency_key)}})
