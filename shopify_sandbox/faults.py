"""Fault injection for the local Shopify: which answers fail, and how (the NOMI sandbox's injector)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from sandbox.faults import FaultInjector as SeededInjector

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
    # Read by the NOMI sandbox's injector: Shopify's faults all replace the answer, none follow the work.
    when: Literal["before"] = "before"

    @property
    def paths(self) -> tuple[str, ...]:
        return self.operations


class FaultInjector(SeededInjector):
    """The NOMI sandbox's seeded, thread-safe draw (rate, kinds, limit, a filter), answering a kind."""

    def draw(self, operation: str) -> FaultKind | None:  # type: ignore[override]
        fault = super().draw(operation)
        return None if fault is None else fault.kind  # type: ignore[return-value]
