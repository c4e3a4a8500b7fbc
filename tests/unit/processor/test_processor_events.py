"""Every SQS event under events/processor/ processes cleanly on fakes: no failure, nothing dead-lettered."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from processor_fakes import FakeNomi, make_worker

from processor.dlq import InMemoryDeadLetters

EVENT_FILES = sorted((Path(__file__).parents[3] / "events" / "processor").glob("*.json"))


def test_processor_events_exist_for_every_source():
    names = {path.stem.split("-")[0] for path in EVENT_FILES}
    assert {"shopify", "stripe", "signup", "canonical", "eventbridge", "batch"} <= names


@pytest.mark.parametrize("path", EVENT_FILES, ids=lambda p: p.stem)
def test_processor_event_file_is_processed_without_failure(path):
    nomi, dlq = FakeNomi(), InMemoryDeadLetters()
    worker = make_worker(nomi, dead_letters=dlq)
    for raw in json.loads(path.read_text(encoding="utf-8"))["Records"]:
        result = worker.handle(SQSRecord(raw))
        assert "dead_lettered" not in result
    assert dlq.letters == []
