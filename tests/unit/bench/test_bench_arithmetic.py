"""The harness's own arithmetic and bookkeeping: percentiles, ratios and verdicts, Lambda cost, the
results file and the markdown table."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bench.cost import Workload, cost_per_million_events, cpu_scaled_ms, with_costs
from bench.model import Measure, RunInfo, Section, load_results, results_document
from bench.report import markdown_table
from bench.stats import percentile
from bench.throughput import dynamodb_round_trips


def test_percentile_of_hundred_samples_is_nearest_rank() -> None:
    assert percentile([float(n) for n in range(1, 101)], 99) == 99.0


def test_percentile_of_one_sample_is_that_sample() -> None:
    assert percentile([3.0], 99) == 3.0


def test_measure_over_target_is_not_met() -> None:
    measure = Measure(name="m", unit="ms", value=3.0, floor=1.0, target=2.0)
    assert (measure.ratio, measure.met) == (3.0, False)


def test_measure_without_floor_has_no_ratio_and_no_verdict() -> None:
    measure = Measure(name="m", unit="USD", value=3.0, target=2.0)
    assert (measure.ratio, measure.met) == (None, None)


def test_cost_of_one_ms_at_128_mb_is_request_price_plus_compute() -> None:
    # 1e6 invocations × (0.001 s × 0.125 GB × 0.0000133334 $/GB-s) + $0.20
    assert cost_per_million_events(0.4, 128, 1) == pytest.approx(0.20 + 1e6 * 0.001 * 0.125 * 0.0000133334)


def test_cost_of_a_batch_is_shared_by_its_events() -> None:
    assert cost_per_million_events(100, 256, 10) == pytest.approx(cost_per_million_events(100, 256, 1) / 10)


def test_cpu_scaled_duration_stretches_cpu_time_only() -> None:
    workload = Workload(handler="h", wall_ms=110.0, cpu_ms=10.0)
    assert cpu_scaled_ms(workload, 1769 // 2) == pytest.approx(100.0 + 10.0 * 1769 / (1769 // 2))


def test_load_results_of_results_document_gives_the_same_run_and_sections() -> None:
    section = Section(
        key="cold_start",
        title="t",
        measures=[Measure(name="m", unit="ms", value=3.0, floor=1.0, target=2.0)],
    )
    run = RunInfo(
        started_at=datetime(2026, 11, 23, tzinfo=UTC),
        duration_s=1.0,
        quick=True,
        python="3.13",
        platform="p",
        cpu_count=2,
    )
    assert load_results(json.loads(json.dumps(results_document(run, [section])))) == (run, [section])


def test_markdown_table_with_missed_target_says_no() -> None:
    section = Section(
        key="cold_start",
        title="t",
        measures=[Measure(name="m", unit="ms", value=3.0, floor=1.0, target=2.0)],
    )
    assert "| m | 3 ms | 1 ms | 3.00× | ≤ 2× | NO |" in markdown_table([section])


def test_with_costs_given_timing_workload_adds_a_row_per_memory_size() -> None:
    timing = Section(
        key="processor_throughput",
        title="t",
        details={
            "workloads": [{"handler": "p", "wall_ms": 100.0, "cpu_ms": 10.0, "events_per_invocation": 10}]
        },
    )
    memory = with_costs(Section(key="memory_cost", title="m"), timing)
    assert [row["memory_mb"] for row in memory.details["cost"]] == [128, 256]


def test_dynamodb_round_trips_counts_only_dynamodb_calls() -> None:
    measure = dynamodb_round_trips({"dynamodb.PutItem": 2, "dynamodb.UpdateItem": 1, "s3.PutObject": 4})

    assert (measure.value, measure.met) == (3, True)


def test_dynamodb_round_trips_over_three_is_not_met() -> None:
    measure = dynamodb_round_trips({"dynamodb.PutItem": 5, "dynamodb.GetItem": 3})

    assert measure.met is False
