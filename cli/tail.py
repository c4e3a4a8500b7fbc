"""`nomi-gateway tail`: what became of each event, from the processor's per-record log lines.

Deployed: CloudWatch Logs `FilterLogEvents` on the processor's log group (`--stack`, `--function-name`
or `--log-group`), with `--endpoint-url` for moto. Local (`--local`): the local stack's outcome stream,
`GET /_local/outcomes?since=N` on its front door.

The processor logs (Powertools JSON) one line per record: "record processed" with each canonical
event's status and steps, "permanent failure, sent to the DLQ" or "record failed, will be retried"
with a reason. Phones and emails are already masked by the processor; nothing here prints a body.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

from cli.common import CliError, aws_client, local_stack_info, stack_output, stack_outputs

RECORD_PROCESSED = "record processed"
DEAD_LETTERED = "permanent failure, sent to the DLQ"
WILL_RETRY = "record failed, will be retried"
OUTCOME_MESSAGES = (RECORD_PROCESSED, DEAD_LETTERED, WILL_RETRY)
# CloudWatch filters server-side; the same test is repeated here because moto ignores JSON patterns.
FILTER_PATTERN = "{ " + " || ".join(f'($.message = "{m}")' for m in OUTCOME_MESSAGES) + " }"
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Outcome:
    """One event's outcome, as `tail` prints it."""

    timestamp: datetime | None
    source: str
    topic: str
    event_id: str
    outcome: str
    detail: str = ""

    def line(self) -> str:
        # The local stream has no timestamps (its own log shows them): no column rather than a blank one.
        stamp = self.timestamp.strftime("%Y-%m-%d %H:%M:%S") + "  " if self.timestamp else ""
        text = f"{stamp}{self.source} {self.topic} {self.event_id} → {self.outcome}"
        return text + (f"  ({self.detail})" if self.detail else "")

    def as_dict(self) -> dict[str, str]:
        return {
            "timestamp": self.timestamp.isoformat() if self.timestamp else "",
            "source": self.source,
            "topic": self.topic,
            "event_id": self.event_id,
            "outcome": self.outcome,
            "detail": self.detail,
        }


def parse_duration(text: str) -> timedelta:
    """`90s`, `10m`, `2h`, `1d` → a timedelta."""
    text = text.strip().lower()
    unit = text[-1:] if text[-1:] in _UNITS else "s"
    number = text[:-1] if text[-1:] in _UNITS else text
    try:
        return timedelta(seconds=float(number) * _UNITS[unit])
    except ValueError as exc:
        raise CliError(f"not a duration: {text!r} (e.g. 90s, 10m, 2h, 1d)") from exc


# --- reading the processor's log lines ------------------------------------------------------------


def log_fields(message: str) -> dict[str, Any] | None:
    """The JSON object of a Powertools log line (Lambda may prefix it), or None."""
    start = message.find("{")
    if start < 0:
        return None
    try:
        data = json.loads(message[start:])
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def outcomes_from_log(fields: dict[str, Any], timestamp: datetime | None) -> list[Outcome]:
    """The outcome(s) one processor log line reports; [] for any other line."""
    message = fields.get("message")
    if message not in OUTCOME_MESSAGES:
        return []
    base = {
        "timestamp": timestamp,
        "source": str(fields.get("source", "?")),
        "topic": str(fields.get("topic", "?")),
        "event_id": str(fields.get("correlation_id") or "?"),
    }
    if message == DEAD_LETTERED:
        return [Outcome(**base, outcome="dead-lettered", detail=str(fields.get("reason", "")))]
    if message == WILL_RETRY:
        return [Outcome(**base, outcome="retry later", detail=str(fields.get("reason", "")))]
    result = fields.get("outcome") or {}
    if result.get("duplicate_of_delivery"):
        return [Outcome(**base, outcome="duplicate delivery, nothing repeated")]
    events = result.get("events") or []
    if not events:
        return [Outcome(**base, outcome="acknowledged (nothing to do)")]
    return [_event_outcome(base, event) for event in events]


def _event_outcome(base: dict[str, Any], event: dict[str, Any]) -> Outcome:
    steps = ", ".join(f"{s.get('kind', '?')} {s.get('status', '?')}" for s in event.get("steps") or [])
    skips = "; ".join(str(s.get("reason")) for s in event.get("skips") or [])
    detail = f"{event.get('event_type', '?')}: {steps or 'no steps'}" + (
        f"; skipped: {skips}" if skips else ""
    )
    return Outcome(**base, outcome=str(event.get("status", "?")), detail=detail)


def _timestamp(millis: int | None) -> datetime | None:
    """CloudWatch's ingestion-side event time (the JSON's own timestamp format varies by logger)."""
    return datetime.fromtimestamp(millis / 1000, tz=UTC) if millis is not None else None


# --- sources of outcomes ----------------------------------------------------------------------------


class CloudWatchOutcomes:
    """Pages of `FilterLogEvents` on one log group, remembering what it has already returned."""

    def __init__(self, logs: Any, log_group: str, *, start: datetime) -> None:
        self.logs = logs
        self.log_group = log_group
        self.start_ms = int(start.timestamp() * 1000)
        self._seen: set[str] = set()

    def poll(self) -> list[Outcome]:
        """The outcomes logged since the start (or the last poll), oldest first."""
        from botocore.exceptions import BotoCoreError, ClientError

        found: list[Outcome] = []
        latest = self.start_ms
        try:
            for event in self._events():
                latest = max(latest, int(event.get("timestamp", 0)))
                if event.get("eventId") in self._seen:
                    continue
                self._seen.add(str(event.get("eventId")))
                fields = log_fields(str(event.get("message", "")))
                if fields is not None:
                    found.extend(outcomes_from_log(fields, _timestamp(event.get("timestamp"))))
        except (ClientError, BotoCoreError) as exc:
            raise CliError(f"cannot read log group {self.log_group}: {exc}") from exc
        # Re-read the last millisecond next time: events of the same instant may still arrive.
        self.start_ms = latest
        return found

    def _events(self) -> Iterator[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "logGroupName": self.log_group,
            "startTime": self.start_ms,
            "filterPattern": FILTER_PATTERN,
        }
        while True:
            page = self.logs.filter_log_events(**kwargs)
            yield from sorted(
                page.get("events", []), key=lambda e: (e.get("timestamp", 0), e.get("eventId", ""))
            )
            token = page.get("nextToken")
            if not token:
                return
            kwargs["nextToken"] = token


class LocalOutcomes:
    """The local stack's outcome stream: `GET /_local/outcomes?since=N` on its front door."""

    def __init__(self, front_door_url: str, *, http: Any = None) -> None:
        self.url = front_door_url.rstrip("/") + "/_local/outcomes"
        self.http = http
        self.since = 0

    def poll(self) -> list[Outcome]:
        import httpx

        try:
            if self.http is not None:
                response = self.http.get(self.url, params={"since": str(self.since)})
            else:
                response = httpx.get(self.url, params={"since": str(self.since)}, timeout=5)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise CliError(f"cannot read {self.url}: {exc}") from exc
        rows = response.json()
        self.since += len(rows)
        return [
            Outcome(
                timestamp=None,
                source=str(row.get("source", "?")),
                topic=str(row.get("topic", "?")),
                event_id=str(row.get("event_id") or "?"),
                outcome=str(row.get("outcome", "?")),
                detail=str(row.get("detail") or ""),
            )
            for row in rows
        ]


def processor_log_group(args: Any, *, cloudformation: Any = None) -> str:
    """The processor's log group: `--log-group`, else from `--function-name` or the stack's output."""
    if args.log_group:
        return str(args.log_group)
    function_name = args.function_name
    if not function_name and args.stack:
        outputs = stack_outputs(args.stack, cloudformation=cloudformation, endpoint_url=args.endpoint_url)
        function_name = stack_output(outputs, "ProcessorFunctionName", args.stack)
    if not function_name:
        raise CliError("which processor? pass --stack, --function-name or --log-group (or --local)")
    return f"/aws/lambda/{function_name}"


# --- command line ----------------------------------------------------------------------------------


def add_parser(subparsers: Any) -> None:
    """Register `tail` on the main CLI."""
    tail = subparsers.add_parser("tail", help="print what became of each event (processor outcomes)")
    tail.add_argument(
        "--stack", default=None, help="a deployed stack's name (its ProcessorFunctionName output)"
    )
    tail.add_argument("--function-name", default=None, help="the processor function's name")
    tail.add_argument("--log-group", default=None, help="the processor's log group")
    tail.add_argument("--local", action="store_true", help="the local stack started by `make run`")
    tail.add_argument("--since", default="10m", help="how far back to start (90s, 10m, 2h, 1d; default 10m)")
    tail.add_argument(
        "--follow", "-f", action="store_true", help="keep polling for new outcomes (Ctrl-C stops)"
    )
    tail.add_argument("--interval", type=float, default=5.0, help="seconds between polls with --follow")
    tail.add_argument("--json", action="store_true", help="one JSON object per line")
    tail.add_argument(
        "--endpoint-url", default=None, help="CloudWatch Logs endpoint (moto; default AWS_ENDPOINT_URL)"
    )
    tail.set_defaults(handler=run)


def run(
    args: Any,
    *,
    out: TextIO | None = None,
    logs: Any = None,
    http: Any = None,
    cloudformation: Any = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    sleep: Callable[[float], None] = time.sleep,
    max_polls: int | None = None,
) -> int:
    """Run `tail`: print the outcomes, once or (with --follow) until interrupted."""
    out = out or sys.stdout
    source: CloudWatchOutcomes | LocalOutcomes
    if args.local:
        source = LocalOutcomes(str(local_stack_info().get("front_door_url")), http=http)
    else:
        log_group = processor_log_group(args, cloudformation=cloudformation)
        logs = logs or aws_client("logs", args.endpoint_url)
        source = CloudWatchOutcomes(logs, log_group, start=now() - parse_duration(args.since))
    polls = 0
    try:
        while True:
            for outcome in source.poll():
                out.write(
                    (json.dumps(outcome.as_dict(), ensure_ascii=False) if args.json else outcome.line())
                    + "\n"
                )
            out.flush()
            polls += 1
            if not args.follow or (max_polls is not None and polls >= max_polls):
                return 0
            sleep(args.interval)
    except KeyboardInterrupt:
        return 0
