"""Lambda cost per million events at the measured durations (arm64, us-east-1).

Prices: AWS Lambda pricing page, us-east-1, arm64, first tier, as of 2026-11-23. Lambda bills each
invocation's duration rounded up to the millisecond. CPU scales with memory (1,769 MB = one vCPU), so a
CPU-bound duration measured on a full core stretches at 128 or 256 MB: the `cpu_scaled` estimate
divides the measured CPU time by the memory's vCPU share and adds the time spent waiting.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, ConfigDict

from bench.model import Measure, Section

PRICE_PER_GB_SECOND = 0.0000133334  # USD, arm64, us-east-1
PRICE_PER_MILLION_REQUESTS = 0.20  # USD
PRICES_AS_OF = "2026-11-23"
MEMORY_SIZES_MB = (128, 256)
MB_PER_VCPU = 1769


class Workload(BaseModel):
    """One handler's measured work: an invocation's wall and CPU time, and how many events it carries."""

    model_config = ConfigDict(frozen=True)

    handler: str
    wall_ms: float
    cpu_ms: float
    events_per_invocation: int = 1


def billed_ms(duration_ms: float) -> int:
    return max(1, math.ceil(duration_ms))


def cpu_scaled_ms(workload: Workload, memory_mb: int) -> float:
    """Wall time at `memory_mb`: CPU time stretched by the vCPU share, waiting time unchanged."""
    share = min(1.0, memory_mb / MB_PER_VCPU)
    waiting = max(0.0, workload.wall_ms - workload.cpu_ms)
    return workload.cpu_ms / share + waiting


def cost_per_million_events(duration_ms: float, memory_mb: int, events_per_invocation: int) -> float:
    invocations = 1_000_000 / events_per_invocation
    compute = billed_ms(duration_ms) / 1000 * memory_mb / 1024 * PRICE_PER_GB_SECOND
    return invocations * (compute + PRICE_PER_MILLION_REQUESTS / 1_000_000)


def cost_rows(workloads: list[Workload]) -> list[dict[str, Any]]:
    """One row per handler and memory size, at the measured duration and at the CPU-scaled estimate."""
    rows = []
    for workload in workloads:
        for memory_mb in MEMORY_SIZES_MB:
            scaled = cpu_scaled_ms(workload, memory_mb)
            rows.append(
                {
                    "handler": workload.handler,
                    "memory_mb": memory_mb,
                    "events_per_invocation": workload.events_per_invocation,
                    "measured_ms": round(workload.wall_ms, 3),
                    "usd_per_million_measured": round(
                        cost_per_million_events(workload.wall_ms, memory_mb, workload.events_per_invocation),
                        4,
                    ),
                    "cpu_scaled_ms": round(scaled, 3),
                    "usd_per_million_cpu_scaled": round(
                        cost_per_million_events(scaled, memory_mb, workload.events_per_invocation), 4
                    ),
                }
            )
    return rows


def prices() -> dict[str, Any]:
    return {
        "region": "us-east-1",
        "architecture": "arm64",
        "usd_per_gb_second": PRICE_PER_GB_SECOND,
        "usd_per_million_requests": PRICE_PER_MILLION_REQUESTS,
        "as_of": PRICES_AS_OF,
    }


def workloads_of(section: Section | None) -> list[Workload]:
    """The workloads a timing section reports in `details["workloads"]` (none if it did not run)."""
    if section is None or section.status != "ok":
        return []
    return [Workload.model_validate(item) for item in section.details.get("workloads", [])]


def with_costs(memory: Section, *timings: Section | None) -> Section:
    """The memory section plus the cost table at the durations the timing sections measured."""
    workloads = [workload for section in timings for workload in workloads_of(section)]
    if not workloads:
        return memory
    rows = cost_rows(workloads)
    measures = [
        Measure(
            name=f"{row['handler']}: USD per 1M events @ {row['memory_mb']} MB",
            unit="USD",
            value=row["usd_per_million_measured"],
            note=(
                f"{row['measured_ms']} ms measured per invocation of {row['events_per_invocation']} event(s); "
                f"${row['usd_per_million_cpu_scaled']:.2f} if CPU scales with memory ({row['cpu_scaled_ms']} ms)"
            ),
        )
        for row in rows
    ]
    details = {**memory.details, "cost": rows, "prices": prices()}
    status = "ok" if memory.status == "unavailable" else memory.status
    return memory.model_copy(
        update={"measures": [*memory.measures, *measures], "details": details, "status": status}
    )
