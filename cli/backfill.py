"""`nomi-gateway backfill shopify`: a store's existing subscribers, through the gateway's own queue.

1. A GraphQL bulk operation exports the shop's customers with `smsMarketingConsent` and
   `emailMarketingConsent` (state, `consentUpdatedAt`, opt-in level, collected from); `--since`
   limits it to customers updated since then (Shopify's `updated_at:>=` search).
2. Each customer of the JSONL result becomes, through the Shopify adapter's own consent mapping, one
   canonical `contact.upsert` with its consent evidence: the original consent time, the source
   (`checkout` when Shopify Checkout collected it, else `api`) and the merchant's configured consent
   text for that source. An SMS opt-in without configured text is dropped with a reason; a customer
   with no opt-in left is skipped with a reason. Opt-outs ride along with an imported customer.
3. The events go on the event queue, so that the processor applies them exactly as live traffic
   (idempotency, step checkpoints, consent ordering, the DLQ).

Running twice queues nothing new: event ids are derived from the consent facts (customer id, state
and time per channel), and each queued id is recorded in the stack's idempotency table as
`backfill#<event id>` after SendMessage succeeded; a later run skips ids found there
(`already_queued`). A customer whose consent changed since gets a new id and is queued again. Were a
run to die between the send and the record, the next run re-queues at most those ten, and the
processor's idempotency on the canonical event id makes that a duplicate delivery, not a second effect.

An interrupted run (Ctrl-C, an error, `--limit`) prints a resume token: the bulk operation's id and
the number of result lines consumed. `--resume TOKEN` polls that operation (its file is kept by
Shopify for 7 days) and continues after those lines.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

from cli.common import CliError, aws_client, local_stack_info, read_secret, stack_output, stack_outputs

MARKER_PREFIX = "backfill#"
MARKER_TTL = timedelta(days=400)
CHUNK = 100  # BatchGetItem's limit; also how often progress is shown
POLL_INTERVAL_SECONDS = 2.0
POLL_INTERVAL_MAX_SECONDS = 15.0
OPT_IN = ("subscribed", "pending")
TERMINAL = ("COMPLETED", "FAILED", "CANCELED", "EXPIRED")

_RUN_BULK = """mutation RunBackfillExport($query: String!) {
  bulkOperationRunQuery(query: $query) {
    bulkOperation { id status }
    userErrors { field message code }
  }
}"""
_BULK_STATUS = """query BackfillExportStatus($id: ID!) {
  node(id: $id) { ... on BulkOperation { id status errorCode objectCount rootObjectCount url } }
}"""


# --- where the backfill goes -------------------------------------------------------------------


@dataclass
class Target:
    """The stack to fill and the shop to read: queue, idempotency table, Admin API access, settings."""

    queue_url: str
    table: str
    shop_domain: str
    access_token: str = field(repr=False)
    settings: Any
    admin_url: str | None = None
    api_version: str | None = None
    endpoint_url: str | None = None


def local_target() -> Target:
    """The running local stack (`make run`): its queue, table, local Shopify and token secret."""
    from processor.settings import parse_settings

    info = local_stack_info()
    endpoint = info.get("aws_endpoint_url")
    secret = (info.get("secrets") or {}).get("ShopifyAdminTokenSecret")
    if not info.get("shopify_shop_domain") or not secret:
        raise CliError("the local stack has no Shopify Admin API access (ShopifyShopDomain is empty)")
    return Target(
        queue_url=str(info["queue_url"]),
        table=str((info.get("tables") or {})["IdempotencyTable"]),
        shop_domain=str(info["shopify_shop_domain"]),
        access_token=read_secret(secret, endpoint_url=endpoint),
        settings=parse_settings(info.get("mapping_settings")),
        admin_url=info.get("shopify_admin_url"),
        endpoint_url=endpoint,
    )


def stack_target(stack_name: str, *, endpoint_url: str | None = None) -> Target:
    """A deployed stack: outputs, the processor's own environment (shop, settings), the token secret."""
    from processor.settings import parse_settings

    outputs = stack_outputs(stack_name, endpoint_url=endpoint_url)
    function = stack_output(outputs, "ProcessorFunctionName", stack_name)
    try:
        configuration = aws_client("lambda", endpoint_url).get_function_configuration(FunctionName=function)
    except Exception as exc:
        raise CliError(f"cannot read the processor's configuration ({function}): {exc}") from exc
    variables = (configuration.get("Environment") or {}).get("Variables") or {}
    shop = variables.get("SHOPIFY_SHOP_DOMAIN") or ""
    secret = variables.get("SHOPIFY_ADMIN_TOKEN_SECRET_NAME") or ""
    if not shop or not secret:
        raise CliError(
            f"stack {stack_name!r} has no Admin API access: deploy with ShopifyShopDomain set and put the "
            "token in the ShopifyAdminTokenSecretArn output's secret (docs/shopify.md#admin-api-access)"
        )
    return Target(
        queue_url=stack_output(outputs, "EventQueueUrl", stack_name),
        table=stack_output(outputs, "IdempotencyTableName", stack_name),
        shop_domain=shop,
        access_token=read_secret(secret, endpoint_url=endpoint_url),
        settings=parse_settings(variables.get("MAPPING_SETTINGS")),
        api_version=variables.get("SHOPIFY_API_VERSION") or None,
        endpoint_url=endpoint_url,
    )


# --- the resume token ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ResumeToken:
    """Where an interrupted run stopped: the bulk operation and how many result lines were consumed."""

    operation_id: str
    lines_done: int
    shop_domain: str

    def encode(self) -> str:
        data = {"v": 1, "op": self.operation_id, "line": self.lines_done, "shop": self.shop_domain}
        return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> ResumeToken:
        try:
            data = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
            return cls(str(data["op"]), int(data["line"]), str(data["shop"]))
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise CliError("--resume: not a resume token printed by an earlier backfill") from exc


# --- one customer → one event (or a reason) ------------------------------------------------------


@dataclass
class Decision:
    """What one exported customer becomes: an event to queue, or the reason it is skipped, and notes
    on consent dropped from an imported customer (e.g. an SMS opt-in without configured text)."""

    event: Any = None
    skip: str | None = None
    notes: list[str] = field(default_factory=list)


def _stamp(evidence: Any) -> str:
    if evidence is None:
        return "-"
    return f"{evidence.status}@{evidence.timestamp.astimezone(UTC).isoformat()}"


def _checked_sms(evidence: Any, payload: dict[str, Any], notes: list[str]) -> Any:
    """The SMS evidence to import, or None with the reason noted. The adapter may already have dropped
    it (no text, not the customer's phone): the reason is read from the export, whichever layer did."""
    raw = payload.get("sms_marketing_consent") or {}
    opt_in = (raw.get("state") or "").lower() in OPT_IN
    if not (payload.get("phone") or "").strip():
        # SMS consent belongs to the customer's own phone, never to an address's.
        if opt_in or evidence is not None:
            notes.append("sms_consent_without_customer_phone")
        return None
    if not opt_in:
        return evidence  # an opt-out (or no decision) needs no text
    if not raw.get("consent_updated_at"):
        notes.append("sms_opt_in_without_consent_time")  # its time would be invented
        return None
    if evidence is None or not evidence.consent_text:
        # Consent rules: an SMS opt-in is evidence only with the language the person saw.
        notes.append("sms_opt_in_without_consent_text")
        return None
    return evidence


def decide(line: str, settings: Any, *, shop_domain: str) -> Decision:
    """The canonical event for one JSONL line of the export (the adapter's own consent mapping)."""
    from gateway_events import ContactUpsert, Envelope
    from processor.errors import InvalidEventError
    from processor.shopify_admin.shapes import customer_webhook
    from processor.sources.shopify import adapt_shopify

    try:
        node = json.loads(line)
    except ValueError:
        return Decision(skip="unreadable_line")
    payload = customer_webhook(node)
    if not payload or not payload.get("id"):
        return Decision(skip="not_a_customer")
    envelope = Envelope(
        source="shopify",
        event_id=f"backfill-{payload['id']}",
        topic="customers/update",
        received_at=datetime.now(UTC),
        headers={"x-shopify-shop-domain": shop_domain},
        payload=payload,
    )
    try:
        [event] = adapt_shopify(envelope, payload, settings)
    except (InvalidEventError, ValueError):
        return Decision(skip="invalid_customer")
    decision = Decision()
    sms = _checked_sms(event.sms_consent, payload, decision.notes)
    email = event.email_consent
    raw_email = payload.get("email_marketing_consent") or {}
    if (raw_email.get("state") or "").lower() in OPT_IN and email is None:
        decision.notes.append(
            "email_opt_in_not_recorded"
            if raw_email.get("consent_updated_at")
            else "email_opt_in_without_consent_time"
        )
    opted_in = [e for e in (sms, email) if e is not None and e.status in OPT_IN]
    if not opted_in:
        decision.skip = decision.notes[0] if decision.notes else "no_opt_in"
        return decision
    if not event.person.phone:
        decision.skip = "no_phone"  # NOMI keys contacts on the phone
        return decision
    moments = [e.timestamp for e in (sms, email) if e is not None]
    decision.event = ContactUpsert(
        event_id=f"shopify:backfill:customer:{payload['id']}:sms={_stamp(sms)}:email={_stamp(email)}",
        occurred_at=max(moments),
        person=event.person,
        tags=event.tags,
        sms_consent=sms,
        email_consent=email,
    )
    return decision


# --- Shopify's bulk export -----------------------------------------------------------------------


def bulk_query(since: datetime | None) -> str:
    from processor.shopify_admin.shapes import CUSTOMER_FIELDS

    search = f"(query: \"updated_at:>='{since.astimezone(UTC).isoformat()}'\")" if since else ""
    return f"{{ customers{search} {{ edges {{ node {{ {CUSTOMER_FIELDS} }} }} }} }}"


def start_export(admin: Any, since: datetime | None) -> str:
    """Start the bulk operation; its id."""
    data = admin.graphql(_RUN_BULK, {"query": bulk_query(since)})
    answer = data.get("bulkOperationRunQuery") or {}
    errors = answer.get("userErrors") or []
    if errors:
        messages = "; ".join(str(e.get("message")) for e in errors)
        raise CliError(f"Shopify refused the bulk export: {messages}")
    operation = answer.get("bulkOperation") or {}
    if not operation.get("id"):
        raise CliError("Shopify started no bulk operation")
    return str(operation["id"])


def wait_for_export(
    admin: Any,
    operation_id: str,
    *,
    sleep: Callable[[float], None] = time.sleep,
    on_poll: Callable[[dict[str, Any]], None] = lambda _op: None,
    interval: float = POLL_INTERVAL_SECONDS,
) -> dict[str, Any]:
    """Poll the bulk operation until it ends; the completed operation (url, rootObjectCount)."""
    while True:
        node = (admin.graphql(_BULK_STATUS, {"id": operation_id}) or {}).get("node")
        if not isinstance(node, dict):
            raise CliError(f"bulk operation {operation_id} not found (resume tokens last 7 days)")
        on_poll(node)
        status = node.get("status")
        if status == "COMPLETED":
            return node
        if status in TERMINAL:
            raise CliError(f"the bulk export ended {status} ({node.get('errorCode') or 'no error code'})")
        sleep(interval)
        interval = min(POLL_INTERVAL_MAX_SECONDS, interval * 1.5)


# --- the queue and the record of what was queued -------------------------------------------------


class Queueing:
    """Sends events to the event queue and records them; or, in a dry run, only reads the record."""

    def __init__(
        self, target: Target, *, dry_run: bool, now: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.target = target
        self.dry_run = dry_run
        self.sqs = aws_client("sqs", target.endpoint_url)
        self.dynamodb = aws_client("dynamodb", target.endpoint_url)
        self._now = now

    def already_queued(self, event_ids: list[str]) -> set[str]:
        found: set[str] = set()
        keys = [{"id": {"S": MARKER_PREFIX + e}} for e in dict.fromkeys(event_ids)]
        while keys:
            request = {self.target.table: {"Keys": keys, "ProjectionExpression": "id"}}
            answer = self.dynamodb.batch_get_item(RequestItems=request)
            found.update(
                i["id"]["S"][len(MARKER_PREFIX) :] for i in answer["Responses"].get(self.target.table, [])
            )
            keys = (answer.get("UnprocessedKeys") or {}).get(self.target.table, {}).get("Keys", [])
        return found

    def send(self, events: list[Any]) -> None:
        """Queue `events` (ten per SendMessageBatch), then record them; raises CliError on a failure."""
        if self.dry_run:
            return
        for start in range(0, len(events), 10):
            batch = events[start : start + 10]
            entries = [{"Id": str(i), "MessageBody": e.model_dump_json()} for i, e in enumerate(batch)]
            for _attempt in range(3):
                answer = self.sqs.send_message_batch(QueueUrl=self.target.queue_url, Entries=entries)
                failed = {f["Id"] for f in answer.get("Failed", [])}
                entries = [e for e in entries if e["Id"] in failed]
                if not entries:
                    break
            if entries:
                raise CliError(f"SQS refused {len(entries)} message(s): {answer.get('Failed')}")
            self._record(batch)

    def _record(self, events: list[Any]) -> None:
        expiration = str(int((self._now() + MARKER_TTL).timestamp()))
        requests = [
            {
                "PutRequest": {
                    "Item": {"id": {"S": MARKER_PREFIX + e.event_id}, "expiration": {"N": expiration}}
                }
            }
            for e in events
        ]
        while requests:
            answer = self.dynamodb.batch_write_item(RequestItems={self.target.table: requests[:25]})
            requests = requests[25:] + (answer.get("UnprocessedItems") or {}).get(self.target.table, [])


# --- progress and the summary --------------------------------------------------------------------


@dataclass
class Tally:
    read: int = 0
    queued: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    notes: Counter[str] = field(default_factory=Counter)
    total: int | None = None
    started: float = field(default_factory=time.monotonic)

    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.read / elapsed if elapsed > 0 else 0.0

    def progress_line(self) -> str:
        rate = self.rate()
        total = f"/{self.total:,}" if self.total is not None else ""
        eta = ""
        if self.total and rate > 0:
            eta = f"  ETA {max(0.0, (self.total - self.read) / rate):.0f}s"
        return (
            f"  read {self.read:,}{total}  queued {self.queued:,}  skipped {sum(self.skipped.values()):,}"
            f"  {rate:,.0f}/s{eta}"
        )

    def summary(self, *, dry_run: bool) -> list[str]:
        verb = "would queue" if dry_run else "queued"
        lines = [
            f"read {self.read:,} customers, {verb} {self.queued:,}, skipped {sum(self.skipped.values()):,} "
            f"in {time.monotonic() - self.started:.1f}s ({self.rate():,.0f}/s)"
        ]
        lines += [f"  skipped {reason}: {count:,}" for reason, count in sorted(self.skipped.items())]
        lines += [f"  of those imported, {note}: {count:,}" for note, count in sorted(self.notes.items())]
        return lines


class Progress:
    """A one-line progress bar on a terminal (counts, rate, ETA); nothing when the output is not one."""

    def __init__(self, out: TextIO, *, enabled: bool) -> None:
        self.out = out
        self.enabled = enabled
        self._shown = 0.0

    def show(self, text: str, *, force: bool = False) -> None:
        now = time.monotonic()
        if not self.enabled or (not force and now - self._shown < 0.2):
            return
        self._shown = now
        self.out.write("\r" + text.ljust(78))
        self.out.flush()

    def done(self) -> None:
        if self.enabled:
            self.out.write("\n")
            self.out.flush()


# --- the run ---------------------------------------------------------------------------------------


@dataclass
class Options:
    since: datetime | None = None
    dry_run: bool = False
    limit: int | None = None
    resume: ResumeToken | None = None


def consume(
    lines: Iterable[str],
    *,
    target: Target,
    queueing: Queueing,
    options: Options,
    tally: Tally,
    progress: Progress,
    skip_lines: int = 0,
) -> Iterator[int]:
    """Work the export's lines in chunks; yields the number of lines consumed after each chunk."""
    consumed = 0
    chunk: list[Decision] = []

    def flush() -> None:
        events = [d.event for d in chunk if d.event is not None]
        seen = queueing.already_queued([e.event_id for e in events]) if events else set()
        fresh = [e for e in events if e.event_id not in seen]
        if len(fresh) < len(events):
            tally.skipped["already_queued"] += len(events) - len(fresh)
        queueing.send(fresh)
        tally.queued += len(fresh)
        chunk.clear()

    for line in lines:
        consumed += 1
        if consumed <= skip_lines:
            continue
        if options.limit is not None and tally.read >= options.limit:
            consumed -= 1
            break
        decision = decide(line, target.settings, shop_domain=target.shop_domain)
        tally.read += 1
        if decision.skip:
            tally.skipped[decision.skip] += 1
        else:
            tally.notes.update(decision.notes)
        chunk.append(decision)
        if len(chunk) >= CHUNK:
            flush()
            progress.show(tally.progress_line())
            yield consumed
    if chunk:
        flush()
    progress.show(tally.progress_line(), force=True)
    yield consumed


def backfill(
    target: Target,
    options: Options,
    *,
    out: TextIO,
    err: TextIO,
    admin: Any = None,
    progress: bool | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Tally:
    """Export, decide, queue; prints the summary (and a resume token when stopped early)."""
    from processor.shopify_admin.client import DEFAULT_API_VERSION, AdminClient

    admin = admin or AdminClient(
        shop_domain=target.shop_domain,
        access_token=target.access_token,
        base_url=target.admin_url,
        api_version=target.api_version or DEFAULT_API_VERSION,
    )
    bar = Progress(err, enabled=err.isatty() if progress is None else progress)
    tally = Tally()
    if options.resume is not None:
        if options.resume.shop_domain != target.shop_domain:
            raise CliError(f"the resume token is for {options.resume.shop_domain}, not {target.shop_domain}")
        operation_id, skip = options.resume.operation_id, options.resume.lines_done
    else:
        operation_id, skip = start_export(admin, options.since), 0
    consumed = skip
    try:
        node = wait_for_export(
            admin,
            operation_id,
            sleep=sleep,
            on_poll=lambda op: bar.show(
                f"  Shopify bulk export: {op.get('status')}, {op.get('objectCount')} objects"
            ),
        )
        tally.total = max(0, int(node.get("rootObjectCount") or 0) - skip)
        if options.limit is not None:
            tally.total = min(tally.total, options.limit)
        lines = admin.download_lines(node["url"]) if node.get("url") else iter(())
        queueing = Queueing(target, dry_run=options.dry_run)
        for done in consume(
            lines,
            target=target,
            queueing=queueing,
            options=options,
            tally=tally,
            progress=bar,
            skip_lines=skip,
        ):
            consumed = done
    except (KeyboardInterrupt, Exception) as exc:
        bar.done()
        _print(out, tally.summary(dry_run=options.dry_run))
        token = ResumeToken(operation_id, consumed, target.shop_domain).encode()
        print(f"stopped ({type(exc).__name__}): continue with --resume {token}", file=err)
        raise
    bar.done()
    _print(out, tally.summary(dry_run=options.dry_run))
    if options.limit is not None and tally.read >= options.limit:
        token = ResumeToken(operation_id, consumed, target.shop_domain).encode()
        print(f"stopped at --limit {options.limit}: continue with --resume {token}", file=out)
    return tally


def _print(out: TextIO, lines: list[str]) -> None:
    for line in lines:
        print(line, file=out)


def _since(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise CliError(f"--since {text!r} is not an ISO 8601 date or time") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def add_parser(subparsers: Any) -> None:
    """Register `backfill shopify` on the main CLI."""
    parser = subparsers.add_parser(
        "backfill",
        help="import a store's existing subscribers through the gateway's queue",
        description="Import existing subscribers: a Shopify bulk export of customers and their marketing "
        "consent, queued as canonical events for the processor (docs/shopify.md#backfilling-existing-subscribers).",
    )
    sources = parser.add_subparsers(dest="backfill_source", required=True)
    shopify = sources.add_parser("shopify", help="customers and their SMS/email consent from Shopify")
    where = shopify.add_mutually_exclusive_group()
    where.add_argument("--stack", default=None, help="a deployed stack's name (default: the local stack)")
    where.add_argument("--local", action="store_true", help="the local stack started by `make run` (default)")
    shopify.add_argument(
        "--since", default=None, help="only customers updated since (ISO 8601, e.g. 2026-01-01)"
    )
    shopify.add_argument("--dry-run", action="store_true", help="count what would be queued; queue nothing")
    shopify.add_argument("--limit", type=int, default=None, help="read at most this many customers")
    shopify.add_argument("--resume", default=None, help="continue an interrupted run from its token")
    shopify.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show the progress bar or not (default: when stderr is a terminal)",
    )
    shopify.add_argument("--endpoint-url", default=None, help="AWS endpoint (default AWS_ENDPOINT_URL)")
    shopify.set_defaults(handler=run)


def run(args: Any, *, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    if args.limit is not None and args.limit < 1:
        raise CliError("--limit must be at least 1")
    options = Options(
        since=_since(args.since) if args.since else None,
        dry_run=args.dry_run,
        limit=args.limit,
        resume=ResumeToken.decode(args.resume) if args.resume else None,
    )
    target = stack_target(args.stack, endpoint_url=args.endpoint_url) if args.stack else local_target()
    try:
        backfill(target, options, out=out, err=err, progress=args.progress)
    except KeyboardInterrupt:
        return 130
    except CliError:
        raise
    except Exception as exc:
        raise CliError(f"backfill failed: {type(exc).__name__}: {exc}") from exc
    return 0
