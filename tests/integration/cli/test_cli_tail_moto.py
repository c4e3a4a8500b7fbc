"""`nomi-gateway tail` against CloudWatch Logs on a moto server (`--endpoint-url`), reading lines written
by a real Powertools Logger the way the processor writes them."""

from __future__ import annotations

import functools
import io
import json
import logging
import time
from collections.abc import Iterator

import boto3
import pytest
from aws_lambda_powertools import Logger
from moto.server import ThreadedMotoServer

from cli.main import main

GROUP = "/aws/lambda/shop-ProcessorFunction-abc"


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@functools.cache  # Powertools sets a named logger up once per process
def processor_lines() -> tuple[str, ...]:
    """Log lines as processor/record.py writes them (Powertools JSON, thread-local keys appended)."""
    buffer = io.StringIO()
    logger = Logger(service="processor-tail-test", logger_handler=logging.StreamHandler(buffer))
    logger.thread_safe_append_keys(correlation_id="wh-1", source="shopify", topic="fulfillments/create")
    outcome = {
        "identity": "shopify:event:e1:fulfillments/create",
        "events": [
            {
                "event_type": "order.shipped",
                "status": "done",
                "steps": [{"kind": "contact", "status": "done"}, {"kind": "send", "status": "done"}],
            }
        ],
    }
    logger.info("record processed", extra={"outcome": outcome})
    logger.info("skipped", extra={"reason": "no_phone"})
    logger.thread_safe_append_keys(correlation_id="evt_2", source="stripe", topic="customer.created")
    logger.warning(
        "record failed, will be retried", extra={"error_type": "AuthenticationError", "reason": "401 bad key"}
    )
    logger.thread_safe_clear_keys()
    return tuple(line for line in buffer.getvalue().splitlines() if line.strip())


@pytest.fixture
def log_group(moto_url, monkeypatch) -> str:
    logs = boto3.client("logs", endpoint_url=moto_url, region_name="us-east-1")
    logs.create_log_group(logGroupName=GROUP)
    logs.create_log_stream(logGroupName=GROUP, logStreamName="2026/11/23/[$LATEST]abc")
    now = int(time.time() * 1000)
    lines = [*processor_lines(), "START RequestId: 1 Version: $LATEST"]
    logs.put_log_events(
        logGroupName=GROUP,
        logStreamName="2026/11/23/[$LATEST]abc",
        logEvents=[{"timestamp": now + i, "message": line} for i, line in enumerate(lines)],
    )
    yield GROUP
    logs.delete_log_group(logGroupName=GROUP)


def test_cli_tail_prints_outcomes_from_cloudwatch_logs(moto_url, log_group, capsys):
    assert main(["tail", "--log-group", log_group, "--endpoint-url", moto_url, "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["source"], r["event_id"], r["outcome"]) for r in rows] == [
        ("shopify", "wh-1", "done"),
        ("stripe", "evt_2", "retry later"),
    ]
    assert rows[0]["detail"] == "order.shipped: contact done, send done"
    assert rows[1]["detail"] == "401 bad key"


def test_cli_tail_since_excludes_older_lines(moto_url, log_group, capsys):
    assert main(["tail", "--log-group", log_group, "--endpoint-url", moto_url, "--since", "0s"]) == 0
    assert capsys.readouterr().out == ""


def test_cli_tail_missing_log_group_exits_2(moto_url, capsys):
    assert main(["tail", "--log-group", "/aws/lambda/nope", "--endpoint-url", moto_url]) == 2
    assert "cannot read log group" in capsys.readouterr().err
