"""Builds the processor's dependencies from the environment (once per container)."""

from __future__ import annotations

import os
from typing import Any

from processor.checkpoints import DynamoDBCheckpoints, InMemoryCheckpoints
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


def identity_key() -> bytes | None:
    """The pseudonym key: Secrets Manager (`IDENTITY_HASH_SECRET_NAME`, cached 5 min), else None."""
    secret_name = os.getenv("IDENTITY_HASH_SECRET_NAME")
    if not secret_name:
        return None
    from aws_lambda_powertools.utilities import parameters

    return str(parameters.get_secret(secret_name, max_age=SECRET_MAX_AGE_SECONDS)).strip().encode()


def build_record_processor(*, logger: Any, idempotency_config: Any) -> RecordProcessor:
    """Everything a record needs, from the environment documented in contracts §4."""
    import boto3

    from nomi_client import NomiClient
    from processor.settings import load_settings
    from processor.sources import adapt

    settings = load_settings()
    key = identity_key()
    if key is None:
        logger.warning("IDENTITY_HASH_SECRET_NAME is not set: stored keys use the development pseudonym key")
    else:
        settings = settings.with_identity_key(key)
    client = NomiClient(
        api_key=nomi_api_key(),
        base_url=os.getenv("NOMI_API_URL") or None,
        default_region=settings.default_phone_region,
    )
    table = os.getenv("IDEMPOTENCY_TABLE")
    dlq_url = os.getenv("DLQ_URL")
    deps = RecordDeps(
        settings=settings,
        client=client,
        checkpoints=DynamoDBCheckpoints(table) if table else InMemoryCheckpoints(),
        dead_letters=SqsDeadLetters(dlq_url) if dlq_url else _NoDeadLetterQueue(),
        adapt=adapt,
        s3=boto3.client("s3"),
        sqs=boto3.client("sqs"),
        logger=logger,
    )
    worker = RecordProcessor(deps)
    if table:
        from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, idempotent_function

        persistence = DynamoDBPersistenceLayer(table_name=table)
        worker.deps.idempotent = idempotent_function(
            worker.process_envelope,
            data_keyword_argument="identity",
            persistence_store=persistence,
            config=idempotency_config,
            key_prefix="processor",
        )
    else:
        logger.warning("IDEMPOTENCY_TABLE is not set: idempotency and checkpoints are in memory only")
    return worker
