"""Fault injection for the local Shopify: which answers fail, and how (the NOMI sandbox's model)."""

from __future__ import annotations

import random
import threading
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

FaultKind = Literal["500", "503", "timeout", "drop", "slow", "throttle", "bulk_failed"]
Operation = Literal["order", "customer", "bulkOperationRunQuery", "currentBulkOperation", "node", "file"]
ALL_KINDS: tuple[FaultKind, ...] = ("500", "503", "timeout", "drop", "slow", "throttle")


class FaultConfig(BaseModel):
    """How the local Shopify misbehaves; the default not at all.

    `rate` is the share of answers that fail, each with a kind from `kinds`: a 500/503 answer, a
    connection that hangs `hang_seconds` then closes (`timeout`), a reset (`drop`), an answer
    delayed `slow_seconds` (`slow`), a THROTTLED error whatever the bucket holds (`throttle`), or a
    bulk operation that ends FAILED with `INTERNAL_SERVER_ERROR` (`bulk_failed`, on its next poll).
    `operations` limits the faults to those root fields (or `file`, the bulk result download).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    rate: float = Field(default=0.0, ge=0.0, le=1.0)
    kinds: tuple[FaultKind, ...] = ALL_KINDS
    operations: tuple[Operation, ...] = ()
    seed: int | None = None
    limit: int | None = Field(default=None, ge=0, description="Stop after this many faults.")
    slow_seconds: float = Field(default=2.0, ge=0.0)
    hang_seconds: float = Field(default=15.0, ge=0.0)
    latency_ms: float = Field(default=0.0, ge=0.0, description="Added to every answer.")


class FaultInjector:
    def __init__(self, config: FaultConfig | None = None) -> None:
        self._lock = threading.Lock()
        self.configure(config or FaultConfig())

    @property
    def config(self) -> FaultConfig:
        return self._config

    def configure(self, config: FaultConfig) -> None:
        with self._lock:
            self._config = config
            self._random = random.Random(config.seed)
            self.injected = 0

    def draw(self, operation: str) -> FaultKind | None:
        with self._lock:
            config = self._config
            if config.rate <= 0 or not config.kinds:
                return None
            if config.operations and operation not in config.operations:
                return None
            if config.limit is not None and self.injected >= config.limit:
                return None
            if self._random.random() >= config.rate:
                return None
            self.injected += 1
            return self._random.choice(config.kinds)
