"""ERP/WMS sync: POST /api/v1/inventory/adjustments/ and /snapshots/."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inventory import sync
from inventory.ledger import level_for, post_movement
from inventory.models import StockLevel, StockMovement
from oms.actors import Actor
from oms.models import OutboxEvent
from tests import factories

ADJUSTMENTS = "/api/v1/inventory/adjustments/"
SNAPSHOTS = "/api/v1/inventory/snapshots/"
SYSTEM = Actor.system("tests")


@pytest.fixture
def stock(tenant):
    """Two SKUs and two locations of `tenant`; receive(sku, code, qty) posts a receipt."""
    products = {sku: factories.ProductFactory(tenant=tenant, sku=sku) for sku in ("A", "B")}
    locations = {code: factories.LocationFactory(tenant=tenant, code=code) for code in ("WH1", "PAR01")}

    def level(sku, code):
        return level_for(tenant=tenant, product=products[sku], location=locations[code])

    def receive(sku, code, quantity, occurred_at=None):
        return post_movement(
            tenant=tenant,
            level=level(sku, code),
            kind="receipt",
            quantity=quantity,
            actor=SYSTEM,
            occurred_at=occurred_at,
        )

    def on_hand(sku, code):
        return StockLevel.objects.for_tenant(tenant).get(product=products[sku], location=locations[code]).on_hand

    return type(
        "Stock",
        (),
        {
            "products": products,
            "locations": locations,
            "level": staticmethod(level),
            "receive": staticmethod(receive),
            "on_hand": staticmethod(on_hand),
        },
    )


def _ledger_matches(tenant):
    for level in StockLevel.objects.for_tenant(tenant):
        total = StockMovement.objects.for_tenant(tenant).filter(stock_level=level).aggregate(t=Sum("quantity"))["t"]
        assert level.on_hand == (total or 0)


def test_adjustments_apply_deltas_and_write_the_ledger(api, tenant, stock):
    stock.receive("A", "WH1", 10)
    response = api.post(
        ADJUSTMENTS,
        {
            "rows": [
                {"sku": "A", "location": "WH1", "delta": -3, "reason": "damaged"},
                {"sku": "B", "location": "PAR01", "delta": 7, "reason": "found"},
            ]
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["accepted"] == 2 and body["rejected"] == []
    assert [r["status"] for r in body["results"]] == ["applied", "applied"]
    assert stock.on_hand("A", "WH1") == 7
    assert stock.on_hand("B", "PAR01") == 7
    damaged = StockMovement.objects.for_tenant(tenant).get(reason="damaged")
    assert damaged.quantity == -3 and damaged.kind == "adjustment" and damaged.reference.endswith(body["batch"])
    _ledger_matches(tenant)


def test_bad_rows_are_rejected_with_index_and_reason_and_good_rows_applied(api, tenant, stock):
    stock.receive("A", "WH1", 5)
    level = stock.level("A", "WH1")
    StockLevel.objects.for_tenant(tenant).filter(id=level.id).update(reserved=4)
    response = api.post(
        ADJUSTMENTS,
        {
            "rows": [
                {"sku": "A", "location": "WH1", "delta": 2},
                {"sku": "NOPE", "location": "WH1", "delta": 1},
                {"sku": "A", "location": "MARS", "delta": 1},
                {"sku": "A", "location": "WH1", "delta": -4},
                {"sku": "A", "location": "WH1", "delta": "many"},
                "not a row",
                {"sku": "A", "location": "WH1", "delta": 0},
                {"sku": "B", "location": "WH1", "delta": -1},
                {"sku": "A", "location": "WH1", "delta": -3},
            ]
        },
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["accepted"] == 2
    rejected = {r["index"]: r["reason"] for r in body["rejected"]}
    assert sorted(rejected) == [1, 2, 3, 4, 5, 6, 7]
    assert "Unknown SKU" in rejected[1] and "Unknown location" in rejected[2]
    assert "reserved" in rejected[3] and "whole number" in rejected[4]
    assert body["rejected"][0] == {"index": 1, "sku": "NOPE", "location": "WH1", "reason": rejected[1]}
    assert stock.on_hand("A", "WH1") == 4  # 5 + 2 - 3; the -4 would have left 3 < 4 reserved
    assert [r["index"] for r in body["results"]] == list(range(9))
    assert (
        not StockLevel.objects.for_tenant(tenant)
        .filter(product=stock.products["B"], location=stock.locations["WH1"])
        .exists()
    )
    _ledger_matches(tenant)


def test_a_nul_character_in_a_row_refuses_the_whole_batch_naming_the_row(api, tenant, stock):
    stock.receive("A", "WH1", 5)

    response = api.post(
        ADJUSTMENTS,
        {
            "rows": [
                {"sku": "A", "location": "WH1", "delta": 2},
                {"sku": "A\u0000", "location": "WH1", "delta": 1, "reason": "nul\u0000"},
            ]
        },
        format="json",
    )

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert set(response.json()["errors"]) == {"rows[1].sku", "rows[1].reason"}
    assert stock.on_hand("A", "WH1") == 5


def test_malformed_body_is_a_400(api, tenant, stock):
    assert api.post(ADJUSTMENTS, {"rows": {"sku": "A"}}, format="json").status_code == 400
    assert api.post(ADJUSTMENTS, {"rows": []}, format="json").status_code == 400
    assert api.post(ADJUSTMENTS, {}, format="json").status_code == 400
    too_many = [{"sku": "A", "location": "WH1", "delta": 1}] * (sync.MAX_ROWS + 1)
    response = api.post(ADJUSTMENTS, {"rows": too_many}, format="json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert "rows" in response.json()["errors"]
    future = (timezone.now() + timedelta(days=1)).isoformat()
    response = api.post(
        SNAPSHOTS, {"as_of": future, "rows": [{"sku": "A", "location": "WH1", "quantity": 1}]}, format="json"
    )
    assert response.status_code == 400 and "as_of" in response.json()["errors"]
    naive = api.post(
        SNAPSHOTS,
        {"as_of": "2026-01-15T10:00:00", "rows": [{"sku": "A", "location": "WH1", "quantity": 1}]},
        format="json",
    )
    assert naive.status_code == 400 and "offset" in naive.json()["errors"]["as_of"][0]
    assert not StockMovement.objects.for_tenant(tenant).exists()


def test_snapshot_keeps_movements_recorded_after_its_as_of(api, tenant, stock):
    now = timezone.now()
    stock.receive("A", "WH1", 10, occurred_at=now - timedelta(hours=3))
    stock.receive("A", "WH1", 5, occurred_at=now - timedelta(minutes=30))  # after the count below
    response = api.post(
        SNAPSHOTS,
        {"as_of": (now - timedelta(hours=1)).isoformat(), "rows": [{"sku": "A", "location": "WH1", "quantity": 8}]},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["accepted"] == 1
    # 8 counted an hour ago, plus the 5 received since: the newer receipt is not wiped out.
    assert stock.on_hand("A", "WH1") == 13
    count = StockMovement.objects.for_tenant(tenant).get(kind="count")
    assert count.quantity == -2
    assert abs((count.occurred_at - (now - timedelta(hours=1))).total_seconds()) < 1
    _ledger_matches(tenant)


def test_snapshot_sets_absolute_quantities_and_creates_missing_levels(api, tenant, stock):
    stock.receive("A", "WH1", 4)
    response = api.post(
        SNAPSHOTS,
        {
            "rows": [
                {"sku": "A", "location": "WH1", "quantity": 4},
                {"sku": "B", "location": "PAR01", "quantity": 9},
                {"sku": "A", "location": "PAR01", "quantity": 0},
            ]
        },
        format="json",
    )
    body = response.json()
    assert body["accepted"] == 3
    assert [r["status"] for r in body["results"]] == ["unchanged", "applied", "unchanged"]
    assert stock.on_hand("A", "WH1") == 4 and stock.on_hand("B", "PAR01") == 9
    assert (
        not StockLevel.objects.for_tenant(tenant)
        .filter(product=stock.products["A"], location=stock.locations["PAR01"])
        .exists()
    )


def test_snapshot_below_reserved_is_rejected_for_that_row(api, tenant, stock):
    stock.receive("A", "WH1", 10)
    StockLevel.objects.for_tenant(tenant).filter(id=stock.level("A", "WH1").id).update(reserved=6)
    body = api.post(SNAPSHOTS, {"rows": [{"sku": "A", "location": "WH1", "quantity": 5}]}, format="json").json()
    assert body["accepted"] == 0
    assert "below the 6 reserved" in body["rejected"][0]["reason"]
    assert stock.on_hand("A", "WH1") == 10


def test_a_snapshot_older_than_an_applied_count_is_rejected_as_stale(api, stock):
    now = timezone.now()
    stock.receive("A", "WH1", 10, occurred_at=now - timedelta(days=1))
    newer = api.post(
        SNAPSHOTS,
        {"as_of": (now - timedelta(minutes=10)).isoformat(), "rows": [{"sku": "A", "location": "WH1", "quantity": 7}]},
        format="json",
    )
    assert newer.json()["accepted"] == 1
    older = api.post(
        SNAPSHOTS,
        {"as_of": (now - timedelta(hours=2)).isoformat(), "rows": [{"sku": "A", "location": "WH1", "quantity": 3}]},
        format="json",
    )
    assert older.status_code == 200
    assert "Stale count" in older.json()["rejected"][0]["reason"]
    assert stock.on_hand("A", "WH1") == 7


def test_retrying_a_batch_with_its_idempotency_key_changes_stock_once(api, tenant, stock):
    payload = {"rows": [{"sku": "A", "location": "WH1", "delta": 5}, {"sku": "NOPE", "location": "WH1", "delta": 1}]}
    first = api.post(ADJUSTMENTS, payload, format="json", HTTP_IDEMPOTENCY_KEY="erp-batch-1")
    again = api.post(ADJUSTMENTS, payload, format="json", HTTP_IDEMPOTENCY_KEY="erp-batch-1")
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert stock.on_hand("A", "WH1") == 5
    assert StockMovement.objects.for_tenant(tenant).count() == 1
    other_body = api.post(
        ADJUSTMENTS,
        {"rows": [{"sku": "A", "location": "WH1", "delta": 6}]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="erp-batch-1",
    )
    assert other_body.status_code == 422
    assert stock.on_hand("A", "WH1") == 5


def test_receipts_emit_one_stock_adjusted_event_per_batch(api, tenant, stock):
    api.post(
        ADJUSTMENTS,
        {
            "rows": [
                {"sku": "A", "location": "WH1", "delta": 2, "kind": "receipt"},
                {"sku": "B", "location": "WH1", "delta": 3},
            ]
        },
        format="json",
    )
    events = OutboxEvent.objects.for_tenant(tenant).filter(topic="stock.adjusted")
    assert events.count() == 1
    assert events.get().payload["skus"] == ["A", "B"]
    assert StockMovement.objects.for_tenant(tenant).get(stock_level__product__sku="A").kind == "receipt"
    api.post(ADJUSTMENTS, {"rows": [{"sku": "A", "location": "WH1", "delta": -1}]}, format="json")
    assert OutboxEvent.objects.for_tenant(tenant).filter(topic="stock.adjusted").count() == 1


def test_ten_thousand_rows_in_one_batch_take_a_few_queries(api, tenant):
    products = factories.ProductFactory.create_batch(1000, tenant=tenant)
    locations = [factories.LocationFactory(tenant=tenant, code=f"S{i:02d}") for i in range(10)]
    rows = [
        {"sku": p.sku, "location": loc.code, "quantity": 5 + i % 3}
        for i, (p, loc) in enumerate((p, loc) for p in products for loc in locations)
    ]
    assert len(rows) == 10_000
    with CaptureQueriesContext(connection) as queries:
        response = api.post(SNAPSHOTS, {"rows": rows}, format="json")
    assert response.status_code == 200
    assert response.json()["accepted"] == 10_000
    assert len(queries) < 60
    assert StockMovement.objects.for_tenant(tenant).count() == 10_000
    assert StockLevel.objects.for_tenant(tenant).aggregate(t=Sum("on_hand"))["t"] == sum(r["quantity"] for r in rows)
    second = api.post(
        ADJUSTMENTS, {"rows": [{"sku": r["sku"], "location": r["location"], "delta": -1} for r in rows]}, format="json"
    )
    assert second.json()["accepted"] == 10_000
    assert StockLevel.objects.for_tenant(tenant).aggregate(t=Sum("on_hand"))["t"] == sum(
        r["quantity"] - 1 for r in rows
    )


def test_another_tenants_skus_and_locations_are_unknown(api, other_api, tenant, other_tenant, stock):
    factories.ProductFactory(tenant=other_tenant, sku="THEIRS")
    factories.LocationFactory(tenant=other_tenant, code="THEIRLOC")
    body = api.post(
        ADJUSTMENTS,
        {"rows": [{"sku": "THEIRS", "location": "WH1", "delta": 1}, {"sku": "A", "location": "THEIRLOC", "delta": 1}]},
        format="json",
    ).json()
    assert body["accepted"] == 0 and len(body["rejected"]) == 2
    body = other_api.post(SNAPSHOTS, {"rows": [{"sku": "A", "location": "WH1", "quantity": 3}]}, format="json").json()
    assert body["accepted"] == 0 and "Unknown SKU" in body["rejected"][0]["reason"]
    assert not StockMovement.all_tenants.exists()


def test_pages_session_roles_without_write_access_are_refused(user_client, stock):
    client = user_client("viewer")
    response = client.post(
        ADJUSTMENTS, {"rows": [{"sku": "A", "location": "WH1", "delta": 1}]}, content_type="application/json"
    )
    assert response.status_code == 403


def test_lot_tracked_rows_go_through_their_lots(api, tenant, stock):
    from inventory.ledger import ledger_discrepancies
    from inventory.models import Lot

    factories.ProductFactory(tenant=tenant, sku="MILK", tracks_lots=True)
    body = api.post(
        ADJUSTMENTS,
        {
            "rows": [
                {"sku": "MILK", "location": "WH1", "delta": 5},
                {
                    "sku": "MILK",
                    "location": "WH1",
                    "delta": 5,
                    "lot": "L1",
                    "expires_on": "2030-01-31",
                    "kind": "receipt",
                },
                {"sku": "MILK", "location": "WH1", "delta": 4, "lot": "L0", "expires_on": "2030-01-10"},
                {"sku": "MILK", "location": "WH1", "delta": -6},
            ]
        },
        format="json",
    ).json()
    assert [r["index"] for r in body["rejected"]] == [0]
    assert "lot" in body["rejected"][0]["reason"]
    assert body["accepted"] == 3
    lots = {lot.code: lot.on_hand for lot in Lot.objects.for_tenant(tenant)}
    assert lots == {"L0": 0, "L1": 3}  # the removal took the earliest expiry first
    body = api.post(SNAPSHOTS, {"rows": [{"sku": "MILK", "location": "WH1", "quantity": 1}]}, format="json").json()
    assert body["accepted"] == 1
    assert Lot.objects.for_tenant(tenant).get(code="L1").on_hand == 1
    assert ledger_discrepancies(tenant=tenant) == []
