"""Executor: runs a plan's steps through the NOMI client, checkpointing each so nothing repeats.

Consent sequence (fewest calls): consent evidence rides on contacts/create. NOMI applies it only when
that call CREATED the contact (the answer then carries `sms_consent_status`/`consent_events`); for an
existing contact the same answer gives us the contact id, and the change goes through the consent
endpoint (or contacts/unsubscribe). So a new contact costs 1 call, an existing one 2 — a lookup first
would cost 2 in both cases.

Checkpoints only where repeating a step has an effect: an SMS, a conversion, a consent POST. A
contacts/create without consent is an upsert of the same values, so it is simply repeated by a retry;
one that carries consent is covered by the claims of its consent steps, taken before the call. A claim
is the step's only read: it answers "done" (the step is skipped), "an earlier attempt" (NOMI is
checked before repeating it) or "fresh".

Send safety: the send step is marked `attempted` before messages/create; a retry that finds our own
attempt uses `send_message_safely(attempted_since=...)`, which looks the message up before sending.

Consent safety: the newest-wins watermark is read before a consent call and advanced only after NOMI
accepted it. A web-form or checkout SMS opt-in for an existing contact that NOMI shows as having
unsubscribed (`unsubscribed_at`) costs one consent-history read: when NOMI's latest SMS event is an
opt-out, only the person texting START can re-subscribe, so the attempt is an outcome
(`sms_opted_out_at_nomi`), never a call.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from gateway_events.canonical import ConsentEvidence
from gateway_events.identity import normalize_identity
from nomi_client.errors import AmbiguousSendError, CoolingOffError, NomiAPIError, NotFoundError
from nomi_client.models import ConsentInput
from processor.checkpoints import Checkpoint, CheckpointStore, StepDoneError
from processor.counting import CallCounter as CallCounter  # re-exported: the executor's Observer
from processor.errors import TransientEventError
from processor.plan import (
    OPT_IN_STATUSES,
    ApplyConsent,
    ForgetPerson,
    Plan,
    RecordConversion,
    SendTransactional,
    Skip,
    Step,
    Unsubscribe,
    UpsertContact,
)

# Consent statuses of a contact created moments ago that still allow transactional SMS (a brand-new
# contact has had no chance to text STOP; no consent at all means transactional-only).
_TRANSACTIONAL_OK = {None, "subscribed", "transactional_only"}
_TOKEN = re.compile(r"\[([A-Za-z0-9_]+)\]")
_STANDARD_TOKENS = ("name", "first_name", "last_name", "st", "state", "link")
# Opt-ins that the person's own earlier opt-out at NOMI overrides: only a keyword (START) undoes a STOP.
_BOX_SOURCES = frozenset({"webform", "checkout"})
_OPT_OUT_SOURCES = frozenset({"stop", "spam_report", "unsubscribe_link"})
# NOMI's answer to contacts/create with update=false for a phone it knows (the sandbox: 409).
_EXISTS_STATUS = 409


class Observer(Protocol):
    """Where the executor reports NOMI calls and skips (metrics)."""

    def nomi_call(self, endpoint: str, error: BaseException | None = None) -> None: ...

    def skip(self, reason: str) -> None: ...


@dataclass
class StepOutcome:
    """What became of one step."""

    key: str
    kind: str
    status: str  # done | already_done | skipped | cooling_off | outcome_unknown
    detail: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"key": self.key, "kind": self.kind, "status": self.status, "detail": self.detail}


@dataclass
class Outcome:
    """What became of one canonical event."""

    event_id: str
    event_type: str
    steps: list[StepOutcome] = field(default_factory=list)
    skips: list[Skip] = field(default_factory=list)
    calls: int = 0

    @property
    def status(self) -> str:
        """processed (some effect), duplicate (every checkpointed step done before: an upsert, which
        has none, is merely repeated), skipped (nothing to do)."""
        effects = [s for s in self.steps if s.kind != UpsertContact.__name__]
        if any(s.status in ("done", "cooling_off", "outcome_unknown") for s in effects):
            return "processed"
        if any(s.status == "already_done" for s in self.steps):
            return "duplicate"
        if any(s.status == "done" for s in self.steps):
            return "processed"
        return "skipped"

    def as_dict(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "event_type": self.event_type,
            "status": self.status,
            "calls": self.calls,
            "steps": [s.as_dict() for s in self.steps],
            "skips": [{"reason": s.reason, "detail": s.detail} for s in self.skips],
        }


@dataclass
class _Contact:
    """What the run knows about the plan's contact."""

    contact_id: int | None = None
    new: bool = False
    sms_status: str | None = None
    unsubscribed_at: datetime | None = None
    other_email: bool = False
    """An existing contact that an anonymous upsert left untouched holds another email than the
    event's (or none): the event's email consent is not for this contact."""
    consent_done: set[str] = field(default_factory=set)
    attached: set[str] = field(default_factory=set)
    """Channels whose consent rode on a contacts/create that answered "existing contact": that answer
    may come from a retry of our own create that did apply them, so NOMI's log is checked first."""


class _NullObserver:
    def nomi_call(self, endpoint: str, error: BaseException | None = None) -> None:
        pass

    def skip(self, reason: str) -> None:
        pass


class Executor:
    """Runs plans; one instance may serve many threads (all run state is per call)."""

    def __init__(
        self,
        client: Any,
        checkpoints: CheckpointStore,
        *,
        observer: Observer | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        receipts: Callable[[ApplyConsent, Plan], None] | None = None,
    ) -> None:
        self._client = client
        self._store = checkpoints
        self._observer = observer or _NullObserver()
        self._clock = clock
        self._receipts = receipts  # processor.receipts: called once NOMI accepted a consent

    def run(self, plan: Plan, *, owner: str | None = None, redelivery: bool = False) -> Outcome:
        """Run every step in order; NOMI/AWS errors propagate (the caller classifies them).

        `redelivery`: SQS delivered this record before (a retry after a failure): the upserts that
        attempt completed are not repeated, so that a retry a day late writes no older profile data
        over a newer event's (a first delivery reads nothing: its upserts cannot have run)."""
        run = _Run(self, plan, owner or plan.event_id)
        run.redelivery = redelivery
        for skip in plan.skips:
            run.skip_plan(skip)
        for step in plan.steps:
            run.step(step)
        return run.outcome


class _Run:
    """The state of one plan's execution."""

    def __init__(self, executor: Executor, plan: Plan, owner: str) -> None:
        self.client = executor._client
        self.store = executor._store
        self.observer = executor._observer
        self.clock = executor._clock
        self.receipts = executor._receipts
        self.plan = plan
        self.owner = owner
        self.contact = _Contact()
        self.outcome = Outcome(plan.event_id, plan.event_type)
        self.watermarks: dict[tuple[str, str], datetime | None] = {}
        self.claims: dict[str, Checkpoint | None] = {}
        """Steps claimed in this run → the earlier attempt each claim took over (None: fresh)."""
        self.redelivery = False
        self.upsert_attempted = False
        """A redelivery found the upsert claimed by an attempt that carried consent (before this
        release the upsert, not its consent steps, held that claim): NOMI may have applied it."""

    # --- bookkeeping -------------------------------------------------------------------------
    def full_key(self, step: Step) -> str:
        return step.key if step.fact else f"{self.owner}#{step.key}"

    def call(self, endpoint: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            answer = fn(*args, **kwargs)
        except BaseException as exc:
            self.observer.nomi_call(endpoint, exc)
            self.outcome.calls += 1
            raise
        self.observer.nomi_call(endpoint)
        self.outcome.calls += 1
        return answer

    def record(self, step: Step, status: str, detail: str = "") -> None:
        self.outcome.steps.append(StepOutcome(step.key, type(step).__name__, status, detail))

    def skip_step(self, step: Step, reason: str, detail: str = "") -> None:
        self.observer.skip(reason)
        self.outcome.skips.append(Skip(reason, detail))
        self.record(step, "skipped", reason)

    def skip_plan(self, skip: Skip) -> None:
        self.observer.skip(skip.reason)
        self.outcome.skips.append(skip)

    def claim(self, step: Step) -> Checkpoint | bool | None:
        """Claim the step (once a run); False when it turned out done (then it is recorded as such).
        Returns the earlier attempt the claim took over, None when fresh."""
        key = self.full_key(step)
        if key in self.claims:
            return self.claims[key]
        try:
            previous = self.store.claim(key, owner=self.owner, now=self.clock(), fact=step.fact)
        except StepDoneError as done:
            self.resume_from(step, done.checkpoint)
            self.record(step, "already_done")
            return False
        self.claims[key] = previous
        return previous

    def release(self, step: Step) -> None:
        """Drop this run's fresh claim on the step (it certainly had no effect). A claim that took
        over an earlier attempt stays: that attempt may have had its effect, and whoever claims the
        step next must know to check NOMI first."""
        key = self.full_key(step)
        if key in self.claims:
            earlier = self.claims.pop(key)
            if earlier is None:
                self.store.release(key, owner=self.owner)

    def complete(self, step: Step, result: dict[str, Any] | None = None, status: str = "done") -> None:
        self.store.complete(self.full_key(step), owner=self.owner, result=result or {}, fact=step.fact)
        self.record(step, status)

    def is_current(self, subject: str, channel: str, timestamp: datetime) -> bool:
        """Whether no newer consent than `timestamp` was accepted for subject+channel (read once a run)."""
        if (subject, channel) not in self.watermarks:
            self.watermarks[(subject, channel)] = self.store.latest_consent(subject, channel)
        latest = self.watermarks[(subject, channel)]
        return latest is None or latest <= timestamp

    def accepted(self, subject: str, channel: str, timestamp: datetime) -> None:
        """NOMI accepted the change: only now does the watermark move."""
        self.store.advance_consent(subject, channel, timestamp)
        latest = self.watermarks.get((subject, channel))
        if latest is None or latest < timestamp:
            self.watermarks[(subject, channel)] = timestamp

    def decided(self, step: ApplyConsent, reason: str, detail: str = "") -> None:
        """Skip a consent step; a once-per-reference opt-in is then settled for good (a box still
        ticked on a later update of the same checkout is the same, already decided, opt-in)."""
        self.skip_step(step, reason, detail)
        if step.once:
            self.store.complete(
                self.full_key(step), owner=self.owner, result={"skipped": reason}, fact=step.fact
            )
        else:
            self.release(step)  # claimed before contacts/create, then not recorded

    # --- steps -------------------------------------------------------------------------------
    def step(self, step: Step) -> None:
        if isinstance(step, ApplyConsent) and step.channel in self.contact.consent_done:
            return  # applied by contacts/create in this run (already recorded)
        if isinstance(step, UpsertContact) and self.names_set_by_send(step):
            # messages/create creates the contact or updates its names itself: a contacts/create
            # first would cost a NOMI call (and a checkpoint) for nothing the send does not do.
            self.record(step, "done", "names set by messages/create")
            return
        if isinstance(step, UpsertContact) and self.redelivery and self.upsert_done_before(step):
            return
        handler = {
            UpsertContact: self.upsert_contact,
            ApplyConsent: self.apply_consent,
            Unsubscribe: self.unsubscribe,
            SendTransactional: self.send,
            RecordConversion: self.record_conversion,
            ForgetPerson: self.forget,
        }[type(step)]
        handler(step)

    def upsert_done_before(self, step: UpsertContact) -> bool:
        """On a redelivery: whether an earlier attempt completed this upsert (then its contact is
        resumed and the call skipped). One read, only on redeliveries."""
        checkpoint = self.store.get(self.full_key(step))
        if checkpoint is None:
            return False
        if checkpoint.state != "done":
            self.upsert_attempted = True
            return False
        self.resume_from(step, checkpoint)
        self.record(step, "already_done")
        return True

    def resume_from(self, step: Step, checkpoint: Checkpoint) -> None:
        if isinstance(step, UpsertContact) and checkpoint.result.get("contact_id") is not None:
            self.contact.contact_id = int(checkpoint.result["contact_id"])
            unsubscribed = checkpoint.result.get("unsubscribed_at")
            self.contact.unsubscribed_at = datetime.fromisoformat(unsubscribed) if unsubscribed else None
            self.contact.other_email = bool(checkpoint.result.get("other_email"))
        if isinstance(step, ApplyConsent):
            self.contact.consent_done.add(step.channel)

    def names_set_by_send(self, step: UpsertContact) -> bool:
        """Whether the upsert sets nothing but the names that the plan's send to the same phone sets
        too (no email, tags, variables or consent, and it may update an existing contact)."""
        if step.email or step.tags or step.custom_variables or not step.update_existing:
            return False
        if any(isinstance(other, ApplyConsent) for other in self.plan.steps):
            return False
        return any(
            isinstance(other, SendTransactional)
            and (other.phone, other.first_name, other.last_name)
            == (step.phone, step.first_name, step.last_name)
            for other in self.plan.steps
        )

    def upsert_contact(self, step: UpsertContact) -> None:
        # No claim of its own: contacts/create is an upsert, repeating it changes nothing. The consent
        # it carries is claimed first (consents_to_attach), and those claims stay if it fails. Its
        # completion rides in the record's last write (no request of its own), for redeliveries.
        attach = self.consents_to_attach()
        # A consent claim that took over an earlier attempt (a retry of ours, however late in SQS's
        # retry window, or a crashed event's): NOMI may have applied that attempt's create.
        earlier = self.upsert_attempted or any(
            isinstance(self.claims.get(self.full_key(c)), Checkpoint) for c in attach.values()
        )
        try:
            contact = self.create_contact(step, attach, earlier)
        except AmbiguousSendError:
            # Only a create carrying consent raises it (the client retries the others itself): NOMI
            # may have created the contact with that consent. Ask again, knowing to check its log.
            earlier = True
            contact = self.create_contact(step, attach, earlier)
        except NomiAPIError as exc:
            if 400 <= exc.status_code < 500:
                # NOMI refused the create: certainly no consent was applied, so nobody need wait.
                for consent in attach.values():
                    self.release(consent)
            raise
        if contact is None:
            self.complete(step, self.contact_result())
            return
        self.learn_contact(contact)
        if not self.contact.new and earlier:
            self.contact.attached.update(attach)
        if self.contact.new:
            # NOMI applied the consent fields because this call created the contact.
            for channel, consent_step in attach.items():
                self.receipt(consent_step)
                self.complete(consent_step, {"via": "contacts/create"})
                self.accepted(consent_step.subject, channel, consent_step.evidence.timestamp)
                self.contact.consent_done.add(channel)
        self.complete(step, self.contact_result())

    def create_contact(self, step: UpsertContact, attach: dict[str, ApplyConsent], retried: bool) -> Any:
        """contacts/create; for an anonymous upsert (update=false) of a phone NOMI knows, the existing
        contact is left as it is and only looked up (None when NOMI does not find it either)."""
        try:
            return self.call(
                "contacts/create",
                self.client.create_contact,
                phone=step.phone,
                first_name=step.first_name,
                last_name=step.last_name,
                email=step.email,
                tags=list(step.tags) or None,
                custom_variables=step.custom_variables or None,
                update=step.update_existing,
                sms_consent=_consent_input(attach.get("sms")),
                email_consent=_consent_input(attach.get("email")),
                # With consent, an unknown outcome must reach us: the retry then checks NOMI's log.
                **({"retry_unknown_outcome": False} if attach else {}),
            )
        except NomiAPIError as exc:
            if step.update_existing or exc.status_code != _EXISTS_STATUS:
                raise
        found = self.call("contacts/lookup", self.client.find_contact, phone=step.phone)
        if found is not None:
            self.contact.contact_id = found.contact_id
            self.contact.unsubscribed_at = found.unsubscribed_at
            self.contact.other_email = _normal_email(found.email) != _normal_email(step.email)
            if retried:
                # Perhaps our own earlier create, applied with its consent before its answer was lost.
                self.contact.attached.update(attach)
        return None

    def consents_to_attach(self) -> dict[str, ApplyConsent]:
        """The plan's consent steps worth sending with contacts/create (not stale), each claimed: a
        done one is skipped, one being applied by another event makes this one retry later."""
        attach: dict[str, ApplyConsent] = {}
        for consent in self.plan.steps:
            if not isinstance(consent, ApplyConsent) or consent.channel in self.contact.consent_done:
                continue
            if consent.channel == "email" and consent.evidence.consent_text:
                continue  # contacts/create takes no email consent text; the consent endpoint keeps the words
            if not self.is_current(consent.subject, consent.channel, consent.evidence.timestamp):
                continue
            try:
                claimed = self.claim(consent)
            except BaseException:
                for taken in attach.values():  # another event holds this one: retry all later
                    self.release(taken)
                raise
            if claimed is not False:
                attach[consent.channel] = consent
        return attach

    def learn_contact(self, contact: Any) -> None:
        fields_set = getattr(contact, "model_fields_set", set())
        self.contact.contact_id = getattr(contact, "contact_id", None)
        # Only a contact that this call created carries consent fields in the answer.
        self.contact.new = "sms_consent_status" in fields_set or "consent_events" in fields_set
        self.contact.sms_status = getattr(contact, "sms_consent_status", None)
        self.contact.unsubscribed_at = getattr(contact, "unsubscribed_at", None)

    def contact_result(self) -> dict[str, Any]:
        return {
            "contact_id": self.contact.contact_id,
            "new": self.contact.new,
            "unsubscribed_at": self.contact.unsubscribed_at.isoformat()
            if self.contact.unsubscribed_at
            else None,
            "other_email": self.contact.other_email,
        }

    def apply_consent(self, step: ApplyConsent) -> None:
        evidence = step.evidence
        if not self.is_current(step.subject, step.channel, evidence.timestamp):
            self.decided(step, "stale_consent", f"a newer {step.channel} consent was already applied")
            return
        if evidence.status == "unsubscribed":
            if self.claim(step) is False:
                return
            target = (
                {"email": step.email} if step.channel == "email" and step.email else {"phone": step.phone}
            )
            self.call("contacts/unsubscribe", self.client.unsubscribe, type=step.channel, **target)
            self.complete(step, {"via": "contacts/unsubscribe"})
            self.accepted(step.subject, step.channel, evidence.timestamp)
            return
        reason = self.refusal(step)
        if reason is not None:
            self.decided(step, reason)
            return
        if self.contact.contact_id is None:
            self.release(step)
            self.skip_step(step, "no_contact_id", "contacts/create returned no contact id")
            return
        previous = self.claim(step)
        if previous is False:
            return
        if (isinstance(previous, Checkpoint) or step.channel in self.contact.attached) and self.on_record(
            step
        ):
            self.receipt(step)  # the attempt that recorded it may have stopped before its receipt
            self.complete(step, {"via": "already recorded"})
            self.accepted(step.subject, step.channel, evidence.timestamp)
            return
        try:
            self.call(
                "contacts/consent",
                self.client.record_consent,
                self.contact.contact_id,
                channel=step.channel,
                status=evidence.status,
                source=evidence.source,
                timestamp=evidence.timestamp,
                consent_text=evidence.consent_text,
                ip_address=evidence.ip_address,
                user_agent=evidence.user_agent,
            )
        except CoolingOffError as exc:
            # An outcome, not a failure: NOMI refuses the re-opt-in for now; retrying cannot help.
            self.observer.skip("cooling_off")
            self.complete(step, {"cooling_off_hours": exc.hours_remaining}, status="cooling_off")
            return
        except AmbiguousSendError:
            # NOMI may have recorded it: look before anyone records it again; keep the claim so that
            # a retry of this event looks too.
            if self.on_record(step):
                self.receipt(step)
                self.complete(step, {"via": "already recorded"})
                self.accepted(step.subject, step.channel, evidence.timestamp)
                return
            raise
        except BaseException:
            self.release(step)
            raise
        self.receipt(step)
        self.complete(step, {"via": "contacts/consent"})
        self.accepted(step.subject, step.channel, evidence.timestamp)

    def refusal(self, step: ApplyConsent) -> str | None:
        """Why an opt-in for an existing contact must not be recorded, or None when it may be."""
        evidence = step.evidence
        if step.channel == "email":
            # An untouched contact holding another address: this consent is not for it.
            return "email_not_on_contact" if self.contact.other_email else None
        unsubscribed_at = self.contact.unsubscribed_at
        if evidence.status not in OPT_IN_STATUSES or unsubscribed_at is None or self.contact.new:
            return None
        if evidence.source in _BOX_SOURCES and self.opted_out_at_nomi():
            return "sms_opted_out_at_nomi"
        if evidence.timestamp <= unsubscribed_at:
            # Never re-subscribe SMS after a STOP on old evidence; only a newer opt-in goes through.
            return "consent_predates_unsubscribe"
        return None

    def opted_out_at_nomi(self) -> bool:
        """Whether NOMI's latest SMS consent event is the person's opt-out (STOP, spam report, any
        unsubscribe): a form or checkout box cannot undo it, only the person texting START."""
        if self.contact.contact_id is None:
            return False
        history = self.call(
            "contacts/consent/history",
            self.client.get_consent_history,
            self.contact.contact_id,
            channel="sms",
        )
        events = [e for e in history.consent_events if e.channel == "sms"]
        if not events:
            return history.current_sms_status == "unsubscribed"
        latest = events[0]  # NOMI lists the log newest first
        return latest.status == "unsubscribed" or (latest.source or "") in _OPT_OUT_SOURCES

    def receipt(self, step: ApplyConsent) -> None:
        """Before the step counts as done: a failed receipt write retries the event, and the retry
        finds the consent on NOMI's record and writes the receipt then."""
        if self.receipts is not None:
            self.receipts(step, self.plan)

    def on_record(self, step: ApplyConsent) -> bool:
        """Whether NOMI's consent log already holds this fact (same channel, status and time)."""
        history = self.call(
            "contacts/consent/history",
            self.client.get_consent_history,
            self.contact.contact_id,
            channel=step.channel,
        )
        wanted = step.evidence.timestamp
        # NOMI keeps consent times to the second; the evidence may carry microseconds.
        return any(
            event.channel == step.channel
            and event.status == step.evidence.status
            and abs((event.event_timestamp - wanted).total_seconds()) < 1
            for event in history.consent_events
        )

    def unsubscribe(self, step: Unsubscribe) -> None:
        moment = step.evidence.timestamp
        fresh = [
            c for c, subject in step.watermarks if subject is None or self.is_current(subject, c, moment)
        ]
        if not fresh:
            self.skip_step(step, "stale_consent", "a newer consent was already applied")
            return
        if self.claim(step) is False:
            return
        kind = "both" if len(fresh) == 2 else fresh[0]
        target = {"phone": step.phone} if step.phone else {"email": step.email}
        result: dict[str, Any] = {"type": kind}
        try:
            self.call("contacts/unsubscribe", self.client.unsubscribe, type=kind, **target)
        except NotFoundError as exc:
            self.release(step)
            if not step.erase:
                # Events arrive out of order: the event creating this contact may still be in flight.
                # Retry with SQS's growing delay; a person never created ends in the DLQ with this reason.
                raise TransientEventError("NOMI has no contact to unsubscribe yet; retrying") from exc
            # An erasure of someone NOMI does not know under this identifier: nothing to unsubscribe.
            result["not_found"] = True
        except BaseException:
            self.release(step)
            raise
        self.complete(step, result)
        for channel, subject in step.watermarks:
            if subject is not None and channel in fresh:
                self.accepted(subject, channel, moment)

    def forget(self, step: ForgetPerson) -> None:
        """Delete the person's items last, once every unsubscribe of the erasure is done."""
        deleted = self.store.forget(step.subjects)
        self.record(step, "done", f"{deleted} items deleted")

    def send(self, step: SendTransactional) -> None:
        # Claimed before the consent check: the claim is also the read that says "already sent".
        previous = self.claim(step)
        if previous is False:
            return
        try:
            allowed = self.may_receive_transactional(step)
        except BaseException:
            self.release(step)
            raise
        if not allowed:
            self.release(step)
            self.skip_step(step, "no_transactional_consent", "the contact cannot receive transactional SMS")
            return
        attempted_since = previous.attempted_since if isinstance(previous, Checkpoint) else None
        target = {"contact_id": self.contact.contact_id} if self.contact.contact_id else {"phone": step.phone}
        try:
            sent = self.call(
                "messages/create",
                self.client.send_message_safely,
                message=step.message,
                first_name=step.first_name,
                last_name=step.last_name,
                promo_url=step.promo_url,
                media_url=step.media_url,
                number_id=step.number_id,
                attempted_since=attempted_since,
                expected=self.expected_text(step),
                **target,
            )
        except NomiAPIError as exc:
            if 400 <= exc.status_code < 500:
                # NOMI refused the request: certainly nothing was sent, so the claim can go.
                self.release(step)
            raise
        status = getattr(sent, "status", "sent")
        self.complete(step, {"status": status, "attempts": getattr(sent, "attempts", 1)})

    def expected_text(self, step: SendTransactional) -> str:
        """The template with the token values this plan sets filled in (names, custom variables): what
        to look for in NOMI's log, so that another SMS of the same template is not taken for this one."""
        values: dict[str, str] = {}
        for other in self.plan.steps:
            if isinstance(other, UpsertContact):
                values.update(other.custom_variables)
        # NOMI's own tokens win over custom variables of the same name; fill them only from the step.
        for token in _STANDARD_TOKENS:
            values.pop(token, None)
        values.update({"first_name": step.first_name or "", "last_name": step.last_name or ""})
        values = {k: v for k, v in values.items() if v}
        return _TOKEN.sub(lambda m: values.get(m.group(1), m.group(0)), step.message)

    def may_receive_transactional(self, step: SendTransactional) -> bool:
        if self.contact.new and self.contact.sms_status in _TRANSACTIONAL_OK:
            return True
        if self.contact.contact_id is None:
            found = self.call("contacts/lookup", self.client.find_contact, phone=step.phone)
            if found is None:
                return True  # unknown to NOMI: no consent record, so transactional-only
            self.contact.contact_id = found.contact_id
            if (
                "sms_consent_status" in found.model_fields_set
                and found.sms_consent_status in _TRANSACTIONAL_OK
            ):
                # The lookup answered what consent/status would (null: no consent record, which the
                # docs make transactional-only); any other status asks consent/status outright.
                return True
        status = self.call("contacts/consent/status", self.client.get_consent_status, self.contact.contact_id)
        return bool(status.sms.can_receive_transactional)

    def record_conversion(self, step: RecordConversion) -> None:
        previous = self.claim(step)
        if previous is False:
            return
        if step.at_most_once and isinstance(previous, Checkpoint):
            # An earlier attempt of ours may have reached NOMI: at most once means never post again.
            self.conversion_unknown(step)
            return
        try:
            self.call("conversion", self.client.record_conversion, id=step.click_id, amount=step.amount)
        except AmbiguousSendError:
            if step.at_most_once:
                self.conversion_unknown(step)
                return
            # At least once: SQS retries the event and it posts again (maybe a second count), never
            # in this process (the client does not retry an unknown outcome).
            self.release(step)
            raise
        except BaseException:
            self.release(step)
            raise
        self.complete(step)

    def conversion_unknown(self, step: RecordConversion) -> None:
        """Keep the claim for good: the conversion may or may not be in NOMI; it is never posted again."""
        self.observer.skip("conversion_outcome_unknown")
        self.outcome.skips.append(Skip("conversion_outcome_unknown", "at most once: not posted again"))
        self.complete(step, {"outcome": "unknown"}, status="outcome_unknown")


def _consent_input(step: ApplyConsent | None) -> ConsentInput | None:
    if step is None:
        return None
    evidence: ConsentEvidence = step.evidence
    return ConsentInput(**evidence.model_dump(exclude={"reference"}))


def _normal_email(value: str | None) -> str | None:
    return normalize_identity("email", value) if value else None
