"""The whole local stack on a stand-in template: moto, sandbox, front door and poller over real HTTP."""

import json
from pathlib import Path

import httpx
import pytest

from local.env import LocalSettings
from local.report import EventLog
from local.stack import LocalStack, read_state

pytestmark = pytest.mark.integration

STANDIN = Path(__file__).parent / "standin"


@pytest.fixture(scope="module")
def state_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("state")


@pytest.fixture(scope="module")
def stack(state_dir):
    log = EventLog(quiet=True)
    with LocalStack(
        LocalSettings(port=0),
        root=STANDIN,
        log=log,
        visibility_timeout=1,
        poll_wait_seconds=0,
        state_dir=state_dir,
    ) as running:
        yield running


def _echo(stack, **kwargs):
    response = httpx.post(f"{stack.url}/echo", **kwargs)
    assert response.status_code == 200
    return response.json()


def _dlq_messages(stack):
    sqs = stack.aws.client("sqs")
    answer = sqs.receive_message(
        QueueUrl=stack.dlq_url, MaxNumberOfMessages=10, VisibilityTimeout=0, MessageAttributeNames=["All"]
    )
    return answer.get("Messages", [])


def test_stack_function_env_resolves_the_template_refs(stack):
    env = _echo(stack, json={})["env"]
    assert env["QUEUE_URL"] == stack.queue_url
    assert env["QUEUE_ARN"].endswith(":nomi-gateway-local-events")
    assert env["GREETING"] == "hello from us-east-1 dev"
    assert env["OPTIONAL"] is None
    assert env["SECRET_NAME"] == stack.resources.secrets["WebhookSecret"]
    assert env["AWS_ENDPOINT_URL"] == stack.aws.url


def test_stack_nomi_url_points_at_the_sandbox(stack):
    assert _echo(stack, json={})["env"]["NOMI_API_URL"] == stack.sandbox.url


def test_stack_layer_is_on_the_function_path(stack):
    assert _echo(stack, json={})["layer"] is True


def test_stack_handler_gets_a_lambda_context(stack):
    body = _echo(stack, json={})
    assert body["function_name"] == "nomi-gateway-local-EchoFunction"
    assert 0 < body["remaining_ms"] <= 5000


def test_stack_handler_gets_the_http_event(stack):
    event = _echo(
        stack, content="a=1", headers={"Content-Type": "application/x-www-form-urlencoded"}, params={"q": "1"}
    )["event"]
    assert (event["rawPath"], event["rawQueryString"], event["routeKey"]) == ("/echo", "q=1", "POST /echo")
    assert event["isBase64Encoded"] is True
    assert event["headers"]["content-type"] == "application/x-www-form-urlencoded"


def test_stack_answer_without_status_code_is_inferred(stack):
    response = httpx.get(f"{stack.url}/plain")
    assert (response.status_code, response.json()) == (200, {"hello": "world"})


def test_stack_unknown_route_is_404(stack):
    response = httpx.post(f"{stack.url}/nope")
    assert (response.status_code, response.json()) == (404, {"message": "Not Found"})


def test_stack_preflight_follows_the_template_cors(stack):
    headers = {"Origin": "https://shop.example.com", "Access-Control-Request-Method": "POST"}
    response = httpx.options(f"{stack.url}/echo", headers=headers)
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "https://shop.example.com"


def test_stack_info_endpoint_names_the_queue(stack):
    info = httpx.get(f"{stack.url}/_local/info").json()
    assert (info["queue_url"], info["dlq_url"]) == (stack.queue_url, stack.dlq_url)
    assert info["routes"]["POST /enqueue"] == "EchoFunction"


def test_stack_state_file_matches_the_info(stack, state_dir):
    state = read_state(state_dir)
    assert state is not None
    assert state.front_door_url == stack.url


def test_stack_poison_record_is_redriven_to_the_dlq(stack, wait_for):
    worker = stack.function("WorkerFunction").module
    assert httpx.post(f"{stack.url}/enqueue", json={"fail": True, "id": "poison"}).status_code == 202
    assert httpx.post(f"{stack.url}/enqueue", json={"id": "fine"}).status_code == 202
    dead = wait_for(lambda: _dlq_messages(stack))
    assert [json.loads(m["Body"])["id"] for m in dead] == ["poison"]
    attempts = [json.loads(r["body"]).get("id") for r in worker.SEEN].count("poison")
    assert attempts == 2  # maxReceiveCount of the stand-in template
    assert stack.wait_until_drained()


def test_stack_batch_exception_keeps_every_record(stack, wait_for):
    worker = stack.function("WorkerFunction").module
    assert httpx.post(f"{stack.url}/enqueue", json={"raise": True, "id": "boom"}).status_code == 202
    wait_for(lambda: [json.loads(r["body"]).get("id") for r in worker.SEEN].count("boom") >= 2)


def test_stack_event_log_has_one_line_per_step(stack, wait_for):
    httpx.post(f"{stack.url}/enqueue", json={"id": "logged"})
    wait_for(lambda: any(line.split()[1] == "outcome" for line in stack.log.lines))
    stages = {line.split()[1] for line in stack.log.lines}
    assert {"received", "answered", "queued", "outcome"} <= stages


def test_stack_chunked_request_body_reaches_the_handler(stack):
    def chunks():
        yield b'{"a":'
        yield b"1}"

    response = httpx.post(f"{stack.url}/echo", content=chunks(), headers={"content-type": "application/json"})
    assert response.json()["event"]["body"] == '{"a":1}'
