"""Two KPI runs of one tenant at once (an incremental update overlapping the nightly recomputation, or two beat
ticks) queue on the tenant's lock and leave the same rows as one run (real threads, PostgreSQL)."""

from datetime import timedelta

import pytest

from reporting import aggregation
from tests.race import race
from tests.reporting.builder import D, build
from tests.reporting.test_aggregation import snapshot

pytestmark = pytest.mark.django_db(transaction=True)


def test_runs_at_once_leave_what_one_run_leaves(tenant, monkeypatch):
    build(tenant)
    monkeypatch.setattr(aggregation, "today_for", lambda tenant: D + timedelta(days=3))

    outcomes = race(
        4,
        lambda index: (
            aggregation.update(tenant=tenant)
            if index % 2
            else aggregation.rebuild(tenant=tenant, first=D - timedelta(days=3), last=D + timedelta(days=3))
        ),
    )

    assert outcomes.errors == []
    together = snapshot(tenant)
    aggregation.rebuild(tenant=tenant, first=D - timedelta(days=3), last=D + timedelta(days=3))
    assert snapshot(tenant) == together
