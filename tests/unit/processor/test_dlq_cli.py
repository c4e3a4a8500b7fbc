"""The DLQ tool on moto: list (peek, nothing hidden), show, redrive selected or all (copy, then delete)."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import boto3
import pytest
from moto import mock_aws

from cli import dlq as dlq_tool
from cli.main import build_parser, main
from processor.dlq import DeadLetter, SqsDeadLetters


@pytest.fixture
def queues(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        main_url = sqs.create_queue(QueueName="events")["QueueUrl"]
        dlq_url = sqs.create_queue(QueueName="events-dlq")["QueueUrl"]
        monkeypatch.setenv("DLQ_URL", dlq_url)
        monkeypatch.setenv("QUEUE_URL", main_url)
        yield sqs, main_url, dlq_url


def _park(sqs, dlq_url, n):
    sender = SqsDeadLetters(dlq_url, client=sqs)
    for i in range(n):
        sender.send(
            DeadLetter(
                body=json.dumps({"source": "stripe", "event_id": f"evt_{i}"}),
                error_reason=f"UnsupportedEventError: topic {i}",
                error_type="UnsupportedEventError",
                source="stripe",
                event_id=f"evt_{i}",
                failed_at=datetime(2026, 11, 23, tzinfo=UTC),
            )
        )
    return [m.message_id for m in dlq_tool.peek(sqs, dlq_url)]


def _run(sqs, argv):
    out = io.StringIO()
    code = dlq_tool.run(build_parser().parse_args(["dlq", *argv]), sqs=sqs, out=out)
    return code, out.getvalue()


def _count(sqs, url):
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def test_dlq_list_shows_every_message_with_reason_and_hides_none(queues):
    sqs, _, dlq_url = queues
    _park(sqs, dlq_url, 12)
    code, output = _run(sqs, ["list", "--json"])
    rows = [json.loads(line) for line in output.splitlines()]
    assert code == 0
    assert len(rows) == 12
    assert {r["error_type"] for r in rows} == {"UnsupportedEventError"}
    assert rows[0]["error_reason"].startswith("UnsupportedEventError")
    assert _count(sqs, dlq_url) == 12


def test_dlq_show_prints_attributes_and_body(queues):
    sqs, _, dlq_url = queues
    ids = _park(sqs, dlq_url, 2)
    code, output = _run(sqs, ["show", ids[1]])
    shown = json.loads(output)
    assert code == 0
    assert shown["message_id"] == ids[1]
    assert shown["body"]["source"] == "stripe"


def test_dlq_show_unknown_id_fails(queues):
    sqs, _, _ = queues
    with pytest.raises(dlq_tool.DlqError):
        _run(sqs, ["show", "nope"])


def test_dlq_redrive_selected_moves_only_those_with_original_attributes(queues):
    sqs, main_url, dlq_url = queues
    ids = _park(sqs, dlq_url, 3)
    code, output = _run(sqs, ["redrive", ids[0]])
    assert code == 0
    assert f"redriven {ids[0]}" in output
    moved = sqs.receive_message(QueueUrl=main_url, MessageAttributeNames=["All"])["Messages"]
    assert len(moved) == 1
    assert set(moved[0]["MessageAttributes"]) == {"source", "event_id"}
    remaining = {m.message_id for m in dlq_tool.peek(sqs, dlq_url)}
    assert remaining == set(ids[1:])


def test_dlq_redrive_all_empties_the_dlq(queues):
    sqs, main_url, dlq_url = queues
    _park(sqs, dlq_url, 15)
    code, output = _run(sqs, ["redrive", "--all"])
    assert code == 0
    assert "15 message(s) redriven" in output
    assert _count(sqs, dlq_url) == 0
    assert _count(sqs, main_url) == 15


def test_dlq_redrive_reports_ids_not_found(queues):
    sqs, _, dlq_url = queues
    _park(sqs, dlq_url, 1)
    code, output = _run(sqs, ["redrive", "missing-id"])
    assert code == 1
    assert "not found missing-id" in output


def test_dlq_list_reads_messages_dead_lettered_by_redrive_policy(queues):
    sqs, main_url, dlq_url = queues
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sqs.set_queue_attributes(
        QueueUrl=main_url,
        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "1"})},
    )
    sqs.send_message(QueueUrl=main_url, MessageBody="{}")
    sqs.receive_message(QueueUrl=main_url, VisibilityTimeout=0)
    sqs.receive_message(QueueUrl=main_url, VisibilityTimeout=0)
    code, output = _run(sqs, ["list", "--json"])
    assert code == 0
    assert "retries exhausted" in output


def test_cli_main_without_dlq_url_exits_2(monkeypatch, capsys):
    monkeypatch.delenv("DLQ_URL", raising=False)
    assert main(["dlq", "list"]) == 2
    assert "DLQ_URL" in capsys.readouterr().err
