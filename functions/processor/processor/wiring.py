"""Builds the processor's dependencies from the environment (once per container)."""

from __future__ import annotations

import os
from typing import Any

from processor.checkpoints import DynamoDBCheckpoints, InMemoryCheckpoints
from processor.deadline import Deadline
from processor.dlq import DeadLetter, SqsDeadLetters
from processor.record import RecordDeps, RecordProcessor

SECRET_MAX_AGE_SECONDS = 300


class MissingDeadLetterQueueError(RuntimeError):
    """DLQ_URL is not set: a permanent failure cannot be parked, so the record is retried instead."""


class _NoDeadLetterQueue:
    def send(self, letter: DeadLetter) -> None:
        raise MissingDeadLetterQueueError(f"DLQ_URL is not set; cannot park event {letter.event_id}")


def nomi_api_key() -> str | None:
    """The NOMI key: Secrets Manager (`NOMI_API_KEY_SECRET_NAME`, cached 5 min) or env `NOMI_API_KEY`."""
    secret_name = os.getenv("NOMI_API_KEY_SECRET_NAME")
    if secret_name:
        from aws_lambda_powertools.utilities import parameters

        return str(parameters.get_secret(secret_name, max_age=SECRET_MAX_AGE_SECONDS)).strip()
    return os.getenv("NOMI_API_KEY") or None


def identity_hash_key() -> bytes:
    """The stack's IdentityHashKey (`IDENTITY_HASH_SECRET_NAME`, cached 5 min), for pseudonyms."""
    from aws_lambda_powertools.utilities import parameters

    secret_name = os.environ["IDENTITY_HASH_SECRET_NAME"]
    return str(parameters.get_secret(secret_name, max_age=SECRET_MAX_AGE_SECONDS)).strip().encode("utf-8")


def build_receipt_store(s3: Any, logger: Any) -> Any:
    """Consent receipts in `CONSENT_RECEIPTS_BUCKET`; None (and a warning) when it is not set."""
    bucket = os.getenv("CONSENT_RECEIPTS_BUCKET")
    if not bucket:
        logger.warning("CONSENT_RECEIPTS_BUCKET is not set: no consent receipts are kept")
        return None
    from processor.receipts import ReceiptStore

    return ReceiptStore(bucket, key=identity_hash_key, s3=s3)


def build_record_processor(
    *, logger: Any, idempotency_config: Any, deadline: Deadline | None = None
) -> RecordProcessor:
    """Everything a record needs, from the environment documented in contracts §4."""
    import boto3

    from nomi_client import NomiClient
    from processor.settings import load_settings
    from processor.sources import adapt

    settings = load_settings()
    if os.getenv("IDENTITY_HASH_SECRET_NAME"):
        settings = settings.with_identity_key(identity_hash_key())
    else:
        logger.warning("IDENTITY_HASH_SECRET_NAME is not set: stored keys use the development pseudonym key")
    client = NomiClient(
        api_key=nomi_api_key(),
        base_url=os.getenv("NOMI_API_URL") or None,
        default_region=settings.default_phone_region,
        time_left=deadline.seconds_left if deadline is not None else None,
    )
    table = os.getenv("IDEMPOTENCY_TABLE")
    dlq_url = os.getenv("DLQ_URL")
    s3 = boto3.client("s3")
    checkpoints = DynamoDBCheckpoints(table) if table else None
    deps = RecordDeps(
        settings=settings,
        client=client,
        checkpoints=checkpoints or InMemoryCheckpoints(),
        dead_letters=SqsDeadLetters(dlq_url) if dlq_url else _NoDeadLetterQueue(),
        adapt=adapt,
        s3=s3,
        sqs=boto3.client("sqs"),
        logger=logger,
        deadline=deadline,
        receipts=build_receipt_store(s3, logger),
    )
    worker = RecordProcessor(deps)
    if checkpoints is not None:
        from aws_lambda_powertools.utilities.idempotency import idempotent_function

        from processor.idempotency import CheckpointingPersistenceLayer

        worker.deps.idempotent = idempotent_function(
            worker.process_envelope,
            data_keyword_argument="identity",
            persistence_store=CheckpointingPersistenceLayer(checkpoints),
            config=idempotency_config,
            key_prefix="processor",
        )
    else:
        logger.warning("IDEMPOTENCY_TABLE is not set: idempotency and checkpoints are in memory only")
    return worker
