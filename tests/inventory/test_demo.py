"""The demo data: network, catalog, stock with a clean ledger, channels; idempotent."""

from io import StringIO

import pytest

from channels import demo as channels_demo
from channels.services import channel_by_code, pool_codes
from inventory import counts, transfers
from inventory import demo as inventory_demo
from inventory.availability import channel_availability
from inventory.ledger import ledger_discrepancies
from inventory.models import (
    CycleCount,
    CycleCountLine,
    Location,
    Lot,
    Product,
    StockAlertRule,
    StockLevel,
    StockMovement,
    Transfer,
)
from inventory.services import gtin_is_valid

pytestmark = pytest.mark.django_db


def _seed(tenant):
    out = StringIO()
    inventory_demo.seed_demo(tenant, out)
    channels_demo.seed_demo(tenant, out)
    return out.getvalue()


def test_the_demo_builds_the_network_catalog_stock_and_channels(tenant):
    _seed(tenant)

    locations = {loc.code: loc for loc in Location.objects.for_tenant(tenant)}
    assert set(locations) == {"WH-LYON", "WH-LILLE", "PAR01", "LYO01", "MRS01", "BDX01", "NTE01", "TLS01"}
    stores = [loc for loc in locations.values() if loc.kind == "store"]
    assert len(stores) == 6 and all(s.pickup and s.accepts_returns and s.latitude for s in stores)
    products = list(Product.objects.for_tenant(tenant))
    assert len(products) == 500
    assert len({p.name for p in products}) == 500
    assert all(len(p.barcode) == 13 and gtin_is_valid(p.barcode) for p in products)
    assert 0 < sum(p.tracks_lots for p in products) < 20
    assert StockLevel.objects.for_tenant(tenant).count() == 500 * 8
    assert Lot.objects.for_tenant(tenant).exists()
    assert ledger_discrepancies(tenant=tenant) == []

    assert pool_codes(channel_by_code(tenant=tenant, code="WEB")) == [
        "WH-LYON",
        "WH-LILLE",
        "PAR01",
        "LYO01",
        "MRS01",
        "BDX01",
        "NTE01",
        "TLS01",
    ]
    assert pool_codes(channel_by_code(tenant=tenant, code="CC")) == [
        "PAR01",
        "LYO01",
        "MRS01",
        "BDX01",
        "NTE01",
        "TLS01",
    ]
    mkt = channel_by_code(tenant=tenant, code="MKT")
    assert (mkt.kind, mkt.buffer, mkt.buffer_kind) == ("marketplace", 10, "percent")
    assert channel_by_code(tenant=tenant, code="STORE").kind == "store"


def test_the_demo_has_transfers_counts_and_alert_rules_with_a_clean_ledger(tenant):
    _seed(tenant)

    statuses = sorted(Transfer.objects.for_tenant(tenant).values_list("status", flat=True))
    assert statuses == ["draft", "in_transit", "received"]
    product_ids = Product.objects.for_tenant(tenant).values_list("id", flat=True)
    assert transfers.in_transit_to(tenant=tenant, product_ids=product_ids)
    completed = CycleCount.objects.for_tenant(tenant).filter(status="completed")
    assert completed.count() == 2
    lines = CycleCountLine.objects.for_tenant(tenant).filter(count__in=completed)
    assert lines.exclude(variance=0).exists() and lines.filter(variance=0).exists()
    assert lines.exclude(lot_code="").exists()
    figures = counts.accuracy(tenant=tenant)
    assert 0 < figures["line_accuracy"] < 1
    rules = StockAlertRule.objects.for_tenant(tenant)
    assert rules.filter(location__isnull=False).count() >= 3 and rules.filter(channel__isnull=False).count() == 1
    assert rules.filter(is_low=True).exists()
    assert ledger_discrepancies(tenant=tenant) == []

    _seed(tenant)

    assert Transfer.objects.for_tenant(tenant).count() == 3
    assert CycleCount.objects.for_tenant(tenant).count() == 2
    assert StockAlertRule.objects.for_tenant(tenant).count() == rules.count()


def test_the_demo_fresh_goods_have_an_expired_lot_that_is_never_promised(tenant):
    _seed(tenant)
    fresh = Product.objects.for_tenant(tenant).filter(tracks_lots=True).first()
    store = channel_by_code(tenant=tenant, code="STORE")

    [figure] = channel_availability(tenant=tenant, channel=store, skus=[fresh.sku])

    on_hand = sum(
        StockLevel.objects.for_tenant(tenant)
        .filter(product=fresh, location__kind="store")
        .values_list("on_hand", flat=True)
    )
    assert 0 < figure.available < on_hand


def test_running_the_demo_twice_changes_nothing(tenant):
    _seed(tenant)
    movements = StockMovement.objects.for_tenant(tenant).count()

    second = _seed(tenant)

    assert "stock already present" in second
    assert StockMovement.objects.for_tenant(tenant).count() == movements
    assert Product.objects.for_tenant(tenant).count() == 500
