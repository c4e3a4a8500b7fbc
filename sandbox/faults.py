"""Fault injection: which NOMI answers fail, how, and whether the request's effect happened first."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

FaultKind = Literal["429", "500", "503", "timeout", "slow", "drop"]
FaultWhen = Literal["before", "after", "mixed"]
ALL_KINDS: tuple[FaultKind, ...] = ("429", "500", "503", "timeout", "slow", "drop")


class FaultConfig(BaseModel):
    """How the sandbox misbehaves. The default misbehaves not at all.

    `rate` is the share of NOMI answers that fail (never /_sandbox/*); each failing answer takes a
    kind from `kinds`. `when="after"` applies the request's effect and then fails (500/503, timeout,
    drop; a slow answer is delayed after the work), `"before"` fails without the effect, `"mixed"`
    picks either per failure. A 429 never applies the effect: being rate limited means not processed.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    rate: float = Field(default=0.0, ge=0.0, le=1.0)
    kinds: tuple[FaultKind, ...] = ALL_KINDS
    when: FaultWhen = "before"
    seed: int | None = None
    latency_ms: float = Field(default=0.0, ge=0.0, description="Added to every NOMI answer.")
    retry_after_seconds: float = Field(default=1.0, ge=0.0)
    slow_seconds: float = Field(default=2.0, ge=0.0)
    hang_seconds: float = Field(default=30.0, ge=0.0, description="How long a timeout hangs before closing.")
    paths: tuple[str, ...] = Field(default=(), description="Only these paths fail; empty means every path.")
    limit: int | None = Field(default=None, ge=0, description="Stop after this many faults; None = no limit.")


@dataclass(frozen=True)
class Fault:
    kind: FaultKind
    when: Literal["before", "after"]


class FaultInjector:
    """Draws the fault (if any) for each NOMI request from a seeded generator, thread-safely."""

    def __init__(self, config: FaultConfig | None = None) -> None:
        self._lock = threading.Lock()
        self.configure(config or FaultConfig())

    @property
    def config(self) -> FaultConfig:
        return self._config

    def configure(self, config: FaultConfig) -> None:
        """Replace the configuration; the generator restarts from the seed, so runs repeat."""
        with self._lock:
            self._config = config
            self._random = random.Random(config.seed)
            self._injected = 0

    def draw(self, path: str) -> Fault | None:
        with self._lock:
            config = self._config
            if config.rate <= 0 or not config.kinds:
                return None
            if config.paths and path not in config.paths:
                return None
            if config.limit is not None and self._injected >= config.limit:
                return None
            if self._random.random() >= config.rate:
                return None
            kind = self._random.choice(config.kinds)
            when = config.when
            if when == "mixed":
                when = self._random.choice(("before", "after"))
            if kind == "429":
                when = "before"
            self._injected += 1
            return Fault(kind=kind, when=when)
