"""The routing benchmark's pure helpers (bench/routing.py is run by `make bench`, not by the suite)."""

import importlib.util
import math
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "bench_routing", Path(__file__).resolve().parents[2] / "bench" / "routing.py"
)
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


def test_lag_summary_counts_orders_never_allocated_as_endless():
    lags = [0.1 * n for n in range(1, 100)] + [None]

    summary = bench.lag_summary(lags, sent=100)

    assert summary["sent"] == 100 and summary["allocated"] == 99
    assert summary["p50_s"] == pytest.approx(5.05)  # between the 50th and 51st of 100
    assert summary["p99_s"] == math.inf and summary["max_s"] == math.inf


def test_lag_summary_of_every_order_allocated():
    summary = bench.lag_summary([0.2, 0.4, 0.3], sent=3)

    assert summary == {"sent": 3, "allocated": 3, "p50_s": 0.3, "p99_s": pytest.approx(0.398), "max_s": 0.4}
    assert bench.lag_summary([], sent=0)["p99_s"] is None


def test_verdict_against_a_goal():
    assert bench.verdict(500.0, 500.0, at_least=True) == "met"
    assert bench.verdict(499.9, 500.0, at_least=True) == "NOT met"
    assert bench.verdict(0.99, 1.0, at_least=False) == "met"
    assert bench.verdict(1.0, 1.0, at_least=False) == "NOT met"
    assert bench.verdict(math.inf, 1.0, at_least=False) == "NOT met"
    assert bench.verdict(None, 1.0, at_least=False).startswith("NOT met")


def _stats(*rows):
    """A cProfile stats mapping: (file, line, function) -> (primitive calls, calls, own s, cumulative s, callers)."""
    return {
        (path, line, name): (calls, calls, own, cumulative, {}) for path, line, name, calls, own, cumulative in rows
    }


def test_profile_groups_sum_own_time_by_the_first_matching_file():
    stats = _stats(
        ("/repo/fulfillment/engine.py", 10, "plan_routing", 1, 0.5, 0.7),
        ("/repo/fulfillment/engine.py", 90, "prepare", 50, 0.2, 0.2),
        ("/venv/site-packages/django/db/models/query.py", 1, "filter", 9, 0.25, 1.0),
        ("/repo/inventory/sourcing.py", 5, "stock_figures", 1, 0.1, 0.4),
        ("/repo/inventory/ledger.py", 5, "level_for", 3, 0.05, 0.3),
        ("~", 0, "<built-in method builtins.sum>", 40, 0.01, 0.01),
    )

    groups = dict(bench.profile_groups(stats))

    assert groups["routing engine (fulfillment/engine.py)"] == pytest.approx(0.7)
    assert groups["Django ORM (query building, model instances)"] == pytest.approx(0.25)
    assert groups["stock figures (inventory/sourcing.py)"] == pytest.approx(0.1)  # before the inventory/ catch-all
    assert groups["inventory (reservations, ledger)"] == pytest.approx(0.05)
    assert groups["other (Python, standard library)"] == pytest.approx(0.01)
    assert list(groups)[0] == "routing engine (fulfillment/engine.py)"


def test_step_times_sum_a_steps_calls_in_the_order_of_the_steps():
    stats = _stats(
        ("/repo/orders/services/fulfilment.py", 44, "allocate_many", 2, 0.1, 3.0),
        ("/repo/fulfillment/services/routing.py", 108, "route_in", 2, 0.1, 1.0),
        ("/repo/inventory/reservations.py", 245, "release_all", 6, 0.3, 1.2),
        ("/repo/returns/services.py", 12, "release_all", 1, 0.1, 9.0),  # another file's function of the same name
    )

    steps = bench.step_times(stats)

    assert steps == [
        ("fulfillment/services/routing.py:route_in", 2, 1.0),
        ("orders/services/fulfilment.py:allocate_many", 2, 3.0),
        ("inventory/reservations.py:release_all", 6, 1.2),
    ]


def test_postal_codes_one_per_metropolitan_departement_and_each_places_an_order():
    from inventory.geo import DEPARTEMENTS, point_for_postal_code

    codes = bench.departement_postal_codes(DEPARTEMENTS)

    metropolitan = [dep for dep in DEPARTEMENTS if len(dep) == 2]
    assert len(codes) == len(metropolitan) and len(set(codes)) == len(codes)
    assert {point_for_postal_code(code) for code in codes} == {DEPARTEMENTS[dep] for dep in metropolitan}


def test_the_scenarios_are_engine_allocate_and_lag():
    assert list(bench.SCENARIOS) == ["engine", "allocate", "lag"]
