"""The batch: records worked concurrently (bounded), serialised per contact, partial failures reported."""

from __future__ import annotations

from aws_lambda_powertools.utilities.batch import EventType, process_partial_response
from processor_fakes import FakeNomi, canonical_body, make_worker, shipped, sqs_record

from nomi_client.errors import ServerError
from processor.batch import ConcurrentBatchProcessor, group_by_key


def _run_batch(worker, records, *, max_workers):
    processor = ConcurrentBatchProcessor(
        EventType.SQS,
        max_workers=max_workers,
        key_of=lambda raw: worker.contact_key(_wrap(raw)),
        raise_on_entire_batch_failure=False,
    )
    return process_partial_response(
        event={"Records": records}, record_handler=worker.handle, processor=processor, context=None
    )


def _wrap(raw):
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    return SQSRecord(raw)


def _independent(n):
    return [
        sqs_record(
            canonical_body(shipped(event_id=f"e-{i}", shipment_id=f"F-{i}", phone=f"+1555555{i:04d}")),
            message_id=f"m-{i}",
        )
        for i in range(n)
    ]


def test_batch_independent_records_run_concurrently():
    nomi = FakeNomi(delay=0.05)
    _run_batch(make_worker(nomi), _independent(8), max_workers=8)
    assert nomi.max_in_flight > 1
    assert len(nomi.messages) == 8


def test_batch_concurrency_is_bounded_by_max_workers():
    nomi = FakeNomi(delay=0.02)
    _run_batch(make_worker(nomi), _independent(12), max_workers=3)
    assert 1 < nomi.max_in_flight <= 3


def test_batch_records_of_one_contact_are_serialised_in_batch_order():
    nomi = FakeNomi(delay=0.01)
    records = [
        sqs_record(
            canonical_body(shipped(event_id=f"e-{i}", shipment_id=f"F-{i}", tracking_numbers=[f"T{i}"])),
            message_id=f"m-{i}",
        )
        for i in range(4)
    ]
    _run_batch(make_worker(nomi), records, max_workers=4)
    assert nomi.max_in_flight == 1
    assert [m["phone"] for m in nomi.messages] == ["+15555550100"] * 4
    assert nomi.contacts["+15555550100"]["custom_variables"]["tracking_number"] == "T3"


def test_batch_reports_only_transient_failures_as_item_failures():
    nomi = FakeNomi()
    nomi.fail["create_contact"] = [ServerError("down", status_code=503)]
    records = [
        sqs_record(canonical_body(shipped(event_id="bad")), message_id="m-transient"),
        sqs_record("not json", message_id="m-permanent"),
    ]
    response = _run_batch(make_worker(nomi), records, max_workers=1)
    assert response == {"batchItemFailures": [{"itemIdentifier": "m-transient"}]}


def test_group_by_key_keeps_batch_order_and_isolates_unknown_keys():
    records = [{"k": "a"}, {"k": None}, {"k": "b"}, {"k": "a"}]
    assert group_by_key(records, lambda r: r["k"]) == [[0, 3], [1], [2]]
