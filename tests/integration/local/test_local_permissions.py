"""Each function runs with the permissions its template role grants (moto enforces no IAM): every
events/ file, an oversized (claim-checked) webhook, a transient NOMI failure and a poison message go
through the local stack; then every AWS call each function made must be granted by its role, and every
action the template grants must have been used (least privilege); the queue mapping's receives,
deletes and attribute reads count as the processor's (Lambda polls with its role). Removing a
permission from the template (say the processor's sqs:ChangeMessageVisibility) fails the first test;
adding one nothing uses fails the second."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import boto3
import httpx
import pytest
from botocore.exceptions import ClientError

from local.demo import StackClient, run_demo
from local.env import LocalSettings
from local.events_io import Signer, shopify_hmac
from local.permissions import PermissionGuard, acting_as, build_guard
from local.report import EventLog
from local.stack import LocalStack
from local.template import Pseudo, Template, parse_template_text
from sandbox import FaultConfig

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
EVENTS = ROOT / "events"


def _send_oversized_shopify_order(stack: LocalStack, http: httpx.Client) -> None:
    """An orders/paid body over SQS's 1 MiB: ingest parks it in S3, the processor reads it back."""
    file = json.loads((EVENTS / "shopify" / "orders-paid.json").read_text(encoding="utf-8"))
    order = json.loads(file["body"])
    order["note"] = "x" * (1024 * 1024 + 100)
    order["id"] = 990000000001
    body = json.dumps(order).encode()
    headers = {
        k: v
        for k, v in file["headers"].items()
        if k.startswith("x-shopify-") and k != "x-shopify-hmac-sha256"
    }
    headers["x-shopify-webhook-id"] = "permissions-oversized-1"
    headers["x-shopify-event-id"] = "permissions-oversized-1"
    headers["x-shopify-hmac-sha256"] = shopify_hmac(body, Signer().shopify_secrets[0])
    headers["content-type"] = "application/json"
    response = http.post(stack.url + "/webhooks/shopify", content=body, headers=headers)
    assert response.status_code == 200


def _fail_transiently(stack: LocalStack) -> None:
    """A canonical event whose NOMI calls fail (503) past the client's retries: the record fails, the
    processor backs off (visibility) and Powertools drops its in-progress record."""
    stack.sandbox.set_faults(FaultConfig(rate=1.0, kinds=("503",), paths=("/contacts/create",), limit=4))
    event = json.loads((EVENTS / "canonical" / "contact.upsert.json").read_text(encoding="utf-8"))
    event["event_id"] = "permissions-transient-1"
    stack.aws.client("sqs").send_message(QueueUrl=stack.queue_url, MessageBody=json.dumps(event))


def _faults_spent(stack: LocalStack) -> bool:
    return sum(1 for r in stack.sandbox.state.request_log() if r.get("fault")) >= 4


def _send_poison(stack: LocalStack) -> None:
    poison = {"type": "order.paid", "event_id": "permissions-poison-1", "occurred_at": "2026-11-23T08:00:00Z"}
    stack.aws.client("sqs").send_message(QueueUrl=stack.queue_url, MessageBody=json.dumps(poison))


def _wait_until(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the local stack did not settle"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def stack():
    with LocalStack(
        LocalSettings(port=0), root=ROOT, log=EventLog(quiet=True), visibility_timeout=1, poll_wait_seconds=0
    ) as running:
        with httpx.Client(timeout=30) as http:
            run_demo(StackClient(running.info(), http), EVENTS, Signer(), io.StringIO())
            _send_oversized_shopify_order(running, http)
        _wait_until(lambda: running.status().settled)
        _fail_transiently(running)
        # Settled: nothing visible or in hand (the failed record waits out its backoff in flight).
        _wait_until(lambda: _faults_spent(running) and running.status().settled)
        _send_poison(running)
        _wait_until(lambda: running.status().dead_letters > 0 and running.status().settled)
        yield running


def test_local_permissions_every_call_of_every_function_is_granted(stack):
    assert [str(call) for call in stack.permissions.denied] == []


# A grant the local stack cannot see used, and why. Both functions share one process here, and
# Powertools' secret cache is process-wide: the processor reads IdentityHashKey first, so the ingest's
# read is answered from the cache (in AWS each function has its own container and makes the call).
NOT_SEEN_LOCALLY = (
    ("IngestFunction: secretsmanager:GetSecretValue", "IdentityHashKey"),
    # The Shopify Admin API token is read only when an event needs the Admin API (a configured
    # shop); no events/ file does yet. TODO(coordinator): exercise it and drop this entry.
    ("ProcessorFunction: secretsmanager:GetSecretValue", "ShopifyAdminTokenSecret"),
)


def test_local_permissions_every_granted_action_is_used(stack):
    unused = stack.permissions.unused_grants()
    explained = [g for g in unused if any(all(p in g for p in parts) for parts in NOT_SEEN_LOCALLY)]
    assert [grant for grant in unused if grant not in explained] == []


def test_local_permissions_exercise_reached_every_function_and_service(stack):
    services = {(c.function, c.action.split(":")[0]) for c in stack.permissions.calls}
    assert {
        ("IngestFunction", "sqs"),
        ("IngestFunction", "s3"),
        ("IngestFunction", "secretsmanager"),
        ("ProcessorFunction", "sqs"),
        ("ProcessorFunction", "s3"),
        ("ProcessorFunction", "dynamodb"),
        ("ProcessorFunction", "secretsmanager"),
    } <= services


def test_local_permissions_call_outside_the_role_is_refused_as_aws_would(stack):
    s3 = boto3.client(
        "s3",
        endpoint_url=stack.aws.url,
        region_name=stack.aws.region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    bucket = next(iter(stack.resources.buckets.values()))
    before = len(stack.permissions.denied)
    with acting_as("ProcessorFunction"), pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key="not-the-processors-to-write", Body=b"{}")
    assert caught.value.response["Error"]["Code"] == "AccessDenied"
    assert [c.action for c in stack.permissions.denied[before:]] == ["s3:PutObject"]


def test_local_permissions_calls_outside_a_function_are_not_checked(stack):
    before = len(stack.permissions.calls)
    stack.aws.client("sqs").get_queue_attributes(QueueUrl=stack.queue_url, AttributeNames=["All"])
    assert len(stack.permissions.calls) == before


# --- an explicit SQS mapping (no SAM event, so no SQS grant from SAM): what its role must allow -----

QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:queue"
POLLING = """
Resources:
  Queue: {Type: AWS::SQS::Queue}
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: worker
      Handler: app.handler
      Policies: [%s]
  Mapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties: {EventSourceArn: !GetAtt Queue.Arn, FunctionName: !Ref Worker}
"""
POLL_GRANT = (
    "{Statement: [{Sid: Poll, Effect: Allow, Resource: !GetAtt Queue.Arn,"
    " Action: [sqs:ReceiveMessage, sqs:DeleteMessage, sqs:GetQueueAttributes]}]}"
)


def _guard(policies: str) -> PermissionGuard:
    template = Template(parse_template_text(POLLING % policies), root=ROOT, pseudo=Pseudo("stack"))
    queue_arns = {("Queue", "Arn"): QUEUE_ARN}
    resolver = template.resolver(ref=lambda name: name, attr=lambda name, attr: queue_arns[(name, attr)])
    return build_guard(template, resolver, sample_arn=QUEUE_ARN)


def test_local_permissions_event_source_role_without_poll_grant_is_refused():
    guard = _guard("")
    refused = guard.check_event_source("Worker", QUEUE_ARN)
    assert sorted(c.action for c in refused) == [
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "sqs:ReceiveMessage",
    ]
    assert guard.denied == refused


def test_local_permissions_event_source_role_with_poll_grant_uses_it():
    guard = _guard(POLL_GRANT)
    assert guard.check_event_source("Worker", QUEUE_ARN) == []
    assert (guard.denied, guard.unused_grants()) == ([], [])


def test_local_permissions_event_source_grant_on_another_queue_is_refused():
    guard = _guard(POLL_GRANT)
    assert len(guard.check_event_source("Worker", QUEUE_ARN + "-other")) == 3
