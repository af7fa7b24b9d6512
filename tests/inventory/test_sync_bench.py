"""The benchmark script's pure helpers (bench/run.py is run by `make bench`, not by the suite)."""

import importlib.util
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("bench_run", Path(__file__).resolve().parents[2] / "bench" / "run.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


def test_percentile_interpolates_between_ranks():
    values = [float(v) for v in range(1, 101)]
    assert bench.percentile(values, 50) == pytest.approx(50.5)
    assert bench.percentile(values, 99) == pytest.approx(99.01)
    assert bench.percentile([3.0], 99) == 3.0
    assert bench.percentile([5.0, 1.0], 0) == 1.0 and bench.percentile([5.0, 1.0], 100) == 5.0
    with pytest.raises(ValueError):
        bench.percentile([], 50)


def test_latency_summary_and_database_url():
    summary = bench.latency_summary([0.010, 0.020, 0.030])
    assert summary == {"requests": 3, "median_ms": 20.0, "p99_ms": 29.8, "max_ms": 30.0}
    assert (
        bench.database_url("postgres://root@127.0.0.1:5432/test", "oms_bench")
        == "postgres://root@127.0.0.1:5432/oms_bench"
    )


def test_scenarios_are_named():
    assert {"availability", "snapshot"} <= set(bench.SCENARIOS)


def test_percentile_keeps_what_never_finished_infinite():
    never = float("inf")
    assert bench.percentile([1.0, 2.0, 3.0, never], 50) == pytest.approx(2.5)
    assert bench.percentile([1.0, 2.0, 3.0, never], 99) == never
    assert bench.percentile([1.0, never, never], 50) == never
    assert bench.percentile([1.0, 2.0, never], 50) == 2.0  # exactly on a rank: no interpolation toward infinity


def test_scenarios_are_chosen_by_name_in_the_order_given():
    scenarios = bench.Scenarios()

    @scenarios.register("first")
    def first(ctx):
        """The first one."""

    scenarios.register("second")(lambda ctx: {})

    assert scenarios.chosen("") == ["first", "second"]
    assert scenarios.chosen(" second , first") == ["second", "first"]
    assert scenarios.describe().splitlines() == ["first: The first one.", "second: "]
    with pytest.raises(ValueError, match="unknown scenario.*nope.*known: first, second"):
        scenarios.chosen("first,nope")
