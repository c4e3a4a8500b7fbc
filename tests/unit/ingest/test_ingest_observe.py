"""The ingest function's own log lines and EMF documents: what Powertools would write, and cheaper."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from ingest_helpers import FakeContext

from ingest import app, observe
from ingest.observe import EmfMetrics, JsonLogger

POWERTOOLS_KEYS = {
    "level",
    "location",
    "message",
    "timestamp",
    "service",
    "cold_start",
    "function_name",
    "function_memory_size",
    "function_arn",
    "function_request_id",
    "correlation_id",
}


def lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_logger_line_has_powertools_keys_and_fields(capsys: pytest.CaptureFixture[str]) -> None:
    logger = JsonLogger(service="ingest", level=20)
    logger.start(FakeContext(), correlation_id="req-1")
    logger.info("event queued", extra={"source": "shopify", "claim_checked": False})
    [line] = lines(capsys)
    assert set(line) == POWERTOOLS_KEYS | {"source", "claim_checked"}
    assert (line["level"], line["message"], line["service"], line["correlation_id"]) == (
        "INFO",
        "event queued",
        "ingest",
        "req-1",
    )
    assert (line["function_name"], line["function_memory_size"]) == ("IngestFunction", 256)
    assert line["location"].startswith("test_logger_line_has_powertools_keys_and_fields:")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}[+-]\d{4}", line["timestamp"])
    assert (line["source"], line["claim_checked"]) == ("shopify", False)


@pytest.mark.parametrize("now", [1796566145.0, 1796566145.0071, 1796566145.0999, 1796566145.9999])
def test_logger_timestamp_any_millisecond_three_digits_truncated(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, now: float
) -> None:
    monkeypatch.setattr(observe.time, "time", lambda: now)
    logger = JsonLogger(service="ingest", level=20)
    logger.info("event queued")
    [line] = lines(capsys)
    moment = observe.time.localtime(int(now))
    second, zone = observe.time.strftime("%Y-%m-%d %H:%M:%S", moment), observe.time.strftime("%z", moment)
    assert line["timestamp"] == f"{second},{int((now - int(now)) * 1000):03d}{zone}"


def test_logger_keys_match_powertools_logger(capsys: pytest.CaptureFixture[str]) -> None:
    from aws_lambda_powertools import Logger

    powertools = Logger(service="ingest-cross-check")

    @powertools.inject_lambda_context
    def handler(event: dict[str, Any], context: Any) -> None:
        powertools.set_correlation_id("req-1")
        powertools.info("event queued", extra={"source": "shopify"})

    handler({}, FakeContext())
    ours = JsonLogger(service="ingest-cross-check", level=20)
    ours.start(FakeContext(), correlation_id="req-1")
    ours.info("event queued", extra={"source": "shopify"})
    theirs_line, our_line = lines(capsys)
    assert set(our_line) == set(theirs_line)
    # cold_start: Powertools keeps it module-global, and other tests of this process used it first.
    for key in set(theirs_line) - {"timestamp", "location", "cold_start"}:
        assert our_line[key] == theirs_line[key], key


def test_logger_cold_start_true_only_for_first_invocation(capsys: pytest.CaptureFixture[str]) -> None:
    logger = JsonLogger(service="ingest", level=20)
    for _ in range(2):
        logger.start(FakeContext(), correlation_id=None)
        logger.info("hello")
    first, second = lines(capsys)
    assert (first["cold_start"], second["cold_start"]) == (True, False)
    assert "correlation_id" not in first


def test_logger_field_named_like_a_key_does_not_replace_it(capsys: pytest.CaptureFixture[str]) -> None:
    logger = JsonLogger(service="ingest", level=20)
    logger.start(FakeContext(), correlation_id="req-1")
    logger.warning("refused", extra={"message": "spoofed", "correlation_id": "x", "reason": "r"})
    [line] = lines(capsys)
    assert (line["message"], line["correlation_id"], line["reason"], line["level"]) == (
        "refused",
        "req-1",
        "r",
        "WARNING",
    )


def test_logger_below_its_level_writes_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    logger = JsonLogger(service="ingest", level=30)
    logger.start(FakeContext(), correlation_id=None)
    logger.info("quiet")
    logger.error("loud")
    assert [line["message"] for line in lines(capsys)] == ["loud"]


def test_logger_exception_names_the_exception(capsys: pytest.CaptureFixture[str]) -> None:
    logger = JsonLogger(service="ingest", level=20)
    logger.start(FakeContext(), correlation_id=None)
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logger.exception("ingest is misconfigured")
    [line] = lines(capsys)
    assert (line["level"], line["exception_name"]) == ("ERROR", "RuntimeError")
    assert "RuntimeError: boom" in line["exception"]


def test_logger_trace_header_becomes_xray_trace_id(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "_X_AMZN_TRACE_ID", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f;Sampled=1"
    )
    logger = JsonLogger(service="ingest", level=20)
    logger.start(FakeContext(), correlation_id=None)
    logger.info("hello")
    [line] = lines(capsys)
    assert line["xray_trace_id"] == "1-5759e988-bd862e3fe1be46a994272793"


@pytest.mark.parametrize(
    ("environ", "level"),
    [
        ({}, 20),
        ({"LOG_LEVEL": "ERROR"}, 40),
        ({"POWERTOOLS_LOG_LEVEL": "warning", "LOG_LEVEL": "ERROR"}, 30),
        ({"AWS_LAMBDA_LOG_LEVEL": "WARN", "POWERTOOLS_LOG_LEVEL": "DEBUG"}, 30),
        ({"AWS_LAMBDA_LOG_LEVEL": "TRACE"}, 10),
        ({"POWERTOOLS_LOG_LEVEL": "LOUD"}, 20),
    ],
)
def test_log_level_environment_follows_powertools_precedence(environ: dict[str, str], level: int) -> None:
    assert observe.log_level(environ) == level


def test_metrics_flush_writes_one_emf_document(capsys: pytest.CaptureFixture[str]) -> None:
    metrics = EmfMetrics(namespace="NomiGateway", service="ingest", disabled=False)
    metrics.count("Queued", "shopify")
    metrics.flush()
    metrics.flush()  # nothing counted since: nothing written
    [document] = lines(capsys)
    assert document["_aws"]["CloudWatchMetrics"] == [
        {
            "Namespace": "NomiGateway",
            "Dimensions": [["route", "service"]],
            "Metrics": [{"Name": "Queued", "Unit": "Count"}],
        }
    ]
    assert (document["route"], document["service"], document["Queued"]) == ("shopify", "ingest", [1.0])
    assert isinstance(document["_aws"]["Timestamp"], int)


def test_metrics_document_matches_powertools_metrics(capsys: pytest.CaptureFixture[str]) -> None:
    from aws_lambda_powertools import Metrics
    from aws_lambda_powertools.metrics import MetricUnit

    powertools = Metrics(namespace="NomiGateway", service="ingest")
    for name in ("Unauthorized", "Unauthorized", "Malformed"):
        powertools.add_dimension(name="route", value="stripe")
        powertools.add_metric(name=name, unit=MetricUnit.Count, value=1)
    powertools.flush_metrics()
    ours = EmfMetrics(namespace="NomiGateway", service="ingest", disabled=False)
    for name in ("Unauthorized", "Unauthorized", "Malformed"):
        ours.count(name, "stripe")
    ours.flush()
    theirs_document, our_document = lines(capsys)
    theirs_document["_aws"].pop("Timestamp")
    our_document["_aws"].pop("Timestamp")
    assert our_document == theirs_document


def test_metrics_without_service_has_route_dimension_only(capsys: pytest.CaptureFixture[str]) -> None:
    metrics = EmfMetrics(namespace="NomiGateway", service="", disabled=False)
    metrics.service = None
    metrics.count("Ignored", "shopify")
    metrics.flush()
    [document] = lines(capsys)
    assert document["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["route"]]
    assert "service" not in document


def test_metrics_disabled_writes_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    metrics = EmfMetrics(namespace="NomiGateway", service="ingest", disabled=True)
    metrics.count("Queued", "shopify")
    metrics.flush()
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    ("environ", "disabled"),
    [
        ({}, False),
        ({"POWERTOOLS_METRICS_DISABLED": "true"}, True),
        ({"POWERTOOLS_DEV": "true"}, True),
        ({"POWERTOOLS_DEV": "true", "POWERTOOLS_METRICS_DISABLED": "false"}, False),
    ],
)
def test_metrics_disabled_environment_follows_powertools(environ: dict[str, str], disabled: bool) -> None:
    assert observe.metrics_disabled(environ) is disabled


def test_handler_route_raises_metrics_still_flushed(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(request: object) -> dict[str, Any]:
        app.count("Queued", "shopify")
        raise RuntimeError("unexpected")

    monkeypatch.setattr(app, "route", failing)
    with pytest.raises(RuntimeError):
        app.lambda_handler({"rawPath": "/webhooks/shopify", "requestContext": {}}, FakeContext())
    documents = [line for line in lines(capsys) if "_aws" in line]
    assert [document["route"] for document in documents] == ["shopify"]
