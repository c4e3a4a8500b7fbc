"""The shape of `bench/results.json`: sections of measures, each a value beside its floor."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SectionKey = Literal["ingest_latency", "cold_start", "processor_throughput", "nomi_calls", "memory_cost"]
SECTION_KEYS: tuple[SectionKey, ...] = (
    "ingest_latency",
    "cold_start",
    "processor_throughput",
    "nomi_calls",
    "memory_cost",
)
Status = Literal["ok", "unavailable", "error"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Measure(_Model):
    """One row of the table: `value` against `floor` (same unit); `target` is the highest ratio allowed."""

    name: str
    unit: str
    value: float
    floor: float | None = None
    floor_name: str | None = None
    target: float | None = Field(default=None, description="Highest acceptable value/floor ratio.")
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.floor is None or self.floor <= 0:
            return None
        return self.value / self.floor

    @property
    def met(self) -> bool | None:
        ratio = self.ratio
        if self.target is None or ratio is None:
            return None
        return ratio <= self.target

    def summary(self) -> dict[str, Any]:
        """The row as written to results.json (ratio and verdict included, so readers need no code)."""
        return {**self.model_dump(), "ratio": self.ratio, "met": self.met}


class Section(_Model):
    """One of the five measurements. `unavailable` means the code it measures is not there yet."""

    key: SectionKey
    title: str
    status: Status = "ok"
    reason: str | None = None
    measures: list[Measure] = Field(default_factory=list)
    details: dict[str, Any] = Field(default_factory=dict)


class RunInfo(_Model):
    started_at: datetime
    duration_s: float
    quick: bool
    python: str
    platform: str
    cpu_count: int | None


def results_document(run: RunInfo, sections: list[Section]) -> dict[str, Any]:
    """The JSON document: run information, then each section with its rows' ratios and verdicts."""
    return {
        "run": run.model_dump(mode="json"),
        "sections": {
            section.key: {
                **section.model_dump(mode="json", exclude={"measures"}),
                "measures": [measure.summary() for measure in section.measures],
            }
            for section in sections
        },
    }


def load_results(document: dict[str, Any]) -> tuple[RunInfo, list[Section]]:
    """Read a results.json document back (the derived `ratio` and `met` are recomputed, not trusted)."""
    sections = [
        Section.model_validate(
            {
                **section,
                "measures": [
                    {key: value for key, value in row.items() if key not in {"ratio", "met"}}
                    for row in section["measures"]
                ],
            }
        )
        for section in document["sections"].values()
    ]
    return RunInfo.model_validate(document["run"]), sections
