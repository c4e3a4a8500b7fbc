"""Starting and stopping the local stack: fresh each time, and the process put back as it was."""

import os
import re
import sys
from pathlib import Path

import pytest

from local.env import LocalSettings
from local.report import EventLog
from local.runtime import FunctionLoadError
from local.stack import LocalStack

pytestmark = pytest.mark.integration

STANDIN = Path(__file__).parent / "standin"


def _stack_with(settings):
    return LocalStack(settings, root=STANDIN, log=EventLog(quiet=True), poll_wait_seconds=0)


def _stack():
    return _stack_with(LocalSettings(port=0))


@pytest.fixture(scope="module")
def one_run():
    """What the process looked like before, during and after one stack's life."""
    seen = {
        "module_before": sys.modules.get("echo_fn.app"),
        "endpoint_before": os.environ.get("AWS_ENDPOINT_URL"),
    }
    with _stack() as running:
        seen["function_module"] = running.function("EchoFunction").module
        seen["module_during"] = sys.modules.get("echo_fn.app")
        seen["endpoint_during"] = os.environ.get("AWS_ENDPOINT_URL")
        seen["aws_url"] = running.aws.url
    seen["module_after"] = sys.modules.get("echo_fn.app")
    seen["endpoint_after"] = os.environ.get("AWS_ENDPOINT_URL")
    return seen


def test_stack_runs_the_function_code_imported_at_its_start(one_run):
    assert one_run["module_during"] is one_run["function_module"] is not one_run["module_before"]


def test_stack_sets_the_environment_while_it_runs(one_run):
    assert one_run["endpoint_during"] == one_run["aws_url"]


def test_stack_stop_puts_back_the_modules_it_replaced(one_run):
    assert one_run["module_after"] is one_run["module_before"]


def test_stack_stop_restores_the_environment(one_run):
    assert one_run["endpoint_after"] == one_run["endpoint_before"]


def test_stack_second_start_reuses_nothing():
    with _stack() as first:
        first.aws.client("sqs").send_message(QueueUrl=first.dlq_url, MessageBody="{}")
    with _stack() as second:
        attributes = second.aws.client("sqs").get_queue_attributes(
            QueueUrl=second.dlq_url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        assert attributes["ApproximateNumberOfMessages"] == "0"


def test_stack_start_failure_stops_what_it_started(tmp_path):
    (tmp_path / "template.yaml").write_text(
        (STANDIN / "template.yaml")
        .read_text()
        .replace("echo_fn.app.lambda_handler", "echo_fn.missing.handler")
    )
    (tmp_path / "functions").symlink_to(STANDIN / "functions")
    (tmp_path / "layers").symlink_to(STANDIN / "layers")
    stack = LocalStack(LocalSettings(port=0), root=tmp_path, log=EventLog(quiet=True))
    with pytest.raises(FunctionLoadError, match=r"cannot import echo_fn\.missing\.handler"):
        stack.start()
    assert (stack.aws, stack.sandbox, stack.front_door) == (None, None, None)


@pytest.fixture(scope="module")
def external_run():
    """One stack on an AWS endpoint it did not start: (its queue name, queue URLs left after stop)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        settings = LocalSettings(port=0, aws_endpoint_url=f"http://{host}:{port}")
        with _stack_with(settings) as running:
            sqs = running.aws.client("sqs")
            queue_name = running.queue_url.rsplit("/", 1)[1]
        yield queue_name, sqs.list_queues().get("QueueUrls", [])
    finally:
        server.stop()


def test_stack_on_an_external_endpoint_suffixes_the_names(external_run):
    queue_name, _ = external_run
    assert re.fullmatch(r"nomi-gateway-local-[0-9a-f]{6}-events", queue_name)


def test_stack_on_an_external_endpoint_deletes_its_resources_on_stop(external_run):
    queue_name, left = external_run
    suffix = queue_name.split("-")[3]
    assert [url for url in left if suffix in url] == []
