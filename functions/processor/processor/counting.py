"""Counting what the executor reports (NOMI calls, skips), in a module light enough to import at init:
`processor.observability` builds on it, and `processor.app` imports that at cold start."""

from __future__ import annotations

import threading
from collections import Counter


class CallCounter:
    """A thread-safe Observer that counts; the batch flushes it into Metrics from the main thread."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.errors: Counter[tuple[str, str]] = Counter()
        self.skips: Counter[str] = Counter()
        self._lock = threading.Lock()

    def nomi_call(self, endpoint: str, error: BaseException | None = None) -> None:
        with self._lock:
            self.calls[endpoint] += 1
            if error is not None:
                self.errors[(endpoint, type(error).__name__)] += 1

    def skip(self, reason: str) -> None:
        with self._lock:
            self.skips[reason] += 1
