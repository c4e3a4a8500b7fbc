"""Drive a workload through the local stack under faults, then account for every accepted event.

    with ChaosHarness(ChaosSettings(events=500), root=Path(".")) as harness:
        report = harness.run()

The stack runs in this process (`local.LocalStack`): moto plays AWS, the sandbox plays NOMI. The
harness signs and sends each event as its sender would (and redelivers on a 5xx, as Shopify and
Stripe do), injects faults at the seams (sandbox `FaultConfig`, a flaky SQS client in the front door),
makes time cheap (short visibility, capped backoff sleeps) and counts the sandbox's state against what
each event promised.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import httpx
from pydantic import BaseModel, Field

from chaos.accounting import Accounting, PolicyFigures, account, policy_figures
from chaos.faults import FlakySqs, ShiftedClock, ShortVisibility, short_sleep
from chaos.workload import SIGNUP_CONSENT_TEXT, ChaosEvent, Workload

ALL_KINDS = ("429", "500", "503", "timeout", "slow", "drop")
SENDER_ATTEMPTS = 30  # a sender keeps redelivering a 5xx (Shopify: 4 hours; Stripe: 3 days)
OLD_MAX_RECEIVE_COUNT = 5
"""The template's MaxReceiveCount before the retry window was stretched to a day (issue 14): a NOMI
outage longer than 5 deliveries' backoff (about 15 minutes) sent every event of it to the DLQ."""


class ChaosSettings(BaseModel):
    """What to send and how hard to fail."""

    events: int = Field(default=5000, ge=1)
    fault_rate: float = Field(default=0.2, ge=0.0, le=1.0)
    fault_kinds: tuple[str, ...] = ALL_KINDS
    fault_when: Literal["before", "after", "mixed"] = "mixed"
    sqs_failure_rate: float = Field(default=0.05, ge=0.0, le=1.0)
    duplicate_share: float = Field(default=0.1, ge=0.0, le=1.0)
    """Share of webhook and queue events delivered three times (twice at once, once 'hours' later)."""
    seed: int = 1
    senders: int = 8
    max_receive_count: int = 3
    retry_visibility_seconds: int = 1
    client_timeout: float = 0.5
    hang_seconds: float = 1.0
    slow_seconds: float = 0.2
    retry_after_seconds: float = 0.1
    settle_timeout: float = 600.0
    run_id: str = "c"
    external: bool = False
    """moto and the sandbox in their own processes (the full run: the functions get a core of their own)."""
    max_backlog: int = 300
    """Senders pause while the queue holds more than this (webhooks arrive over time; moto's receive
    slows down with the queue's length)."""
    sandbox_api_key: str = "test-key"
    shopify_secret: str = "shpss_test_secret"  # noqa: S105 - the documented local test value
    stripe_secret: str = "whsec_test_secret"  # noqa: S105 - the documented local test value
    batch_size: int = 50
    batch_window_seconds: int = 1
    record_concurrency: int = 25
    outage_events: int = Field(default=200, ge=0)
    """Events sent while NOMI is down (0: no outage phase)."""
    outage_time_scale: float = Field(default=1000.0, gt=0)
    """During the outage SQS's backoff runs this many times faster (2 h → 7.2 s), keeping its shape."""
    outage_receives: int = Field(default=OLD_MAX_RECEIVE_COUNT + 2, ge=1)
    """NOMI stays down until every event of the outage was delivered this many times: longer than the
    old retry window, in compressed time (each backoff delay divided by `outage_time_scale`)."""
    policy_orders: int = Field(default=200, ge=0)
    """Paid orders sent under faults once per conversion policy after the main run (0: no policy phase)."""


@dataclass
class Delivery:
    """What the gateway answered to one event (its last delivery attempt)."""

    status: int | None = None
    attempts: int = 0
    reference: str | None = None


@dataclass
class ChaosReport:
    """The figures of one run."""

    settings: ChaosSettings
    distinct_events: int = 0
    deliveries: int = 0
    accepted: int = 0
    under_faults: Accounting | None = None
    after_redrive: Accounting | None = None
    redriven: int = 0
    duration_seconds: float = 0.0
    front_door_5xx: int = 0
    sqs_failures: dict[str, int] = field(default_factory=dict)
    nomi_faults: int = 0
    retry_delays_asked: int = 0
    outage: Accounting | None = None
    outage_accepted: int = 0
    outage_fewest_receives: int = 0
    outage_simulated_hours: float = 0.0
    policies: list[PolicyFigures] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        final = self.after_redrive or self.under_faults
        return bool(
            final is not None
            and final.lost == 0
            and final.duplicates == 0
            and self.under_faults is not None
            and self.under_faults.lost == 0
            and self.under_faults.duplicates == 0
            and final.applied == self.accepted
            and self._outage_ok
            and all(p.ok for p in self.policies)
        )

    @property
    def _outage_ok(self) -> bool:
        if self.settings.outage_events == 0:
            return True
        o = self.outage
        return bool(
            o is not None
            and (o.lost, o.duplicates, o.in_dlq) == (0, 0, 0)
            and o.applied == self.outage_accepted
            and self.outage_fewest_receives >= self.settings.outage_receives
        )

    def lines(self) -> list[str]:
        s = self.settings
        out = [
            f"chaos run: {self.distinct_events} events, {self.deliveries} deliveries "
            f"(duplicates ×3 for {s.duplicate_share:.0%}), NOMI fault rate {s.fault_rate:.0%} "
            f"({', '.join(s.fault_kinds)}; when={s.fault_when}), front-door SQS failure rate {s.sqs_failure_rate:.0%}",
            f"  front door: {self.front_door_5xx} answers 5xx (redelivered by the sender); "
            f"SQS sends failed before/after reaching the queue: {self.sqs_failures.get('before', 0)}/"
            f"{self.sqs_failures.get('after', 0)}; NOMI faults injected: {self.nomi_faults}",
        ]
        for title, figures in (("under faults", self.under_faults), ("after redrive", self.after_redrive)):
            if figures is not None:
                out.append(f"  {title:<14} {figures.summary()}")
                out.extend(f"    {line}" for line in figures.details())
        if self.after_redrive is not None:
            out.append(f"  redriven from the DLQ: {self.redriven}")
        if self.outage is not None:
            out.append(
                f"  NOMI outage: down until each of {self.outage_accepted} events was delivered "
                f"{self.outage_fewest_receives}+ times (the old MaxReceiveCount, {OLD_MAX_RECEIVE_COUNT}, "
                f"dead-lettered them all); {self.outage_simulated_hours:.1f} h of backoff, compressed"
            )
            out.append(f"    after it      {self.outage.summary()}")
            out.extend(f"    {line}" for line in self.outage.details())
        final = self.after_redrive or self.under_faults
        out.append(
            f"  events sent {self.distinct_events} · accepted {self.accepted} · applied "
            f"{final.applied if final else 0} · in DLQ {self.under_faults.in_dlq if self.under_faults else 0} "
            f"(before redrive) · duplicates {final.duplicates if final else 0} · lost {final.lost if final else 0}"
        )
        if final is not None and final.conversion_reposts:
            out.append(
                f"  + {final.conversion_reposts} conversion(s) posted again after NOMI applied one and then "
                "failed (500/503/timeout/reset): /conversion has no idempotency key and no lookup, so the "
                "gateway posts again rather than lose revenue (at least once; chaos/README.md)"
            )
        if self.policies:
            out.append(
                "  repeated conversions per conversion_delivery policy (same faults, after a redrive):"
            )
            out.extend(f"    {p.summary()}" for p in self.policies)
        out.append(f"  duration {self.duration_seconds:.1f} s · {'OK' if self.ok else 'FAILED'}")
        return out


class ChaosHarness:
    """The local stack, tuned for chaos, and the run that drives it."""

    def __init__(self, settings: ChaosSettings, *, root: Path, log_stream: Any = None) -> None:
        self.settings = settings
        self.root = root
        self._log_stream = log_stream
        self.stack: Any = None
        self.flaky_sqs: FlakySqs | None = None
        self.short_visibility: ShortVisibility | None = None
        self.clock: ShiftedClock | None = None
        self._http: httpx.Client | None = None
        self._stripe_secret = ""
        self._shopify_secret = ""
        self.nomi: Any = None
        self._services: Any = None
        self._depth = 0
        self._watching = threading.Event()

    # --- lifecycle ------------------------------------------------------------------------------

    def __enter__(self) -> ChaosHarness:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        from chaos.services import ExternalServices, HttpSandbox, InProcessSandbox
        from local.env import LocalSettings
        from local.report import EventLog
        from local.stack import LocalStack

        stream = self._log_stream if self._log_stream is not None else open(os.devnull, "w")  # noqa: SIM115
        secrets = {
            "shopify_webhook_secrets": (self.settings.shopify_secret,),
            "stripe_webhook_secrets": (self.settings.stripe_secret,),
        }
        settings = LocalSettings(port=0, nomi_api_key=self.settings.sandbox_api_key, **secrets)
        if self.settings.external:
            self._services = ExternalServices(root=self.root, api_key=self.settings.sandbox_api_key)
            self._services.__enter__()
            settings = LocalSettings(
                port=0,
                aws_endpoint_url=self._services.aws_url,
                nomi_api_url=self._services.sandbox_url,
                nomi_api_key=self.settings.sandbox_api_key,
                **secrets,
            )
        self._shopify_secret = settings.shopify_webhook_secrets[0]
        self._stripe_secret = settings.stripe_webhook_secrets[0]
        self.stack = LocalStack(
            settings,
            root=self.root,
            log=EventLog(stream, quiet=True),
            visibility_timeout=self.settings.retry_visibility_seconds + 1,
            poll_wait_seconds=0,
            parameter_overrides={
                "MaxReceiveCount": self.settings.max_receive_count,
                "ProcessorBatchSize": self.settings.batch_size,
                "ProcessorBatchWindowSeconds": self.settings.batch_window_seconds,
                "RecordConcurrency": self.settings.record_concurrency,
                "SignupConsentTexts": json.dumps([SIGNUP_CONSENT_TEXT]),
                # Every chaos signup comes from this machine's one IP: the per-IP limit would refuse most.
                "SignupLimitPerIp": 0,
            },
        )
        self.stack.start()
        self.nomi = (
            HttpSandbox(self._services.sandbox_url)
            if self._services
            else InProcessSandbox(self.stack.sandbox)
        )
        self._install_seams()
        self._http = httpx.Client(timeout=30)

    def stop(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None
        if self.stack is not None:
            self.stack.stop()
            self.stack = None
        if self._services is not None:
            self._services.stop()
            self._services = None

    def _install_seams(self) -> None:
        """Flaky SQS in the front door; a fast NOMI client, short retry visibility and a movable clock
        in the processor."""
        import sys

        from nomi_client import NomiClient

        ingest = self.stack.function("IngestFunction").module
        enqueue = sys.modules[ingest.enqueue.__module__]
        real_sqs = enqueue.get_sqs_client()
        self.flaky_sqs = FlakySqs(real_sqs, rate=self.settings.sqs_failure_rate, seed=self.settings.seed)
        enqueue.get_sqs_client = lambda: self.flaky_sqs

        worker = self.stack.function("ProcessorFunction").module.runtime()
        worker.deps.client = NomiClient(
            api_key=self.settings.sandbox_api_key,
            base_url=self.stack.nomi_api_url,
            timeout=self.settings.client_timeout,
            sleep=short_sleep(0.05),
            jitter=random.random,
            time_left=worker.deps.deadline.seconds_left if worker.deps.deadline else None,
        )
        self.short_visibility = ShortVisibility(
            worker.deps.sqs, seconds=self.settings.retry_visibility_seconds
        )
        worker.deps.sqs = self.short_visibility
        self.clock = ShiftedClock(worker.deps.clock)
        worker.deps.clock = self.clock

    # --- faults ---------------------------------------------------------------------------------

    def faults_on(self) -> None:
        from sandbox import FaultConfig

        s = self.settings
        self.nomi.set_faults(
            FaultConfig(
                rate=s.fault_rate,
                kinds=s.fault_kinds,  # type: ignore[arg-type]
                when=s.fault_when,
                seed=s.seed,
                hang_seconds=s.hang_seconds,
                slow_seconds=s.slow_seconds,
                retry_after_seconds=s.retry_after_seconds,
            )
        )
        assert self.flaky_sqs is not None
        self.flaky_sqs.rate = s.sqs_failure_rate

    def faults_off(self) -> None:
        from sandbox import FaultConfig

        self.nomi.set_faults(FaultConfig())
        assert self.flaky_sqs is not None
        self.flaky_sqs.rate = 0.0

    def nomi_faults_injected(self) -> int:
        return sum(1 for r in self.nomi.request_log() if r.get("fault"))

    # --- sending --------------------------------------------------------------------------------

    def sign(self, event: ChaosEvent) -> dict[str, str]:
        from local.events_io import shopify_hmac, stripe_v1

        headers = dict(event.headers)
        if event.source == "shopify":
            headers["x-shopify-hmac-sha256"] = shopify_hmac(event.body, self._shopify_secret)
        elif event.source == "stripe":
            now = int(time.time())
            headers["stripe-signature"] = f"t={now},v1={stripe_v1(event.body, self._stripe_secret, now)}"
        return headers

    def deliver(self, event: ChaosEvent) -> Delivery:
        """Deliver once as the sender does: redeliver on a 5xx or a dropped connection."""
        if event.channel == "queue":
            return self._produce(event)
        assert self._http is not None
        delivery = Delivery()
        for _ in range(SENDER_ATTEMPTS):
            delivery.attempts += 1
            try:
                response = self._http.post(
                    self.stack.url + event.route, content=event.body, headers=self.sign(event)
                )
            except httpx.TransportError:
                time.sleep(0.05)
                continue
            delivery.status = response.status_code
            if response.status_code < 500:
                if event.source == "signup" and response.status_code == 202:
                    delivery.reference = response.json().get("reference")
                return delivery
            time.sleep(0.02)
        return delivery

    def _produce(self, event: ChaosEvent) -> Delivery:
        sqs = self.stack.aws.client("sqs")
        sqs.send_message(
            QueueUrl=self.stack.queue_url,
            MessageBody=event.body.decode(),
            MessageAttributes={
                "source": {"DataType": "String", "StringValue": event.source},
                "event_id": {"DataType": "String", "StringValue": event.event_id},
            },
        )
        return Delivery(status=200, attempts=1)

    def deliver_all(
        self, events: list[ChaosEvent], extra: Callable[[ChaosEvent], int] | int = 0
    ) -> dict[str, Delivery]:
        """Each event once, plus `extra(event)` concurrent redeliveries; returns the first delivery's answer."""
        answers: dict[str, Delivery] = {}
        lock = threading.Lock()

        def one(event: ChaosEvent) -> None:
            while self._depth > self.settings.max_backlog:
                time.sleep(0.05)
            delivery = self.deliver(event)
            with lock:
                answers.setdefault(event.key, delivery)
                if event.source == "signup" and delivery.reference:
                    event.event_id = delivery.reference

        jobs: list[ChaosEvent] = []
        for event in events:
            jobs.append(event)
            jobs.extend([event] * (extra(event) if callable(extra) else extra))
        watcher = threading.Thread(target=self._watch_depth, daemon=True)
        self._watching.set()
        watcher.start()
        try:
            with ThreadPoolExecutor(max_workers=self.settings.senders) as pool:
                list(pool.map(one, jobs))
        finally:
            self._watching.clear()
            watcher.join()
        return answers

    def _watch_depth(self) -> None:
        while self._watching.is_set():
            self._depth = self.stack.queue_depth()
            time.sleep(0.3)
        self._depth = 0

    def wait_settled(self, timeout: float | None = None) -> bool:
        """Until the queue is empty (every record deleted or dead-lettered), checked twice in a row."""
        deadline = time.monotonic() + (timeout or self.settings.settle_timeout)
        quiet = 0
        while time.monotonic() < deadline:
            quiet = quiet + 1 if self.stack.queue_depth() == 0 else 0
            if quiet >= 3:
                return True
            time.sleep(0.2)
        return False

    def seed_campaigns(self, click_ids: list[str]) -> None:
        for index, click in enumerate(click_ids):
            self.nomi.seed_campaign(name=f"chaos {index}", short_link_id=click)

    def dead_letters(self) -> list[Any]:
        from cli.dlq import peek

        return peek(self.stack.aws.client("sqs"), self.stack.dlq_url, limit=100_000)

    def redrive(self) -> int:
        from cli.dlq import redrive

        return len(redrive(self.stack.aws.client("sqs"), self.stack.dlq_url, self.stack.queue_url))

    def account(self, events: list[ChaosEvent], accepted: set[str]) -> Accounting:
        return account(events, accepted, self.nomi, self.dead_letters())

    def set_max_receive_count(self, count: int) -> None:
        """Change the event queue's redrive policy while the stack runs (its DLQ stays)."""
        sqs = self.stack.aws.client("sqs")
        dlq_arn = sqs.get_queue_attributes(QueueUrl=self.stack.dlq_url, AttributeNames=["QueueArn"])
        policy = {"deadLetterTargetArn": dlq_arn["Attributes"]["QueueArn"], "maxReceiveCount": count}
        sqs.set_queue_attributes(
            QueueUrl=self.stack.queue_url, Attributes={"RedrivePolicy": json.dumps(policy)}
        )

    def nomi_outage(self, events: list[ChaosEvent], report: ChaosReport) -> None:
        """NOMI down (503s and dropped connections) until every event sent meanwhile was delivered
        `outage_receives` times, with the template's MaxReceiveCount; then up again: each event must
        be applied once, none in the DLQ."""
        from processor.record import retry_window
        from sandbox import FaultConfig

        s = self.settings
        self.faults_off()
        # The template's own MaxReceiveCount (the stack runs with a smaller one to exercise the DLQ).
        self.set_max_receive_count(int(self.stack.template.raw["Parameters"]["MaxReceiveCount"]["Default"]))
        poller = self.stack.pollers[0]
        seen_before = set(poller.receive_counts)
        self.short_visibility.scale = s.outage_time_scale
        self.nomi.set_faults(FaultConfig(rate=1.0, kinds=("503", "drop"), when="before", seed=s.seed))
        answers = self.deliver_all(events)
        accepted = {key for key, d in answers.items() if d.status is not None and d.status < 300}
        deadline = time.monotonic() + s.settle_timeout

        def fewest_receives() -> int:
            # Over the messages still waiting for NOMI, not the events: they need not pair one to one
            # (a message may carry what the accounting counts as several events), and a message the
            # processor finished without NOMI (a skip, a duplicate) is never received again, so
            # waiting for it kept NOMI down until every other message was dead-lettered.
            received = {m: n for m, n in list(poller.receive_counts.items()) if m not in seen_before}
            if not received:
                return 0
            waiting = [n for m, n in received.items() if m not in poller.deleted]
            return min(waiting) if waiting else s.outage_receives

        while fewest_receives() < s.outage_receives and time.monotonic() < deadline:
            time.sleep(0.2)
        report.outage_fewest_receives = fewest_receives()
        self.nomi.set_faults(FaultConfig())
        self.wait_settled()
        self.short_visibility.scale = None
        self.set_max_receive_count(s.max_receive_count)
        report.outage_accepted = len(accepted)
        report.outage_simulated_hours = retry_window(report.outage_fewest_receives) / 3600
        report.outage = self.account(events, accepted)

    # --- the run --------------------------------------------------------------------------------

    def run(self, workload: Workload | None = None) -> ChaosReport:
        started = time.monotonic()
        s = self.settings
        workload = workload or Workload(seed=s.seed, run_id=s.run_id)
        events = workload.build(s.events)
        self.seed_campaigns(workload.click_ids)
        rng = random.Random(s.seed)
        repeated = {e.key for e in events if e.source != "signup" and rng.random() < s.duplicate_share}
        self.faults_on()
        answers = self.deliver_all(events, lambda e: 1 if e.key in repeated else 0)
        # The third delivery comes "hours" later: the processor's clock and NOMI's have moved on.
        self.wait_settled()
        self.clock.advance(timedelta(hours=3))
        self.nomi.advance_clock(3 * 3600)
        self.deliver_all([e for e in events if e.key in repeated], 0)
        self.wait_settled()
        accepted = {key for key, d in answers.items() if d.status is not None and d.status < 300}
        report = ChaosReport(
            settings=s,
            distinct_events=len(events),
            deliveries=len(events) + 2 * len(repeated),
            accepted=len(accepted),
            front_door_5xx=sum(d.attempts - 1 for d in answers.values()),
            sqs_failures={"before": self.flaky_sqs.failed_before, "after": self.flaky_sqs.failed_after},
            nomi_faults=self.nomi_faults_injected(),
            retry_delays_asked=len(self.short_visibility.delays_asked),
        )
        report.under_faults = self.account(events, accepted)
        self.faults_off()
        report.redriven = self.redrive()
        self.wait_settled()
        report.after_redrive = self.account(events, accepted)
        if s.outage_events:
            outage = Workload(
                seed=s.seed + 1, run_id=f"{s.run_id}o", first_person=60_000
            )  # phones stay valid (8 area codes × 10,000)
            outage_events = outage.build(s.outage_events)
            self.seed_campaigns(outage.click_ids)
            self.nomi_outage(outage_events, report)
        if s.policy_orders:
            report.policies = self.run_conversion_policies(workload, s.policy_orders)
        report.duration_seconds = time.monotonic() - started
        return report

    def run_conversion_policies(self, workload: Workload, orders: int) -> list[PolicyFigures]:
        """`orders` paid orders under faults per `conversion_delivery` policy; the conversions counted.

        The policy is the processor's setting, switched on the running stack between the phases
        (as a redeploy with ConversionDelivery would); the main run keeps the default.
        """
        worker = self.stack.function("ProcessorFunction").module.runtime()
        default = worker.deps.settings
        figures = []
        try:
            for policy, tag in (("at_least_once", "least"), ("at_most_once", "most")):
                worker.deps.settings = default.model_copy(update={"conversion_delivery": policy})
                events = workload.paid_orders(orders, tag)
                clicks = workload.click_ids[-orders:]
                self.seed_campaigns(clicks)
                self.faults_on()
                self.deliver_all(events)
                self.wait_settled()
                self.faults_off()
                self.redrive()
                self.wait_settled()
                figures.append(policy_figures(policy, clicks, self.nomi))
        finally:
            worker.deps.settings = default
        return figures
