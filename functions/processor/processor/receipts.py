"""Consent receipts: for every opt-in NOMI accepted, what a merchant must be able to show a court.

A receipt holds the source, channel, status, the exact consent text, the page URL, the consent time,
IP address and user agent, and the SHA-256 of the raw request it came in (from the envelope). It is
written once (`If-None-Match: *`: a retry never replaces the first copy) to the receipts bucket
(versioned, encrypted, optionally under Object Lock governance retention), under

    receipts/<pseudonym of the phone (SMS) or the email (email)>/<consent time>-<channel>-<digest>.json

so that the key names nobody, yet `nomi-gateway consent show --phone|--email` finds a person's
receipts with the stack's IdentityHashKey, and a redact deletes every version of them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict

from gateway_events import Envelope
from gateway_events.identity import IdentityKind, pseudonym
from processor.plan import ApplyConsent, Plan, UpsertContact

PREFIX = "receipts/"
OPT_INS = frozenset({"subscribed", "pending"})


class ReceiptError(RuntimeError):
    """A receipt could not be written, read or deleted."""


class ConsentReceipt(BaseModel):
    """One opt-in as NOMI accepted it, with the request it came from."""

    model_config = ConfigDict(extra="ignore")

    receipt_version: Literal[1] = 1
    channel: Literal["sms", "email"]
    status: str
    consent_source: str
    gateway_source: str
    event_id: str
    phone: str | None = None
    email: str | None = None
    consent_text: str | None = None
    page_url: str | None = None
    consented_at: AwareDatetime
    recorded_at: AwareDatetime
    ip_address: str | None = None
    user_agent: str | None = None
    raw_request_sha256: str | None = None


class ReceiptContext(BaseModel):
    """What the envelope says about the request an opt-in came in."""

    gateway_source: str
    event_id: str
    page_url: str | None = None
    raw_request_sha256: str | None = None

    @classmethod
    def of(cls, envelope: Envelope, payload: Any) -> ReceiptContext:
        page_url = (
            payload.get("page_url") if envelope.source == "signup" and isinstance(payload, dict) else None
        )
        return cls(
            gateway_source=envelope.source,
            event_id=envelope.event_id,
            page_url=page_url if isinstance(page_url, str) else None,
            raw_request_sha256=envelope.body_sha256,
        )


class ReceiptStore:
    """Receipts in S3, keyed by pseudonym. `key` returns the IdentityHashKey (read lazily, cached)."""

    def __init__(self, bucket: str, *, key: Callable[[], bytes], s3: Any) -> None:
        self._bucket = bucket
        self._key = key
        self._s3 = s3

    def prefix(self, kind: IdentityKind, value: str) -> str:
        return f"{PREFIX}{pseudonym(kind, value, key=self._key())}/"

    def write(self, receipt: ConsentReceipt) -> str | None:
        """Store the receipt once; returns its key (None when it names no phone or email)."""
        kind, value = _identity_of(receipt)
        if value is None:
            return None
        key = self.prefix(kind, value) + _object_name(receipt)
        body = receipt.model_dump_json(exclude_none=True).encode("utf-8")
        from botocore.exceptions import ClientError

        try:
            self._s3.put_object(
                Bucket=self._bucket,
                Key=key,
                Body=body,
                ContentType="application/json",
                IfNoneMatch="*",
                ChecksumAlgorithm="SHA256",  # Object Lock buckets refuse a put without a checksum
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("PreconditionFailed", "412"):
                return key  # written by an earlier attempt of this event: the first copy stands
            raise ReceiptError(
                f"cannot write consent receipt: {exc.response.get('Error', {}).get('Code')}"
            ) from exc
        return key

    def find(self, kind: IdentityKind, value: str) -> list[ConsentReceipt]:
        """Every receipt of one phone or email, oldest first."""
        receipts = []
        for key in self._keys(self.prefix(kind, value)):
            body = self._s3.get_object(Bucket=self._bucket, Key=key)["Body"].read()
            receipts.append(ConsentReceipt.model_validate_json(body))
        return sorted(receipts, key=lambda r: r.consented_at)

    def forget(self, kind: IdentityKind, value: str) -> int:
        """Delete every version of one phone's or email's receipts (a redact); returns how many."""
        prefix = self.prefix(kind, value)
        paginator = self._s3.get_paginator("list_object_versions")
        doomed = [
            {"Key": entry["Key"], "VersionId": entry["VersionId"]}
            for page in paginator.paginate(Bucket=self._bucket, Prefix=prefix)
            for entry in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
        ]
        for start in range(0, len(doomed), 1000):
            answer = self._s3.delete_objects(
                Bucket=self._bucket,
                Delete={"Objects": doomed[start : start + 1000], "Quiet": True},
                # Governance retention keeps receipts from casual deletion, not from an erasure request.
                BypassGovernanceRetention=True,
            )
            if answer.get("Errors"):
                raise ReceiptError(f"cannot delete consent receipts: {answer['Errors'][0].get('Code')}")
        return len(doomed)

    def _keys(self, prefix: str) -> list[str]:
        paginator = self._s3.get_paginator("list_objects_v2")
        return [
            entry["Key"]
            for page in paginator.paginate(Bucket=self._bucket, Prefix=prefix)
            for entry in page.get("Contents", [])
        ]


ReceiptHook = Callable[[ApplyConsent, Plan], None]


def recorder(
    store: ReceiptStore | None, context: ReceiptContext, clock: Callable[[], datetime]
) -> ReceiptHook | None:
    """The executor's hook for one envelope: called right after NOMI accepted a consent step."""
    if store is None:
        return None

    def record(step: ApplyConsent, plan: Plan) -> None:
        if step.evidence.status not in OPT_INS:
            return
        contact = next((s for s in plan.steps if isinstance(s, UpsertContact)), None)
        evidence = step.evidence
        store.write(
            ConsentReceipt(
                channel=step.channel,
                status=evidence.status,
                consent_source=evidence.source,
                gateway_source=context.gateway_source,
                event_id=context.event_id,
                phone=contact.phone if contact else None,
                email=(contact.email.strip().lower() if contact and contact.email else None),
                consent_text=evidence.consent_text,
                page_url=context.page_url,
                consented_at=evidence.timestamp,
                recorded_at=clock(),
                ip_address=evidence.ip_address,
                user_agent=evidence.user_agent,
                raw_request_sha256=context.raw_request_sha256,
            )
        )

    return record


def forget_person(store: ReceiptStore | None, *, phone: str | None, email: str | None) -> int:
    """The redact path's call: delete the receipts of this phone and of this email."""
    if store is None:
        return 0
    removed = store.forget("phone", phone) if phone else 0
    return removed + (store.forget("email", email) if email else 0)


REDACT_EVENT_PREFIX = "shopify:redact:"  # processor.sources.shopify names customers/redact events so


def forget_if_redact(store: ReceiptStore | None, event: Any, plan: Plan) -> int:
    """After a customers/redact ran: the person's receipts go too (their phone and their email)."""
    if store is None or not str(getattr(event, "event_id", "")).startswith(REDACT_EVENT_PREFIX):
        return 0
    person = getattr(event, "person", None)
    email = person.email.strip().lower() if person is not None and person.email else None
    return forget_person(store, phone=plan.contact_key if plan.contact_key != email else None, email=email)


def _identity_of(receipt: ConsentReceipt) -> tuple[IdentityKind, str | None]:
    if receipt.channel == "email" and receipt.email:
        return "email", receipt.email
    return "phone", receipt.phone


def _object_name(receipt: ConsentReceipt) -> str:
    moment = receipt.consented_at.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    fact = json.dumps([receipt.event_id, receipt.channel, receipt.consented_at.isoformat()])
    return f"{moment}-{receipt.channel}-{hashlib.sha256(fact.encode()).hexdigest()[:16]}.json"
