"""Step checkpoints and the latest consent time per contact and channel, in the idempotency table.

Two kinds of item share the Powertools idempotency table (partition key `id`, TTL `expiration`):
- `step#<key>`: one NOMI step, `attempted` (claimed, outcome unknown) then `done` (with a small result).
  Fact-scoped keys (`shipment:<id>:sms`, `order:<id>:conversion`) make the same fact under a new
  event id repeat nothing; event-scoped keys (prefixed with the event identity) make a retry of one
  event repeat no completed step.
- `consent#<subject>#<channel>`: the newest consent timestamp NOMI accepted, read before a consent
  call (an older consent event never overwrites a newer one) and advanced by compare-and-set only
  after NOMI accepted the change (a newer consent NOMI refused does not silence an older one).

Keys name a phone or email only by its pseudonym (`phone:<hmac>`, `email:<hmac>`); an item whose key
holds one also carries it as `person`, the key of the sparse index `PERSON_INDEX`, so that a privacy
erasure finds and deletes that person's items without a scan.

Round trips: a fresh claim is one conditional PutItem whose refusal returns the item (no read first),
a takeover of an earlier attempt a second one conditioned on that attempt being unchanged; inside
a `unit_of_work()` completions are buffered and written together, with the idempotency record's own
completion (`processor.idempotency`), in one BatchWriteItem. A crash before that write leaves the
claims `attempted`: the retry then checks NOMI before repeating an effect, as after any lost answer.

`InMemoryCheckpoints` implements the same protocol for unit tests.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

from processor.errors import TransientEventError

StepState = Literal["attempted", "done"]

# Duplicate descriptions of one fact (a fulfillment re-sent weeks later with new tracking) must still
# find the checkpoint; a retry of one event only needs it for the few days SQS and the sources retry.
FACT_TTL = timedelta(days=400)
EVENT_TTL = timedelta(days=14)
# A foreign claim younger than this may still be running (Lambda's maximum timeout is 15 minutes).
DEFAULT_LEASE = timedelta(minutes=15)
# The idempotency table's sparse index on `person` (template.yaml IdempotencyTable).
PERSON_INDEX = "person"
# BatchWriteItem takes 25 requests; unprocessed ones (throttling) are sent again this many times.
_BATCH_WRITE_MAX = 25
_BATCH_WRITE_TRIES = 4
_PSEUDONYM = re.compile(r"\b(?:phone|email):[0-9a-f]{64}\b")


def person_of(key: str) -> str | None:
    """The pseudonym a checkpoint or watermark key names, if any."""
    found = _PSEUDONYM.search(key)
    return found.group(0) if found else None


@dataclass(frozen=True)
class Checkpoint:
    """What the store knows about one step."""

    key: str
    state: StepState
    owner: str
    attempted_at: datetime
    """The latest claim's time: what its lease runs from."""
    result: dict[str, Any] = field(default_factory=dict)
    first_attempted_at: datetime | None = None
    """The first claim's time since the step was last free: from when an effect may have happened
    (a send's lookup searches from here). None: as `attempted_at`."""

    @property
    def attempted_since(self) -> datetime:
        return self.first_attempted_at or self.attempted_at


class StepDoneError(Exception):
    """The step was completed (perhaps by another event) while we tried to claim it."""

    def __init__(self, checkpoint: Checkpoint) -> None:
        super().__init__(checkpoint.key)
        self.checkpoint = checkpoint


class StepBusyError(TransientEventError):
    """Another event claimed the step moments ago and may still be running it: retry later."""


class CheckpointStore(Protocol):
    """Where the executor records its progress."""

    def get(self, key: str) -> Checkpoint | None: ...

    def claim(
        self, key: str, *, owner: str, now: datetime, fact: bool, lease: timedelta = DEFAULT_LEASE
    ) -> Checkpoint | None:
        """Mark the step attempted. Returns the earlier attempt this claim takes over (None when
        fresh). Raises StepDoneError when done, StepBusyError when another owner's claim is fresh.
        Taking over keeps the first attempt's time (`first_attempted_at`): a claim that is taken
        over again later must still lead its next owner back to the attempt that may have acted."""
        ...

    def complete(
        self,
        key: str,
        *,
        owner: str,
        result: dict[str, Any],
        fact: bool,
        person: str | None = None,
        immediate: bool = False,
    ) -> None:
        """Mark the step done with its result. `person` names whose data the result holds, for an
        item whose key names nobody (the key's own pseudonym is used otherwise). `immediate`: written
        now even inside a unit of work (what other records running at the same time must see)."""
        ...

    def release(self, key: str, *, owner: str) -> None:
        """Drop our claim: the step certainly had no effect, so nothing needs checking on retry."""
        ...

    def latest_consent(self, subject: str, channel: str) -> datetime | None:
        """The newest consent time NOMI accepted for subject+channel, or None when none is stored."""
        ...

    def advance_consent(self, subject: str, channel: str, timestamp: datetime) -> bool:
        """After NOMI accepted it: record `timestamp` as the newest consent for subject+channel unless a
        newer one is stored. True when it is the newest (or equal: a retry of the same fact)."""
        ...

    def forget(self, subjects: tuple[str, ...]) -> int:
        """Delete every item naming one of these pseudonyms; returns how many were deleted."""
        ...

    def unit_of_work(self) -> Any:
        """A context in which completions may be buffered; whatever is still buffered is written
        when it ends (normally the idempotency record's completion has written it already)."""
        ...


@dataclass
class _Unit:
    """One record's unit of work: the completions not yet written, and when it claimed each step."""

    done: dict[str, dict[str, Any]] = field(default_factory=dict)
    claimed: dict[str, datetime] = field(default_factory=dict)


def _micros(moment: datetime) -> int:
    return int(moment.astimezone(UTC).timestamp() * 1_000_000)


def _from_micros(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1_000_000, tz=UTC)


class InMemoryCheckpoints:
    """The protocol in a dict, for tests (thread-safe: the batch runs records on threads)."""

    def __init__(self) -> None:
        self.steps: dict[str, Checkpoint] = {}
        self.persons: dict[str, str] = {}
        self.consents: dict[tuple[str, str], datetime] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> Checkpoint | None:
        with self._lock:
            return self.steps.get(key)

    def claim(
        self,
        key: str,
        *,
        owner: str,
        now: datetime,
        fact: bool,  # noqa: ARG002 - only the TTL depends on it
        lease: timedelta = DEFAULT_LEASE,
    ) -> Checkpoint | None:
        with self._lock:
            previous = self.steps.get(key)
            _check_claimable(previous, owner=owner, now=now, lease=lease)
            first = previous.attempted_since if previous is not None else now
            self.steps[key] = Checkpoint(
                key=key, state="attempted", owner=owner, attempted_at=now, first_attempted_at=first
            )
            return previous

    def complete(
        self,
        key: str,
        *,
        owner: str,
        result: dict[str, Any],
        fact: bool,  # noqa: ARG002 - only the TTL depends on it
        person: str | None = None,
        immediate: bool = False,  # noqa: ARG002 - always immediate in memory
    ) -> None:
        with self._lock:
            previous = self.steps.get(key)
            attempted_at = previous.attempted_at if previous else datetime.now(UTC)
            self.steps[key] = Checkpoint(key, "done", owner, attempted_at, dict(result))
            if person is not None:
                self.persons[key] = person

    def release(self, key: str, *, owner: str) -> None:
        with self._lock:
            current = self.steps.get(key)
            if current is not None and current.state == "attempted" and current.owner == owner:
                del self.steps[key]

    def latest_consent(self, subject: str, channel: str) -> datetime | None:
        with self._lock:
            return self.consents.get((subject, channel))

    def advance_consent(self, subject: str, channel: str, timestamp: datetime) -> bool:
        with self._lock:
            stored = self.consents.get((subject, channel))
            if stored is not None and stored > timestamp:
                return False
            self.consents[(subject, channel)] = timestamp
            return True

    def forget(self, subjects: tuple[str, ...]) -> int:
        wanted = set(subjects)
        with self._lock:
            steps = [k for k in self.steps if (self.persons.get(k) or person_of(k)) in wanted]
            consents = [k for k in self.consents if k[0] in wanted]
            for key in steps:
                del self.steps[key]
            for pair in consents:
                del self.consents[pair]
            return len(steps) + len(consents)

    def unit_of_work(self) -> Any:
        return nullcontext()


def _check_claimable(previous: Checkpoint | None, *, owner: str, now: datetime, lease: timedelta) -> None:
    if previous is None:
        return
    if previous.state == "done":
        raise StepDoneError(previous)
    # Our own earlier attempt is dead (idempotency lets one delivery of an event run at a time);
    # a foreign one is presumed alive until its lease runs out.
    if previous.owner != owner and now - previous.attempted_at < lease:
        raise StepBusyError(f"step {previous.key} is being worked by another event")


class DynamoDBCheckpoints:
    """The protocol on DynamoDB with conditional writes (safe across concurrent Lambda instances)."""

    def __init__(self, table_name: str, *, client: Any = None) -> None:
        if client is None:
            import boto3

            client = boto3.client("dynamodb")
        self._client = client
        self._table = table_name
        # Per thread: the batch runs records on threads, each record its own unit of work.
        self._local = threading.local()

    @property
    def client(self) -> Any:
        return self._client

    @property
    def table_name(self) -> str:
        return self._table

    # --- buffered completions -----------------------------------------------------------------
    def _unit(self) -> _Unit | None:
        return getattr(self._local, "unit", None)

    @contextmanager
    def unit_of_work(self) -> Iterator[None]:
        if self._unit() is not None:  # nested: the outer unit writes everything
            yield
            return
        self._local.unit = _Unit()
        try:
            yield
        except BaseException:
            # The steps done before the failure must read as done on the retry: one request each
            # (the batch may be what failed); if even that fails, their claims stay `attempted` and
            # the retry checks NOMI before repeating them.
            unit = self._unit()
            for item in list(unit.done.values()) if unit is not None else []:
                with suppress(Exception):
                    self._write_one({"PutRequest": {"Item": item}})
            raise
        else:
            self.flush()
        finally:
            self._local.unit = None

    def flush(self, *extra: dict[str, Any]) -> None:
        """Write the buffered completions, with `extra` BatchWriteItem requests (the idempotency
        record's), in one request: a lone one as PutItem/DeleteItem, more as BatchWriteItem.

        BatchWriteItem rather than TransactWriteItems: the writes need no atomicity (each stands
        alone), it costs half the write capacity, and moto copies the whole table per transaction."""
        unit = self._unit()
        written = list(unit.done) if unit is not None else []
        requests = [{"PutRequest": {"Item": unit.done[key]}} for key in written] if unit is not None else []
        requests += extra
        if len(requests) == 1:
            self._write_one(requests[0])
        else:
            for start in range(0, len(requests), _BATCH_WRITE_MAX):
                self._batch_write(requests[start : start + _BATCH_WRITE_MAX])
        # Only once written: a failed write leaves them buffered for the failure path to try again.
        if unit is not None:
            for key in written:
                unit.done.pop(key, None)

    def _write_one(self, request: dict[str, Any]) -> None:
        if "PutRequest" in request:
            self._client.put_item(TableName=self._table, **request["PutRequest"])
        else:
            self._client.delete_item(TableName=self._table, **request["DeleteRequest"])

    def _batch_write(self, requests: list[dict[str, Any]]) -> None:
        """One BatchWriteItem, its unprocessed items (throttling) again a few times, then what is
        still left one request each (with botocore's own retries): a step must not stay `attempted`
        behind a COMPLETED idempotency record that would answer its redelivery."""
        for attempt in range(_BATCH_WRITE_TRIES):
            answer = self._client.batch_write_item(RequestItems={self._table: requests})
            requests = (answer.get("UnprocessedItems") or {}).get(self._table) or []
            if not requests:
                return
            time.sleep(0.05 * 2**attempt)
        for request in requests:
            self._write_one(request)

    # --- the protocol ---------------------------------------------------------------------------
    def get(self, key: str) -> Checkpoint | None:
        buffered = self._buffered(key)
        if buffered is not None:
            return buffered
        answer = self._client.get_item(
            TableName=self._table, Key={"id": {"S": f"step#{key}"}}, ConsistentRead=True
        )
        item = answer.get("Item")
        return None if item is None else _checkpoint_from_item(key, item)

    def _buffered(self, key: str) -> Checkpoint | None:
        """A completion of this unit of work not yet written (it reads back as done)."""
        unit = self._unit()
        item = unit.done.get(key) if unit else None
        return None if item is None else _checkpoint_from_item(key, item)

    def claim(
        self, key: str, *, owner: str, now: datetime, fact: bool, lease: timedelta = DEFAULT_LEASE
    ) -> Checkpoint | None:
        buffered = self._buffered(key)
        if buffered is not None:
            raise StepDoneError(buffered)
        item = _attempted_item(key, owner=owner, now=now, first=now, fact=fact)
        # A fresh step (almost every claim) costs one conditional PutItem; only an earlier attempt
        # costs a second write, the takeover. A put, not an update expression: DynamoDB charges both
        # alike, but moto serves an update expression ~3x slower (docs/performance.md section 3).
        previous = self._put_claim(key, item, ConditionExpression="attribute_not_exists(id)")
        if previous is not None:
            _check_claimable(previous, owner=owner, now=now, lease=lease)
            self._take_over(key, previous, owner=owner, now=now, fact=fact)
        unit = self._unit()
        if unit is not None:
            unit.claimed[key] = now
        return previous

    def _take_over(self, key: str, previous: Checkpoint, *, owner: str, now: datetime, fact: bool) -> None:
        """Replace an earlier attempt's claim, keeping its first attempt's time (from when an effect
        may have happened), on condition that it is still the claim we read."""
        item = _attempted_item(key, owner=owner, now=now, first=previous.attempted_since, fact=fact)
        current = self._put_claim(
            key,
            item,
            ConditionExpression="#s = :attempted AND #o = :owner AND attempted_at = :at",
            ExpressionAttributeNames={"#s": "state", "#o": "owner"},
            ExpressionAttributeValues={
                ":attempted": {"S": "attempted"},
                ":owner": {"S": previous.owner},
                ":at": {"N": str(_micros(previous.attempted_at))},
            },
        )
        if current is not None:
            # Changed between our two writes: completed meanwhile reads as done (nothing to retry);
            # claimed anew by someone else, or released, means retry later.
            if current.state == "done":
                raise StepDoneError(current)
            raise StepBusyError(f"step {key} changed while being claimed")

    def _put_claim(self, key: str, item: dict[str, Any], **condition: Any) -> Checkpoint | None:
        """Put `item` on `condition` (PutItem's condition parameters). None when written; else the item
        found there (the refusal carries it: why it was refused costs no read), or a busy error when
        there was none."""
        from botocore.exceptions import ClientError

        try:
            self._client.put_item(
                TableName=self._table,
                Item=item,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
                **condition,
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            found = exc.response.get("Item")  # type: ignore[typeddict-item]
            if not found:
                raise StepBusyError(f"step {key} changed while being claimed") from exc
            return _checkpoint_from_item(key, found)
        return None

    def complete(
        self,
        key: str,
        *,
        owner: str,
        result: dict[str, Any],
        fact: bool,
        person: str | None = None,
        immediate: bool = False,
    ) -> None:
        now = datetime.now(UTC)
        person = person or person_of(key)
        unit = self._unit()
        # The whole item (a batch write puts, it cannot update), attempted at the claim's time when
        # this unit claimed it, else now (a done step's attempt time is read by nobody).
        attempted = unit.claimed.get(key, now) if unit is not None else now
        item = {
            "id": {"S": f"step#{key}"},
            "state": {"S": "done"},
            "owner": {"S": owner},
            "attempted_at": {"N": str(_micros(attempted))},
            "done_at": {"N": str(_micros(now))},
            "result": {"S": json.dumps(result, default=str)},
            "expiration": {"N": str(_expiration(now, fact))},
            **({"person": {"S": person}} if person else {}),
        }
        if unit is not None and not immediate:
            unit.done[key] = item  # written with the idempotency record's completion
        else:
            self._client.put_item(TableName=self._table, Item=item)

    def release(self, key: str, *, owner: str) -> None:
        from botocore.exceptions import ClientError

        try:
            self._client.delete_item(
                TableName=self._table,
                Key={"id": {"S": f"step#{key}"}},
                ConditionExpression="#s = :attempted AND #o = :owner",
                ExpressionAttributeNames={"#s": "state", "#o": "owner"},
                ExpressionAttributeValues={":attempted": {"S": "attempted"}, ":owner": {"S": owner}},
            )
        except ClientError as exc:
            # Someone else owns it now, or it is done: either way the claim is no longer ours to drop.
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise

    def latest_consent(self, subject: str, channel: str) -> datetime | None:
        answer = self._client.get_item(
            TableName=self._table, Key={"id": {"S": f"consent#{subject}#{channel}"}}, ConsistentRead=True
        )
        item = answer.get("Item")
        return None if item is None else _from_micros(int(item["consent_at"]["N"]))

    def advance_consent(self, subject: str, channel: str, timestamp: datetime) -> bool:
        from botocore.exceptions import ClientError

        try:
            self._client.put_item(
                TableName=self._table,
                Item={
                    "id": {"S": f"consent#{subject}#{channel}"},
                    "consent_at": {"N": str(_micros(timestamp))},
                    "expiration": {"N": str(_expiration(datetime.now(UTC), True))},
                    **_person_attribute(subject),
                },
                ConditionExpression="attribute_not_exists(id) OR consent_at <= :ts",
                ExpressionAttributeValues={":ts": {"N": str(_micros(timestamp))}},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            return False
        return True

    def forget(self, subjects: tuple[str, ...]) -> int:
        # Completions still buffered may name the person: written first, so that they are deleted too.
        unit = self._unit()
        if unit is not None and unit.done:
            self.flush()
        deleted = 0
        for subject in subjects:
            for key in self._keys_of(subject):
                self._client.delete_item(TableName=self._table, Key={"id": {"S": key}})
                deleted += 1
        return deleted

    def _keys_of(self, subject: str) -> list[str]:
        paginator = self._client.get_paginator("query")
        pages = paginator.paginate(
            TableName=self._table,
            IndexName=PERSON_INDEX,
            KeyConditionExpression="#p = :p",
            ExpressionAttributeNames={"#p": "person"},
            ExpressionAttributeValues={":p": {"S": subject}},
        )
        return [item["id"]["S"] for page in pages for item in page.get("Items", [])]


def _attempted_item(key: str, *, owner: str, now: datetime, first: datetime, fact: bool) -> dict[str, Any]:
    """A claim's whole item: attempted by `owner` at `now`, first attempted at `first`."""
    return {
        "id": {"S": f"step#{key}"},
        "state": {"S": "attempted"},
        "owner": {"S": owner},
        "attempted_at": {"N": str(_micros(now))},
        "first_attempted_at": {"N": str(_micros(first))},
        "expiration": {"N": str(_expiration(now, fact))},
        **_person_attribute(key),
    }


def _person_attribute(key: str) -> dict[str, dict[str, str]]:
    person = person_of(key)
    return {"person": {"S": person}} if person else {}


def _expiration(now: datetime, fact: bool) -> int:
    return int((now + (FACT_TTL if fact else EVENT_TTL)).timestamp())


def _checkpoint_from_item(key: str, item: dict[str, Any]) -> Checkpoint:
    result = item.get("result", {}).get("S")
    return Checkpoint(
        key=key,
        state=item["state"]["S"],
        owner=item.get("owner", {}).get("S", ""),
        attempted_at=_from_micros(int(item["attempted_at"]["N"])),
        result=json.loads(result) if result else {},
        first_attempted_at=_from_micros(int(first["N"]))
        if (first := item.get("first_attempted_at"))
        else None,
    )
