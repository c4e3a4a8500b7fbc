"""The SQS event source mapping: event shape, partial batch failures, batching (in-memory SQS)."""

import json

import pytest

from local.poller import InvalidBatchResponseError, SqsPoller, build_sqs_event, failed_message_ids
from local.template import SqsSourceSpec

ARN = "arn:aws:sqs:us-east-1:123456789012:events"


class FakeSqs:
    """Just enough of the SQS client: receive (in batches of `per_receive`) and delete."""

    def __init__(self, bodies, per_receive=10):
        self.messages = [
            {
                "MessageId": f"m{i}",
                "ReceiptHandle": f"r{i}",
                "Body": json.dumps(body),
                "MD5OfBody": "md5",
                "Attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1700000000000"},
                "MessageAttributes": {"source": {"DataType": "String", "StringValue": "shopify"}},
            }
            for i, body in enumerate(bodies)
        ]
        self.per_receive = per_receive
        self.deleted = []
        self.receives = []

    def receive_message(self, **kwargs):
        self.receives.append(kwargs)
        count = min(kwargs["MaxNumberOfMessages"], self.per_receive)
        batch, self.messages = self.messages[:count], self.messages[count:]
        return {"Messages": batch} if batch else {}

    def delete_message_batch(self, QueueUrl, Entries):
        self.deleted.extend(entry["ReceiptHandle"] for entry in Entries)


def _poller(sqs, handler, *, batch_size=10, window=0, report=True):
    source = SqsSourceSpec(
        function_id="Worker",
        queue={},
        batch_size=batch_size,
        maximum_batching_window_seconds=window,
        function_response_types=("ReportBatchItemFailures",) if report else (),
    )
    return SqsPoller(sqs=sqs, queue_url="url", queue_arn=ARN, source=source, invoke=handler, wait_seconds=0)


def _failing(bodies_to_fail):
    def handler(event):
        return {
            "batchItemFailures": [
                {"itemIdentifier": r["messageId"]}
                for r in event["Records"]
                if json.loads(r["body"]) in bodies_to_fail
            ]
        }

    return handler


def test_build_sqs_event_has_lambda_record_shape():
    sqs = FakeSqs([{"a": 1}])
    (record,) = build_sqs_event(sqs.messages, queue_arn=ARN)["Records"]
    assert record["messageId"] == "m0"
    assert record["receiptHandle"] == "r0"
    assert record["body"] == '{"a": 1}'
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert record["messageAttributes"] == {
        "source": {
            "stringValue": "shopify",
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "String",
        }
    }
    assert (record["eventSource"], record["eventSourceARN"], record["awsRegion"]) == (
        "aws:sqs",
        ARN,
        "us-east-1",
    )


def test_failed_message_ids_empty_answers_mean_success():
    assert failed_message_ids(None, ["m0"]) == set()
    assert failed_message_ids({"batchItemFailures": []}, ["m0"]) == set()


def test_failed_message_ids_unknown_identifier_fails_the_batch():
    with pytest.raises(InvalidBatchResponseError):
        failed_message_ids({"batchItemFailures": [{"itemIdentifier": "other"}]}, ["m0"])


def test_poll_once_deletes_only_the_successful_records():
    sqs = FakeSqs([{"n": 0}, {"n": 1}, {"n": 2}])
    result = _poller(sqs, _failing([{"n": 1}])).poll_once()
    assert sqs.deleted == ["r0", "r2"]
    assert [m["MessageId"] for m in result.failed] == ["m1"]


def test_poll_once_handler_exception_deletes_nothing():
    sqs = FakeSqs([{"n": 0}, {"n": 1}])

    def handler(event):
        raise RuntimeError("boom")

    result = _poller(sqs, handler).poll_once()
    assert sqs.deleted == []
    assert result.error == "RuntimeError: boom"


def test_poll_once_invalid_item_identifier_deletes_nothing():
    sqs = FakeSqs([{"n": 0}])
    result = _poller(sqs, lambda _event: {"batchItemFailures": [{"itemIdentifier": ""}]}).poll_once()
    assert (sqs.deleted, len(result.failed)) == ([], 1)


def test_poll_once_without_report_batch_item_failures_ignores_the_answer():
    sqs = FakeSqs([{"n": 0}])
    _poller(sqs, _failing([{"n": 0}]), report=False).poll_once()
    assert sqs.deleted == ["r0"]


def test_poll_once_empty_queue_invokes_nothing():
    calls = []
    assert _poller(FakeSqs([]), calls.append).poll_once() is None
    assert calls == []


def test_receive_batch_asks_for_all_attributes_and_at_most_batch_size():
    sqs = FakeSqs([{"n": i} for i in range(3)])
    _poller(sqs, _failing([]), batch_size=2).poll_once()
    receive = sqs.receives[0]
    assert receive["MaxNumberOfMessages"] == 2
    assert receive["AttributeNames"] == ["All"]
    assert receive["MessageAttributeNames"] == ["All"]


def test_receive_batch_gathers_within_the_batching_window():
    sqs = FakeSqs([{"n": i} for i in range(5)], per_receive=2)
    seen = []
    _poller(sqs, lambda event: seen.append(len(event["Records"])), batch_size=5, window=5).poll_once()
    assert seen == [5]


def test_receive_batch_without_window_takes_one_receive():
    sqs = FakeSqs([{"n": i} for i in range(5)], per_receive=2)
    seen = []
    _poller(sqs, lambda event: seen.append(len(event["Records"])), batch_size=5).poll_once()
    assert seen == [2]
