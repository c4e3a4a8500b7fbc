"""Every log line of a full run, searched for secrets and personal data.

A small chaos run (every source and type, NOMI failing 30% of the time, SQS sends failing, retries,
dead letters, a redrive) with distinctive secrets, while capturing everything anything prints:
stdout (Powertools' JSON loggers write there), stderr, every stdlib logging record (root handler at
INFO, the level the template deploys), and the local stack's own event log. None of it may contain
the NOMI API key, a webhook secret, a full phone number (E.164 or its national digits) or a full
email address.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
import threading
from pathlib import Path

import pytest

from chaos.harness import ChaosHarness, ChaosSettings
from chaos.workload import Workload

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
NOMI_KEY = "nomi_live_K3y-7f3a9c1e55d0"
SHOPIFY_SECRET = "shpss_S3cret_4b1d9e0c77"
STRIPE_SECRET = "whsec_S3cret_9e2c4a6f13"


class Sink(io.TextIOBase):
    """A thread-safe text sink (the functions log from many threads)."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            self._parts.append(text)
        return len(text)

    def text(self) -> str:
        with self._lock:
            return "".join(self._parts)


@pytest.fixture(scope="module")
def run():
    """(everything logged, the workload's events) of one small run under faults."""
    sink = Sink()
    handler = logging.StreamHandler(sink)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    saved_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    settings = ChaosSettings(
        events=90,
        fault_rate=0.3,
        sqs_failure_rate=0.1,
        duplicate_share=0.2,
        settle_timeout=90,
        sandbox_api_key=NOMI_KEY,
        shopify_secret=SHOPIFY_SECRET,
        stripe_secret=STRIPE_SECRET,
        run_id="s",
        # The phases that exercise the outage and the conversion policies log nothing the main run
        # does not; they have tests of their own (tests/integration/chaos).
        outage_events=0,
        policy_orders=0,
    )
    workload = Workload(seed=11, run_id="s", first_person=5000)
    try:
        with (
            contextlib.redirect_stdout(sink),
            contextlib.redirect_stderr(sink),
            ChaosHarness(settings, root=ROOT, log_stream=sink) as harness,
        ):
            report = harness.run(workload)
    finally:
        root.removeHandler(handler)
        root.setLevel(saved_level)
    return sink.text(), report, workload


def _people(text_of_events: list[bytes]) -> tuple[set[str], set[str]]:
    phones, emails = set(), set()
    for body in text_of_events:
        phones.update(re.findall(r"\+1\d{10}", body.decode()))
        emails.update(re.findall(r"[\w.]+@chaos\.example\.com", body.decode()))
    return phones, emails


def test_secrets_run_logged_enough_to_be_meaningful(run):
    text, report, _ = run
    assert report.after_redrive is not None
    assert report.after_redrive.applied == report.accepted
    assert report.nomi_faults > 0
    assert text.count("record processed") >= report.distinct_events // 2
    assert "will be retried" in text


def test_secrets_no_log_line_holds_the_nomi_api_key(run):
    text, _, _ = run
    assert NOMI_KEY not in text


def test_secrets_no_log_line_holds_a_webhook_secret(run):
    text, _, _ = run
    assert [s for s in (SHOPIFY_SECRET, STRIPE_SECRET) if s in text] == []


def test_secrets_no_log_line_holds_a_full_phone_number(run):
    text, report, workload = run
    phones, _ = _people([e.body for e in workload.build(report.settings.events)])
    assert phones
    leaked = [p for p in phones if p in text or p[2:] in text]
    assert leaked == []


def test_secrets_no_log_line_holds_a_full_email_address(run):
    text, report, workload = run
    _, emails = _people([e.body for e in workload.build(report.settings.events)])
    assert emails
    assert [e for e in emails if e in text] == []
