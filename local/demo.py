"""`make demo`: every file of events/ through the gateway, then what NOMI saw.

Uses the stack `make run` started (found through .local-stack/stack.json or http://127.0.0.1:$PORT),
or starts one in this process. Files are sent one at a time, as their real senders send them, and
each is followed until the queue has settled, so that every row shows what that event caused.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import boto3
import httpx

from local.aws import LOCAL_CREDENTIALS
from local.env import LocalSettings
from local.events_io import EventFile, Signer, list_event_files, send_http, send_queue, unsendable_files
from local.report import EventLog, table
from local.stack import STATE_DIR, LocalStack, QueueStatus, StackInfo, read_state
from nomi_client.masking import mask_email, mask_phone, mask_text

SETTLE_TIMEOUT_SECONDS = 20.0
_POLL_SECONDS = 0.02
_NUMBERS = re.compile(r"/\d+(?=/|$)")


class DemoError(Exception):
    """The demo could not reach or start a stack."""


@dataclass
class Row:
    name: str
    sent_as: str
    answer: str
    nomi_calls: list[str] = field(default_factory=list)
    outcomes: list[dict[str, Any]] = field(default_factory=list)
    settled: bool = True


class StackClient:
    """A running stack, through its front door's /_local API and the AWS endpoint it names."""

    def __init__(self, info: StackInfo, http: httpx.Client) -> None:
        self.info = info
        self.http = http
        session = boto3.session.Session(
            aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            region_name=info.region,
        )
        self.sqs = session.client("sqs", endpoint_url=info.aws_endpoint_url)

    def status(self) -> QueueStatus:
        return QueueStatus.model_validate(self._local("status"))

    def outcomes(self, since: int) -> list[dict[str, Any]]:
        return list(self._local("outcomes", since=str(since)))

    def _local(self, name: str, **params: str) -> Any:
        response = self.http.get(f"{self.info.front_door_url}/_local/{name}", params=params)
        response.raise_for_status()
        return response.json()

    def sandbox_requests(self) -> list[dict[str, Any]]:
        if not self.info.sandbox_url:
            return []
        response = self.http.get(f"{self.info.sandbox_url}/_sandbox/requests")
        response.raise_for_status()
        return list(response.json().get("requests", []))

    def sandbox_state(self) -> dict[str, Any] | None:
        if not self.info.sandbox_url:
            return None
        response = self.http.get(f"{self.info.sandbox_url}/_sandbox/state")
        response.raise_for_status()
        return dict(response.json())


# --- finding or starting a stack ---------------------------------------------------------------------


def _reachable(info: StackInfo, http: httpx.Client) -> bool:
    try:
        return http.get(f"{info.front_door_url}/_local/info", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def find_running_stack(root: Path, port: int, http: httpx.Client) -> StackInfo | None:
    """The stack of `make run`: its state file first, then whatever answers on 127.0.0.1:PORT."""
    state = read_state(root / STATE_DIR)
    if state is not None and _reachable(state, http):
        return state
    try:
        response = http.get(f"http://127.0.0.1:{port}/_local/info", timeout=2)
        if response.status_code == 200:
            return StackInfo.model_validate(response.json())
    except (httpx.HTTPError, ValueError):
        return None
    return None


@contextlib.contextmanager
def stack_for_demo(root: Path, http: httpx.Client, out: TextIO) -> Iterator[StackInfo]:
    """A running stack's info, or a stack started here for the demo's duration."""
    port = int(os.environ.get("PORT") or 3000)
    running = find_running_stack(root, port, http)
    if running is not None:
        print(f"Using the stack running at {running.front_door_url}", file=out)
        yield running
        return
    print(
        "No stack running: starting one in this process (functions' own logs: .local-stack/functions.log)",
        file=out,
    )
    settings = LocalSettings.from_environ(os.environ).model_copy(update={"port": 0})
    with _function_output(root / STATE_DIR / "functions.log"):
        stack = LocalStack(settings, root=root, log=EventLog(out, quiet=True), poll_wait_seconds=0)
        with stack:
            yield stack.info()


@contextlib.contextmanager
def _function_output(path: Path) -> Iterator[None]:
    """The functions' JSON logs go to a file; the demo prints its table on the real stdout."""
    path.parent.mkdir(parents=True, exist_ok=True)
    saved = sys.stdout
    with path.open("a", encoding="utf-8") as log_file:
        sys.stdout = log_file
        try:
            yield
        finally:
            sys.stdout = saved


# --- sending and following each file -----------------------------------------------------------------


def sent_as(file: EventFile) -> str:
    if file.kind == "queue":
        return "SQS producer" if file.name.startswith("canonical/") else "EventBridge rule"
    headers = {k.lower() for k in file.http.headers}
    if "x-shopify-topic" in headers or "x-shopify-hmac-sha256" in headers:
        return "Shopify"
    if "stripe-signature" in headers:
        return "Stripe"
    if "origin" in headers:
        return "browser"
    return "HTTP client"


def order_files(files: list[EventFile], events_dir: Path) -> list[EventFile]:
    """events/index.json's order (a story: Shopify, Stripe, signup…); the rest in the order their
    folder's README mentions them (canonical: a contact before its consent change), then by name."""
    try:
        ordered = list(json.loads((events_dir / "index.json").read_text(encoding="utf-8"))["files"])
    except (OSError, ValueError, KeyError):
        ordered = []
    rank = {name: i for i, name in enumerate(ordered)}

    def readme_position(file: EventFile) -> int:
        folder, _, base = file.name.rpartition("/")
        try:
            position = (events_dir / folder / "README.md").read_text(encoding="utf-8").find(base)
        except OSError:
            return sys.maxsize
        return position if position >= 0 else sys.maxsize

    return sorted(files, key=lambda f: (rank.get(f.name, len(rank)), readme_position(f), f.name))


# Where the events carry NOMI click ids: ?sub= in landing URLs, click_id fields, and Stripe's
# client_reference_id (the processor's default reads it as the click id).
_CLICK_IDS = re.compile(
    r'[?&]sub=([A-Za-z0-9_-]{1,64})|"(?:nomi_click_id|click_id|client_reference_id)"\s*:\s*"([A-Za-z0-9_-]{1,64})"'
)


def click_ids(files: list[EventFile]) -> list[str]:
    """The NOMI short-link ids the events carry, so the sandbox can attribute their conversions."""
    found: dict[str, None] = {}
    for file in files:
        for match in _CLICK_IDS.finditer(json.dumps(file.data).replace('\\"', '"')):
            found[match.group(1) or match.group(2)] = None
    return list(found)


def seed_campaigns(client: StackClient, ids: list[str]) -> None:
    """One sandbox campaign per short-link id (NOMI answers 404 to a conversion for an unknown link)."""
    if not client.info.sandbox_url:
        return
    for link_id in ids:
        # A second demo on the same stack finds them seeded already: any answer will do.
        client.http.post(
            f"{client.info.sandbox_url}/_sandbox/campaigns",
            json={"name": f"Demo campaign {link_id}", "short_link_id": link_id},
        )


def _call_name(request: dict[str, Any]) -> str:
    """`contacts/create`, `GET contacts/{id}/consent/status`, `conversion→404`: short, no ids."""
    path = _NUMBERS.sub("/{id}", str(request.get("path", "?"))).lstrip("/")
    method = request.get("method", "?")
    status = request.get("status")
    name = path if method == "POST" else f"{method} {path}"
    return name + (f"→{status}" if status not in (None, 200) else "")


def wait_until_settled(client: StackClient, before: QueueStatus) -> bool:
    """Until nothing is visible, delayed or being processed, and the records in flight are only those
    waiting for a retry (a record between receive and processing is in flight and not yet waiting)."""
    deadline = time.monotonic() + SETTLE_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        status = client.status()
        waiting = before.waiting_for_retry + status.retries - before.retries
        if status.settled and status.in_flight <= waiting:
            return True
        time.sleep(_POLL_SECONDS)
    return False


def send_one(client: StackClient, file: EventFile, signer: Signer) -> Row:
    before = client.status()
    calls_before = len(client.sandbox_requests())
    if file.kind == "http":
        sent = send_http(client.http, client.info.front_door_url, file, signer)
        answer = str(sent.status)
    else:
        if not client.info.queue_url:
            raise DemoError("the stack has no event queue")
        send_queue(client.sqs, client.info.queue_url, file)
        answer = "SendMessage"
    settled = wait_until_settled(client, before)
    calls = [_call_name(r) for r in client.sandbox_requests()[calls_before:]]
    return Row(file.name, sent_as(file), answer, calls, client.outcomes(before.outcomes), settled)


_HTTP_ONLY = {
    401: "refused: bad signature",
    403: "refused: origin not allowed",
    404: "no such route (API Gateway)",
    413: "refused: too large",
}


def _outcome_text(row: Row) -> str:
    if row.outcomes:
        texts = []
        for outcome in row.outcomes:
            detail = outcome.get("detail") or ""
            texts.append(f"{outcome.get('outcome')}" + (f": {detail}" if detail else ""))
        return " | ".join(texts)
    if not row.settled:
        return "still in progress"
    if not row.answer.isdigit():
        return "no outcome reported"
    code = int(row.answer)
    if code < 300:
        return (
            "CORS preflight (API Gateway)"
            if row.name.endswith("preflight.json")
            else "answered, nothing queued"
        )
    return _HTTP_ONLY.get(code, "rejected as invalid" if code < 500 else "error")


def _calls_text(calls: list[str]) -> str:
    return ", ".join(calls) if calls else "-"


def results_table(rows: list[Row]) -> str:
    body = [
        (i, row.name, row.sent_as, row.answer, _calls_text(row.nomi_calls), mask_text(_outcome_text(row)))
        for i, row in enumerate(rows, start=1)
    ]
    return table(["#", "event file", "sent as", "answer", "NOMI calls", "outcome"], body, max_width=60)


# --- what NOMI saw -------------------------------------------------------------------------------------


def _masked(value: Any, kind: str) -> str:
    if not value:
        return "-"
    return mask_phone(str(value)) if kind == "phone" else mask_email(str(value))


def sandbox_tables(state: dict[str, Any]) -> str:
    """Contacts, consent log, messages and conversions (phones and emails masked)."""
    contacts = [
        (
            c.get("contact_id"),
            _masked(c.get("phone"), "phone"),
            _masked(c.get("email"), "email"),
            c.get("first_name") or "-",
            ",".join(c.get("tags") or []) or "-",
            c.get("sms_consent_status") or "-",
            c.get("email_consent_status") or "-",
        )
        for c in state.get("contacts", [])
    ]
    consent = [
        (e.get("contact_id"), e.get("channel"), e.get("status"), e.get("source"), e.get("event_timestamp"))
        for e in state.get("consent_log", [])
    ]
    messages = [
        (m.get("contact_id"), m.get("status") or "-", mask_text(str(m.get("message") or "")))
        for m in state.get("messages", [])
    ]
    conversions = [
        (c.get("short_link_id"), c.get("amount"), c.get("campaign_id") or "-")
        for c in state.get("conversions", [])
    ]
    parts = [
        f"Contacts ({len(contacts)})",
        table(["id", "phone", "email", "first name", "tags", "sms", "email consent"], contacts),
        f"\nConsent log ({len(consent)})",
        table(["contact", "channel", "status", "source", "consent time"], consent),
        f"\nMessages ({len(messages)})",
        table(["contact", "status", "message"], messages, max_width=100),
        f"\nConversions ({len(conversions)})",
        table(["short link", "amount", "campaign"], conversions),
    ]
    return "\n".join(parts)


def run_demo(client: StackClient, events_dir: Path, signer: Signer, out: TextIO) -> list[Row]:
    """Send every file, print the table and the sandbox's state; returns the rows."""
    files = order_files(list_event_files(events_dir), events_dir)
    seed_campaigns(client, click_ids(files))
    print(f"Sending {len(files)} events to {client.info.front_door_url} …\n", file=out)
    fixtures = unsendable_files(events_dir)
    if fixtures:
        folders = ", ".join(sorted({f"events/{name.rsplit('/', 1)[0]}/" for name in fixtures}))
        print(
            f"  (not sent: {len(fixtures)} function test fixtures in {folders}; no sender sends those)\n",
            file=out,
        )
    rows = []
    for file in files:
        row = send_one(client, file, signer)
        rows.append(row)
        print(f"  {row.name:<48} {row.answer:>11}  {len(row.nomi_calls)} NOMI call(s)", file=out, flush=True)
    print("\n" + results_table(rows) + "\n", file=out)
    status = client.status()
    print(
        f"Queue: {status.visible} waiting, {status.waiting_for_retry} waiting for a retry, {status.dead_letters} in the DLQ\n",
        file=out,
    )
    state = client.sandbox_state()
    if state is None:
        print("NOMI is the real API (NOMI_API_URL): no sandbox state to show.", file=out)
    else:
        print(f"What the NOMI sandbox holds ({client.info.sandbox_url}/_sandbox/state):\n", file=out)
        print(sandbox_tables(state), file=out)
    return rows


def main(argv: list[str] | None = None) -> int:  # noqa: ARG001 - `python -m local.demo` takes no options
    root = Path.cwd()
    out = sys.stdout
    settings = LocalSettings.from_environ(os.environ)
    signer = Signer(settings.shopify_webhook_secrets, settings.stripe_webhook_secrets)
    started = time.monotonic()
    with httpx.Client(timeout=30) as http, stack_for_demo(root, http, out) as info:
        rows = run_demo(StackClient(info, http), root / "events", signer, out)
    unsettled = [r.name for r in rows if not r.settled]
    print(f"\n{len(rows)} events in {time.monotonic() - started:.1f} s.", file=out)
    if unsettled:
        print(f"Still in progress when the demo moved on: {', '.join(unsettled)}", file=out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
