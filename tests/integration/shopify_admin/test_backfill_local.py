"""`nomi-gateway backfill shopify` on the local stack: a bulk export of the local Shopify's customers,
queued and processed into NOMI contacts with their original consent; a second run queues nothing;
a dry run and an interrupted-then-resumed run account for every customer."""

import io
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from cli.backfill import Options, ResumeToken, backfill, local_target
from local.env import LocalSettings
from local.report import EventLog
from local.stack import LocalStack

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
CUSTOMERS = 60
# By shopify_sandbox.state.customer_node's spread over 60 customers (see its docstring).
QUEUED = 48
SKIPPED = {"no_opt_in": 6, "sms_opt_in_without_consent_time": 2, "no_phone": 4}
CUSTOMER_TEXT = "Text me offers from the local shop. Reply STOP to stop."


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    state_dir = tmp_path_factory.mktemp("stack") / ".local-stack"
    with LocalStack(
        LocalSettings(port=0, shopify_sandbox_customers=CUSTOMERS, shopify_sandbox_orders=0),
        root=ROOT,
        log=EventLog(quiet=True),
        visibility_timeout=1,
        poll_wait_seconds=0,
        parameter_overrides={"ShopifyCustomerSmsConsentText": CUSTOMER_TEXT},
        state_dir=state_dir,
    ) as running:
        running.state_root = state_dir.parent
        yield running


@pytest.fixture(scope="module")
def target(stack):
    here = os.getcwd()
    os.chdir(stack.state_root)  # where `make run` wrote .local-stack/stack.json
    try:
        yield local_target()
    finally:
        os.chdir(here)


def run(target, options=None):
    out, err = io.StringIO(), io.StringIO()
    tally = backfill(target, options or Options(), out=out, err=err, progress=False, sleep=lambda _s: None)
    return tally, out.getvalue()


@dataclass
class Runs:
    """A dry run, a real one (then the processor drains the queue), and a second real one, in order."""

    dry: tuple
    after_dry: tuple[int, int]
    first: tuple
    drained: bool
    second: tuple


@pytest.fixture(scope="module")
def runs(stack, target):
    dry = run(target, Options(dry_run=True))
    after_dry = (stack.queue_depth(), len(stack.sandbox.state.snapshot()["contacts"]))
    first = run(target)
    drained = stack.wait_until_drained(timeout=120)
    return Runs(dry, after_dry, first, drained, run(target))


def test_backfill_dry_run_counts_and_queues_nothing(runs):
    tally, summary = runs.dry
    assert (tally.read, tally.queued, dict(tally.skipped)) == (CUSTOMERS, QUEUED, SKIPPED)
    assert "would queue 48" in summary
    assert runs.after_dry == (0, 0)


def test_backfill_queues_each_subscriber_once_and_nomi_records_original_consent(stack, runs):
    tally, _ = runs.first
    assert (tally.read, tally.queued, dict(tally.skipped)) == (CUSTOMERS, QUEUED, SKIPPED)
    assert runs.drained
    state = stack.sandbox.state.snapshot()
    assert len(state["contacts"]) == QUEUED
    first = next(c for c in state["contacts"] if c["phone"] == "+12125550002")
    sms = [
        e for e in state["consent_log"] if e["contact_id"] == first["contact_id"] and e["channel"] == "sms"
    ]
    assert [(e["status"], e["source"], e["consent_text"]) for e in sms] == [
        ("subscribed", "api", CUSTOMER_TEXT)
    ]
    assert sms[0]["event_timestamp"].startswith("2025-06-01T12:02:00")  # the customer's consent time


def test_backfill_second_run_queues_nothing(runs):
    tally, summary = runs.second
    assert tally.queued == 0
    assert tally.skipped["already_queued"] == QUEUED
    assert "queued 0" in summary


def test_backfill_limit_then_resume_reads_the_rest(stack, target):
    first, summary = run(target, Options(dry_run=True, limit=25))
    token = summary.rsplit("--resume ", 1)[1].strip()
    rest, _ = run(target, Options(dry_run=True, resume=ResumeToken.decode(token)))
    assert (first.read, rest.read) == (25, CUSTOMERS - 25)


def test_backfill_since_reads_only_customers_updated_since(target):
    from datetime import UTC, datetime

    # Customer i was updated at 2025-06-01 12:00 + i minutes.
    tally, _ = run(target, Options(dry_run=True, since=datetime(2025, 6, 1, 12, 50, tzinfo=UTC)))
    assert tally.read == CUSTOMERS - 50
