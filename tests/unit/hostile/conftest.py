"""The ingest function with its seams in memory, shared by the hostile-input tests (module-scoped:
hypothesis runs many examples per test, and each example must start from an empty queue)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hostile_fakes import (
    ENVIRONMENT,
    NOW,
    SHOPIFY_SECRET,
    STRIPE_SECRET,
    FakeContext,
    RecordingS3,
    RecordingSqs,
)


@dataclass
class Ingest:
    """Call the handler; see what it queued."""

    app: Any
    sqs: RecordingSqs
    s3: RecordingS3

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        self.sqs.sent.clear()
        self.s3.objects.clear()
        return self.app.lambda_handler(event, FakeContext())


@pytest.fixture(scope="module")
def ingest() -> Iterator[Ingest]:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in ENVIRONMENT.items():
            patch.setenv(name, value)
        from ingest import app, config, enqueue

        config.clear_caches()
        sqs, s3 = RecordingSqs(), RecordingS3()
        secrets = {"shopify": (SHOPIFY_SECRET,), "stripe": (STRIPE_SECRET,)}
        patch.setattr(app, "get_webhook_secrets", lambda name: secrets[name])
        patch.setattr(app, "wall_clock", lambda: float(NOW))
        patch.setattr(enqueue, "get_sqs_client", lambda: sqs)
        patch.setattr(enqueue, "get_s3_client", lambda: s3)
        yield Ingest(app, sqs, s3)
    config.clear_caches()
