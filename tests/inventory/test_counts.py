"""Cycle counts: counted vs expected at the time of counting, variance posted as a `count` movement."""

from datetime import timedelta

import pytest
from django.utils import timezone

from inventory import counts
from inventory.ledger import level_for, post_movement
from inventory.models import CycleCount, StockLevel, StockMovement
from oms.actors import Actor
from oms.errors import Conflict, IllegalTransition
from tests import factories

SYSTEM = Actor.system("tests")


@pytest.fixture
def shelf(tenant):
    store = factories.LocationFactory(tenant=tenant, code="PAR01", kind="store")
    products = {sku: factories.ProductFactory(tenant=tenant, sku=sku) for sku in ("A", "B", "C")}
    for sku, qty in (("A", 10), ("B", 5), ("C", 2)):
        post_movement(
            tenant=tenant,
            level=level_for(tenant=tenant, product=products[sku], location=store),
            kind="receipt",
            quantity=qty,
            actor=SYSTEM,
            occurred_at=timezone.now() - timedelta(days=1),
        )
    return {"store": store, **products}


def on_hand(tenant, product, location):
    return StockLevel.objects.for_tenant(tenant).get(product=product, location=location).on_hand


def test_completing_a_count_records_variances_and_posts_adjustments(tenant, shelf):
    count = counts.start_count(tenant=tenant, actor=SYSTEM, location="PAR01")
    assert count.lines.count() == 3 and count.number == "CC-000001"
    counts.record_counts(tenant=tenant, actor=SYSTEM, count_id=count.id, counted={"A": 8, "B": 5, "C": 3})
    counts.complete_count(tenant=tenant, actor=SYSTEM, count_id=count.id)
    count.refresh_from_db()
    assert count.status == CycleCount.Status.COMPLETED
    lines = {line.product.sku: line for line in count.lines.select_related("product")}
    assert (lines["A"].counted, lines["A"].expected, lines["A"].variance) == (8, 10, -2)
    assert (lines["B"].expected, lines["B"].variance, lines["B"].movement) == (5, 0, None)
    assert lines["C"].variance == 1
    assert on_hand(tenant, shelf["A"], shelf["store"]) == 8
    assert on_hand(tenant, shelf["C"], shelf["store"]) == 3
    posted = StockMovement.objects.for_tenant(tenant).filter(kind="count", reference=count.number)
    assert sorted(posted.values_list("quantity", flat=True)) == [-2, 1]
    assert lines["A"].movement.quantity == -2
    figures = counts.accuracy(tenant=tenant)
    assert figures["lines"] == 3 and figures["exact_lines"] == 1
    assert figures["unit_accuracy"] == pytest.approx(1 - 3 / 17)


def test_a_sale_during_the_count_is_not_mistaken_for_a_variance(tenant, shelf):
    count = counts.start_count(tenant=tenant, actor=SYSTEM, location="PAR01", skus=["A"])
    counted_at = timezone.now() - timedelta(minutes=5)
    counts.record_counts(tenant=tenant, actor=SYSTEM, count_id=count.id, counted={"A": 10}, counted_at=counted_at)
    level = StockLevel.objects.for_tenant(tenant).get(product=shelf["A"], location=shelf["store"])
    post_movement(tenant=tenant, level=level, kind="sale", quantity=-1, actor=SYSTEM)  # sold after the count
    counts.complete_count(tenant=tenant, actor=SYSTEM, count_id=count.id)
    line = count.lines.get()
    assert (line.expected, line.variance) == (10, 0)
    assert on_hand(tenant, shelf["A"], shelf["store"]) == 9


def test_a_count_below_reserved_is_refused_and_changes_nothing(tenant, shelf):
    StockLevel.objects.for_tenant(tenant).filter(product=shelf["A"]).update(reserved=9)
    count = counts.start_count(tenant=tenant, actor=SYSTEM, location="PAR01", skus=["A", "B"])
    counts.record_counts(tenant=tenant, actor=SYSTEM, count_id=count.id, counted={"A": 4, "B": 1})
    with pytest.raises(Conflict):
        counts.complete_count(tenant=tenant, actor=SYSTEM, count_id=count.id)
    count.refresh_from_db()
    assert count.status == CycleCount.Status.OPEN
    assert on_hand(tenant, shelf["B"], shelf["store"]) == 5
    assert not StockMovement.objects.for_tenant(tenant).filter(kind="count").exists()


def test_a_completed_count_cannot_be_completed_again(tenant, shelf):
    count = counts.count_and_post(tenant=tenant, actor=SYSTEM, location="PAR01", counted={"A": 9})
    with pytest.raises(IllegalTransition):
        counts.complete_count(tenant=tenant, actor=SYSTEM, count_id=count.id)
    assert on_hand(tenant, shelf["A"], shelf["store"]) == 9


def test_counts_through_the_api_and_another_tenant_sees_nothing(api, other_api, tenant, shelf):
    response = api.post(
        "/api/v1/inventory/counts/",
        {"location": "PAR01", "lines": [{"sku": "A", "counted": 7}, {"sku": "B", "counted": 5}]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="wms-count-1",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "completed"
    assert {line["sku"]: line["variance"] for line in body["lines"]} == {"A": -3, "B": 0}
    replay = api.post(
        "/api/v1/inventory/counts/",
        {"location": "PAR01", "lines": [{"sku": "A", "counted": 7}, {"sku": "B", "counted": 5}]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="wms-count-1",
    )
    assert replay.json() == body
    assert on_hand(tenant, shelf["A"], shelf["store"]) == 7
    assert api.get(f"/api/v1/inventory/counts/{body['id']}/").json()["number"] == body["number"]
    assert [c["id"] for c in api.get("/api/v1/inventory/counts/?location=PAR01").json()["results"]] == [body["id"]]
    assert other_api.get(f"/api/v1/inventory/counts/{body['id']}/").status_code == 404
    assert other_api.get("/api/v1/inventory/counts/").json()["results"] == []
    assert (
        other_api.post(
            "/api/v1/inventory/counts/", {"location": "PAR01", "lines": [{"sku": "A", "counted": 0}]}, format="json"
        ).status_code
        == 400
    )
    assert on_hand(tenant, shelf["A"], shelf["store"]) == 7
    duplicate = api.post(
        "/api/v1/inventory/counts/",
        {"location": "PAR01", "lines": [{"sku": "A", "counted": 1}, {"sku": "A", "counted": 2}]},
        format="json",
    )
    assert duplicate.status_code == 400


def test_accuracy_reads_posted_lines_per_location(tenant):
    store = factories.LocationFactory(tenant=tenant, code="LYO01")
    elsewhere = factories.LocationFactory(tenant=tenant, code="LIL01")
    products = [factories.ProductFactory(tenant=tenant, sku=f"ACC-{n}") for n in range(4)]
    for product, (expected, _counted) in zip(products, ((10, 10), (5, 4), (0, 0), (6, 7)), strict=True):
        if expected:
            post_movement(
                tenant=tenant,
                level=level_for(tenant=tenant, product=product, location=store),
                kind="receipt",
                quantity=expected,
                actor=SYSTEM,
            )
    counts.count_and_post(
        tenant=tenant, actor=SYSTEM, location="LYO01", counted={"ACC-0": 10, "ACC-1": 4, "ACC-2": 0, "ACC-3": 7}
    )
    post_movement(
        tenant=tenant,
        level=level_for(tenant=tenant, product=products[0], location=elsewhere),
        kind="receipt",
        quantity=9,
        actor=SYSTEM,
    )
    counts.count_and_post(tenant=tenant, actor=SYSTEM, location="LIL01", counted={"ACC-0": 1})

    figures = counts.accuracy(tenant=tenant, location=store)
    assert figures == {"lines": 4, "exact_lines": 2, "line_accuracy": 0.5, "unit_accuracy": pytest.approx(1 - 2 / 21)}
    assert counts.accuracy(tenant=factories.TenantFactory(slug="empty"))["line_accuracy"] is None
