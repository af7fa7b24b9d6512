"""Admin of the stock operations: scoped to the tenant, records read-only, steps through the services."""

import pytest
from django.contrib import admin

from inventory import counts, services, sync, transfers
from inventory.models import StockAlertRule, StockImportRejection, StockMovement, Transfer
from oms.models import AuditEntry
from tests import factories
from tests.inventory.stock_helpers import ACTOR, receive

pytestmark = pytest.mark.django_db


def _transfer(tenant, sku, source, destination):
    product = factories.ProductFactory(tenant=tenant, sku=sku)
    src = factories.LocationFactory(tenant=tenant, code=source)
    factories.LocationFactory(tenant=tenant, code=destination)
    receive(tenant, product, src, 10)
    return transfers.create_transfer(
        tenant=tenant, actor=ACTOR, source=source, destination=destination, lines=[(sku, 4)]
    )


def test_transfers_in_the_admin_are_the_tenants_own_and_ship_through_the_service(tenant, other_tenant, user_client):
    mine = _transfer(tenant, "MINE", "WH1", "PAR01")
    theirs = _transfer(other_tenant, "THEIRS", "O1", "O2")
    staff = user_client("back_office")

    listing = staff.get("/admin/inventory/transfer/").content.decode()
    # Both tenants number their transfers TR-000001: tell the rows apart by their change links.
    assert f"/admin/inventory/transfer/{mine.id}/change/" in listing
    assert f"/admin/inventory/transfer/{theirs.id}/change/" not in listing
    assert staff.get(f"/admin/inventory/transfer/{theirs.id}/change/").status_code in (302, 404)
    assert "MINE" in staff.get(f"/admin/inventory/transfer/{mine.id}/change/").content.decode()

    staff.post("/admin/inventory/transfer/", {"action": "ship_transfers", "_selected_action": [mine.id, theirs.id]})

    assert Transfer.all_tenants.get(id=mine.id).status == Transfer.Status.IN_TRANSIT
    assert Transfer.all_tenants.get(id=theirs.id).status == Transfer.Status.DRAFT
    assert StockMovement.objects.for_tenant(tenant).filter(kind="transfer_out", reference=mine.number).exists()
    assert staff.post(f"/admin/inventory/transfer/{mine.id}/change/", {"status": "received"}).status_code == 403


def test_import_rejections_are_read_only_and_scoped(tenant, other_tenant, user_client):
    job = factories.StockImportJobFactory(tenant=tenant, file_name="mine.csv", rejected=1)
    factories.StockImportRejectionFactory(job=job, sku="NOPE-MINE", reason="Unknown SKU NOPE-MINE.")
    factories.StockImportRejectionFactory(job__tenant=other_tenant, sku="NOPE-THEIRS")
    staff = user_client("admin")

    listing = staff.get("/admin/inventory/stockimportrejection/").content.decode()

    assert "NOPE-MINE" in listing and "NOPE-THEIRS" not in listing
    filtered = staff.get(f"/admin/inventory/stockimportrejection/?job__id__exact={job.id}").content.decode()
    assert "NOPE-MINE" in filtered
    assert staff.get("/admin/inventory/stockimportrejection/add/").status_code == 403
    rejection = StockImportRejection.objects.for_tenant(tenant).get()
    assert (
        staff.post(f"/admin/inventory/stockimportrejection/{rejection.id}/delete/", {"post": "yes"}).status_code == 403
    )
    assert "rejected row" in staff.get(f"/admin/inventory/stockimportjob/{job.id}/change/").content.decode()


def test_an_alert_rule_added_in_the_admin_goes_through_the_service(tenant, user_client):
    product = factories.ProductFactory(tenant=tenant, sku="A")
    store = factories.LocationFactory(tenant=tenant, code="PAR01")
    receive(tenant, product, store, 3)
    staff = user_client("back_office")

    neither = staff.post("/admin/inventory/stockalertrule/add/", {"product": product.id, "threshold": "5"})
    assert neither.status_code == 200 and b"either a location or a channel" in neither.content

    staff.post(
        "/admin/inventory/stockalertrule/add/",
        {"product": product.id, "location": store.id, "threshold": "5", "is_low": ""},
    )

    rule = StockAlertRule.objects.for_tenant(tenant).get()
    assert (rule.threshold, rule.is_low, rule.last_available) == (5, True, 3)
    assert AuditEntry.objects.for_tenant(tenant).filter(action="inventory.alert_rule_saved").exists()


def test_every_inventory_and_channel_admin_page_opens_for_a_tenant_admin(tenant, user_client):
    product = factories.ProductFactory(tenant=tenant, sku="FRESH", tracks_lots=True)
    store = factories.LocationFactory(tenant=tenant, code="PAR01", pickup=True)
    receive(tenant, product, store, 5, lot="L1", expires_in_days=5)
    channel = factories.ChannelFactory(tenant=tenant, code="WEB")
    factories.ChannelLocationFactory(channel=channel, location=store)
    counts.count_and_post(tenant=tenant, actor=ACTOR, location="PAR01", counted=[counts.Counted("FRESH", 4, "L1")])
    job = sync.create_import_job(
        tenant=tenant,
        actor=ACTOR,
        mode="adjustments",
        file_name="s.csv",
        content=b"sku,location,quantity\nNOPE,PAR01,1\n",
    )
    sync.run_import_job(job_id=job.id)
    factories.StockAlertRuleFactory(tenant=tenant, product=product, location=store)
    services.place_hold(tenant=tenant, channel=channel, product=product, quantity=1, location=store)
    factories.LocationFactory(tenant=tenant, code="WH1")
    transfers.create_transfer(tenant=tenant, actor=ACTOR, source="PAR01", destination="WH1", lines=[("FRESH", 1)])
    staff = user_client("admin")

    for model in admin.site._registry:
        if model._meta.app_label not in ("inventory", "channels"):
            continue
        url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        assert staff.get(url).status_code == 200, url
        obj = model.objects.for_tenant(tenant).first()
        assert obj is not None, f"no {model.__name__} row to open"
        assert staff.get(f"{url}{obj.pk}/change/").status_code == 200, url
