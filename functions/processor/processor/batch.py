"""A Powertools BatchProcessor that works the records of one SQS batch concurrently.

Powertools' BatchProcessor runs records one after another, so a batch would take the sum of its NOMI
round trips; this subclass keeps its failure bookkeeping and response shape (`batchItemFailures`) and
only replaces `process()`: records are grouped by contact (same phone → one group, worked in batch
order so one person's events keep their order) and the groups run on a bounded thread pool.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType


class ConcurrentBatchProcessor(BatchProcessor):
    """BatchProcessor with `max_workers` records in flight, serialised per `key_of(record)`."""

    def __init__(
        self,
        event_type: EventType,
        *,
        max_workers: int = 10,
        key_of: Callable[[dict[str, Any]], str | None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(event_type, **kwargs)
        if max_workers < 1:
            raise ValueError("max_workers must be at least 1")
        self.max_workers = max_workers
        self.key_of = key_of

    def process(self) -> list[tuple]:
        records = list(self.records)
        groups = group_by_key(records, self.key_of)
        results: list[Any] = [None] * len(records)

        def work(indices: list[int]) -> None:
            for index in indices:
                # _process_record never raises: it turns any exception into a failure entry.
                results[index] = self._process_record(records[index])

        if len(groups) <= 1 or self.max_workers == 1:
            for group in groups:
                work(group)
            return results
        # Each group runs in its own copy of the handler's context: state kept in context variables
        # (the tracer's segment, who is calling AWS) follows the records, and log keys one record sets
        # stay with its group instead of with whichever pool thread ran it.
        contexts = [contextvars.copy_context() for _ in groups]
        with ThreadPoolExecutor(max_workers=min(self.max_workers, len(groups))) as pool:
            list(pool.map(lambda context, group: context.run(work, group), contexts, groups))
        return results


def group_by_key(
    records: list[dict[str, Any]], key_of: Callable[[dict[str, Any]], str | None] | None
) -> list[list[int]]:
    """Indices of the records grouped by key (a None key is a group of its own), in batch order."""
    groups: dict[str, list[int]] = {}
    ordered: list[list[int]] = []
    for index, record in enumerate(records):
        key = key_of(record) if key_of is not None else None
        if key is None:
            ordered.append([index])
        elif key in groups:
            groups[key].append(index)
        else:
            groups[key] = [index]
            ordered.append(groups[key])
    return ordered
