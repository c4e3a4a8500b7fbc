"""The processor as Lambda runs it, in this process, against AWS (moto server) and NOMI (the sandbox)
running in a process of their own (bench.services), with the NOMI latency the measurement asks for."""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from bench import payloads
from bench.runtime import apply_function_env, require_modules
from bench.services import external_services


class BatchFailedError(RuntimeError):
    """The processor reported failed records: timing it would measure retries, not the work."""


@dataclass
class ProcessorStack:
    handler: Any
    nomi_url: str

    def run(self, bodies: list[str]) -> dict[str, Any]:
        """Deliver `bodies` as one SQS batch; raise if any record failed."""
        answer = self.handler(payloads.sqs_event(bodies), payloads.LambdaContext()) or {}
        failures = answer.get("batchItemFailures") or []
        if failures:
            raise BatchFailedError(f"{len(failures)} of {len(bodies)} records failed")
        return answer

    def nomi_requests(self) -> list[dict[str, Any]]:
        """Every NOMI request the sandbox received (it logs no /_sandbox inspection call)."""
        with urllib.request.urlopen(f"{self.nomi_url}/_sandbox/requests", timeout=10) as answer:  # noqa: S310 - loopback
            return list(json.load(answer)["requests"])

    def dead_letter_count(self) -> int:
        """Messages sent to the DLQ (a permanent failure counts as handled, so look here too)."""
        import boto3

        attributes = boto3.client("sqs").get_queue_attributes(
            QueueUrl=os.environ["DLQ_URL"], AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"])


@contextmanager
def processor_stack(*, latency_ms: float, dynamodb: bool = True) -> Iterator[ProcessorStack]:
    """`dynamodb=False` leaves IDEMPOTENCY_TABLE unset: the processor then keeps checkpoints in memory
    and writes no idempotency records (its local-dev mode), which isolates its own work from the table."""
    require_modules("processor.app", "sandbox")
    with external_services(latency_ms=latency_ms) as overrides:
        apply_function_env(**overrides)
        if not dynamodb:
            os.environ.pop("IDEMPOTENCY_TABLE", None)
        from processor import app

        yield ProcessorStack(handler=app.lambda_handler, nomi_url=overrides["NOMI_API_URL"])
