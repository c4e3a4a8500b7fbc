"""The chaos run in small, inside `make test`: the real template, handlers, moto and the NOMI sandbox in
this process, faults injected at the sandbox and at the front door's SQS client.

- a mixed run (every source and type) under 20% NOMI faults and 5% SQS send failures: every accepted
  event applied exactly once or in the DLQ with its reason, none lost; after the redrive, all applied;
- every event delivered three times (two at once, one three simulated hours later) → one effect each;
- consent events delivered out of order → the newest wins;
- a timeout, a 500 or a reset after NOMI already sent the SMS → no second SMS;
- NOMI down for longer than the old retry window (compressed: every event delivered more times than
  the old MaxReceiveCount) → nothing in the DLQ, every event applied once when NOMI is back.
- paid orders under 500s before and after NOMI applied the conversion, per conversion policy:
  at least once repeats some and loses none, at most once loses some and repeats none.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from chaos.accounting import count_nomi
from chaos.harness import OLD_MAX_RECEIVE_COUNT, ChaosHarness, ChaosReport, ChaosSettings
from chaos.workload import STORIES, Workload
from sandbox import FaultConfig

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def harness():
    # The conversion policy phase runs on its own below (policy_orders=0 keeps the mixed run short).
    settings = ChaosSettings(
        events=150, duplicate_share=0.3, settle_timeout=90, run_id="t", policy_orders=0, outage_events=0
    )
    with ChaosHarness(settings, root=ROOT) as running:
        yield running


def _accepted(answers):
    return {key for key, delivery in answers.items() if delivery.status is not None and delivery.status < 300}


def test_chaos_mixed_run_under_faults_loses_nothing_and_repeats_nothing(harness):
    report = harness.run(Workload(seed=7, run_id="mix", first_person=0))
    under, after = report.under_faults, report.after_redrive
    assert (report.accepted, under.lost, under.duplicates) == (report.distinct_events, 0, 0)
    assert under.applied + under.in_dlq == report.accepted
    assert (after.applied, after.lost, after.duplicates, after.dlq_messages) == (report.accepted, 0, 0, 0)


def test_chaos_every_event_delivered_three_times_has_one_effect(harness):
    harness.faults_off()
    workload = Workload(seed=3, run_id="dup", first_person=1000)
    events = [event for index, kind in enumerate(STORIES) for event in workload.story(kind, 1000 + index)]
    harness.seed_campaigns(workload.click_ids)
    signups = [e for e in events if e.source == "signup"]
    repeatable = [e for e in events if e.source != "signup"]  # a browser's resubmission is a new signup
    answers = harness.deliver_all(signups)
    answers.update(harness.deliver_all(repeatable, 1))  # twice, at the same time
    assert harness.wait_settled(60)
    harness.clock.advance(timedelta(hours=3))
    harness.nomi.advance_clock(3 * 3600)
    harness.deliver_all(repeatable)  # the third, hours later
    assert harness.wait_settled(60)
    figures = harness.account(events, _accepted(answers))
    assert (figures.applied, figures.duplicates, figures.lost) == (len(events), 0, 0)


def test_chaos_out_of_order_consent_newest_wins(harness):
    harness.faults_off()
    workload = Workload(seed=4, run_id="ooo", first_person=2000)
    newest_first = []
    for person in (2003, 2009):  # consent stories: customer, SMS subscribed (older), unsubscribed (newer)
        customer, subscribed, unsubscribed = workload.story("consent", person)
        newest_first.append((customer, [unsubscribed, subscribed]))
    for customer, flips in newest_first:
        harness.deliver_all([customer])
        assert harness.wait_settled(60)
        for flip in flips:
            harness.deliver_all([flip])
            assert harness.wait_settled(60)
    counts = count_nomi(harness.nomi)
    events = [e for customer, flips in newest_first for e in (customer, *flips)]
    assert harness.account(events, {e.key for e in events}).applied == len(events)
    assert [counts.current[f"{c.effects[0].split(':', 1)[1]}:sms"] for c, _ in newest_first] == [
        "unsubscribed",
        "unsubscribed",
    ]


@pytest.mark.parametrize("kind", ["timeout", "500", "drop"])
def test_chaos_failure_after_nomi_sent_the_sms_sends_no_second_sms(harness, kind):
    workload = Workload(seed=5, run_id=f"sms{kind}", first_person=3000 + 10 * len(kind))
    ship = next(
        e for e in workload.story("shopify", 3006 + 10 * len(kind)) if e.topic == "fulfillments/create"
    )
    harness.nomi.set_faults(
        FaultConfig(
            rate=1.0, kinds=(kind,), when="after", paths=("/messages/create",), limit=1, hang_seconds=1.0
        )
    )
    try:
        answers = harness.deliver_all([ship])
        assert harness.wait_settled(60)
    finally:
        harness.faults_off()
    faulted = [r for r in harness.nomi.request_log() if r["path"] == "/messages/create" and r.get("fault")]
    figures = harness.account([ship], _accepted(answers))
    assert faulted
    assert faulted[-1]["effect_applied"] is True
    assert (figures.applied, figures.duplicates) == (1, 0)


def test_chaos_nomi_outage_longer_than_the_old_retry_window_loses_nothing(harness):
    workload = Workload(seed=6, run_id="outage", first_person=4000)
    events = workload.build(12)
    harness.seed_campaigns(workload.click_ids)
    report = ChaosReport(settings=harness.settings)
    harness.nomi_outage(events, report)
    outage = report.outage
    assert report.outage_fewest_receives > OLD_MAX_RECEIVE_COUNT
    assert (outage.applied, outage.in_dlq, outage.duplicates, outage.lost) == (
        report.outage_accepted,
        0,
        0,
        0,
    )


def test_chaos_conversion_policies_at_least_once_repeats_at_most_once_loses(harness):
    normal = harness.settings
    harness.settings = normal.model_copy(
        update={"fault_rate": 0.5, "fault_kinds": ("500",), "fault_when": "mixed"}
    )
    try:
        least, most = harness.run_conversion_policies(Workload(seed=11, run_id="pol", first_person=3000), 40)
    finally:
        harness.settings = normal
        harness.faults_off()
    assert (least.policy, least.uncounted, least.unexplained) == ("at_least_once", 0, [])
    assert least.repeated > 0
    assert (most.policy, most.repeated, most.unexplained) == ("at_most_once", 0, [])
    assert most.uncounted > 0
