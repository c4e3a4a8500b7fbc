"""End to end on the real template.yaml: signed events over real HTTP through the local stack, then the
NOMI sandbox's state and the DLQ. Also: each events/ file reaches the function the template routes it to."""

import io
import json
from pathlib import Path

import httpx
import pytest

from local.demo import StackClient, run_demo, send_one
from local.env import LocalSettings
from local.events_io import Signer, list_event_files, send_http
from local.frontdoor import RouteTable
from local.report import EventLog
from local.stack import LocalStack

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
EVENTS = ROOT / "events"
FILES = {f.name: f for f in list_event_files(EVENTS)}
# Preflights are API Gateway's to answer (test_e2e_preflight_file_is_answered_without_a_function).
HTTP_FILES = sorted(name for name, f in FILES.items() if f.kind == "http" and f.http.method != "OPTIONS")


@pytest.fixture(scope="module")
def stack():
    with LocalStack(
        LocalSettings(port=0), root=ROOT, log=EventLog(quiet=True), visibility_timeout=1, poll_wait_seconds=0
    ) as running:
        yield running


@pytest.fixture(scope="module")
def client(stack):
    with httpx.Client(timeout=30) as http:
        yield StackClient(stack.info(), http)


def _contacts(stack):
    return {c["phone"]: c for c in stack.sandbox.state.snapshot()["contacts"]}


def _dead_letters(stack):
    sqs = stack.aws.client("sqs")
    answer = sqs.receive_message(
        QueueUrl=stack.dlq_url, MaxNumberOfMessages=10, VisibilityTimeout=0, MessageAttributeNames=["All"]
    )
    return answer.get("Messages", [])


def test_e2e_shopify_checkout_creates_the_contact_in_nomi(stack, client):
    row = send_one(client, FILES["shopify/checkouts-create.json"], Signer())
    assert (row.answer, row.settled) == ("200", True)
    assert "+14155550199" in _contacts(stack)


def test_e2e_shopify_bad_signature_is_refused_and_queues_nothing(stack, client):
    row = send_one(client, FILES["shopify/bad-signature.json"], Signer())
    assert (row.answer, row.outcomes, row.nomi_calls) == ("401", [], [])


def test_e2e_stripe_file_resigned_fresh_is_accepted(client):
    row = send_one(client, FILES["stripe/customer-created.json"], Signer())
    assert row.answer == "200"


def test_e2e_stripe_file_with_its_old_timestamp_is_refused(stack):
    with httpx.Client() as http:
        sent = send_http(
            http, stack.url, FILES["stripe/customer-created.json"], Signer(clock=lambda: 1795420800)
        )
    assert sent.status == 401


def test_e2e_signup_form_post_records_sms_consent(stack, client):
    row = send_one(client, FILES["signup/form-urlencoded.json"], Signer())
    assert row.answer == "202"
    consent = stack.sandbox.state.snapshot()["consent_log"]
    contact = _contacts(stack)["+14155550199"]
    assert any(e["contact_id"] == contact["contact_id"] and e["source"] == "webform" for e in consent)


def test_e2e_canonical_message_from_a_producer_is_processed(client):
    row = send_one(client, FILES["canonical/order.placed.json"], Signer())
    assert [o["outcome"] for o in row.outcomes] == ["processed"]


def test_e2e_poison_canonical_message_lands_in_the_dlq_with_its_reason(stack):
    sqs = stack.aws.client("sqs")
    poison = {"type": "order.paid", "event_id": "poison-1", "occurred_at": "2026-11-23T08:00:00Z"}
    sqs.send_message(QueueUrl=stack.queue_url, MessageBody=json.dumps(poison))
    assert stack.wait_until_drained()
    (letter,) = [m for m in _dead_letters(stack) if json.loads(m["Body"]).get("event_id") == "poison-1"]
    reason = letter["MessageAttributes"]["error_reason"]["StringValue"]
    assert "order_id" in reason


def test_e2e_event_log_shows_no_phone_number(stack, client):
    send_one(client, FILES["shopify/checkouts-create.json"], Signer())
    assert stack.log.lines
    assert not [line for line in stack.log.lines if "4155550199" in line]


def _front_door_target(stack, file):
    """Send one file; (function the front door invoked or None, HTTP status)."""
    with httpx.Client() as http:
        sent = send_http(http, stack.url, file, Signer())
    exchange = next(e for e in reversed(stack.exchanges) if e.request.target.startswith(file.http.rawPath))
    return exchange.function_id, sent.status


@pytest.mark.parametrize("name", HTTP_FILES)
def test_e2e_event_file_invokes_the_function_the_template_routes_it_to(stack, name):
    event = FILES[name].http
    match = RouteTable(stack.template.routes()).match(event.method, event.rawPath)
    function_id, status = _front_door_target(stack, FILES[name])
    if match is None:
        assert (function_id, status) == (None, 404)  # API Gateway: no route for this method and path
    else:
        assert function_id == match.route.function_id


def test_e2e_preflight_file_is_answered_without_a_function(stack):
    function_id, status = _front_door_target(stack, FILES["signup/preflight.json"])
    assert (function_id, status) == (None, 204)


def test_e2e_demo_handles_every_event_file(client):
    rows = run_demo(client, EVENTS, Signer(), out=io.StringIO())
    assert len(rows) == len(FILES)
    assert [r.name for r in rows if not r.settled] == []


@pytest.mark.parametrize(
    ("name", "named"),
    [
        (
            "signup/disallowed-origin.json",
            "origin https://evil.example.net is not allowed: add it to SIGNUP_ALLOWED_ORIGINS",
        ),
        ("signup/no-origin.json", "no Origin header"),
    ],
)
def test_e2e_refused_signup_origin_is_named_in_the_event_log(stack, client, name, named):
    row = send_one(client, FILES[name], Signer())
    assert row.answer == "403"
    assert any(named in line for line in stack.log.lines)
