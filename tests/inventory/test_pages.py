"""Stock pages: who may open what, store clerks limited to their stores, another tenant's ids answer 404."""

import pytest

from inventory import alerts, counts, transfers
from inventory.ledger import level_for, post_movement
from inventory.models import CycleCount, StockLevel, StockMovement, Transfer
from oms.actors import Actor
from oms.models import Role
from tests import factories

SYSTEM = Actor.system("tests")
ALL = set(Role.values)
STAFF = {Role.ADMIN, Role.BACK_OFFICE}
OPERATIONS = STAFF | {Role.STORE_CLERK}
# Every stock page and the roles that may open it.
PAGES = {
    "/inventory/": ALL,
    "/inventory/movements/?sku=A": ALL,
    "/inventory/adjust/": STAFF,
    "/inventory/transfers/": STAFF,
    "/inventory/counts/": OPERATIONS,
    "/inventory/imports/": STAFF,
    "/inventory/alerts/": STAFF,
}


@pytest.fixture
def stock(tenant):
    product = factories.ProductFactory(tenant=tenant, sku="A", name="Blue shirt", barcode="3000000000017")
    factories.ProductFactory(tenant=tenant, sku="B", name="Red shirt")
    wh = factories.LocationFactory(tenant=tenant, code="WH1")
    store = factories.LocationFactory(tenant=tenant, code="PAR01", kind="store")
    for location, qty in ((wh, 12), (store, 4)):
        level = level_for(tenant=tenant, product=product, location=location)
        post_movement(tenant=tenant, level=level, kind="receipt", quantity=qty, actor=SYSTEM, reason=f"in {location}")
    StockLevel.objects.for_tenant(tenant).filter(location=wh).update(reserved=2)
    return {"product": product, "WH1": wh, "PAR01": store}


@pytest.mark.parametrize("role", sorted(ALL))
def test_each_role_opens_exactly_its_pages(user_client, stock, role):
    client = user_client(role, locations=[stock["PAR01"]] if role == Role.STORE_CLERK else ())
    for url, roles in PAGES.items():
        assert client.get(url).status_code == (200 if role in roles else 403), url
    home = client.get("/").content.decode()
    assert 'href="/inventory/"' in home
    assert ("Low-stock alerts" in home) == (role in STAFF)


def test_search_by_sku_name_or_barcode_shows_every_location(user_client, stock):
    client = user_client("viewer")
    for query in ("A", "blue", "3000000000017"):
        html = client.get("/inventory/", {"q": query}).content.decode()
        assert "Blue shirt" in html and "WH1" in html and "PAR01" in html, query
        assert "Red shirt" not in html
    html = client.get("/inventory/", {"q": "3000000000017"}).content.decode()
    assert '<td class="num">12</td><td class="num">2</td><td class="num">10</td>' in html


def test_store_clerks_see_only_their_store(user_client, stock):
    client = user_client("store_clerk", locations=[stock["PAR01"]])
    html = client.get("/inventory/", {"q": "A"}).content.decode()
    assert "PAR01" in html and "WH1" not in html
    assert client.get("/inventory/movements/", {"sku": "A", "location": "WH1"}).status_code == 404
    html = client.get("/inventory/movements/", {"sku": "A"}).content.decode()
    assert "in PAR01" in html and "in WH1" not in html


def test_movement_history_per_sku_and_location(user_client, stock):
    client = user_client("manager")
    html = client.get("/inventory/movements/", {"sku": "A", "location": "WH1"}).content.decode()
    assert "in WH1" in html and "in PAR01" not in html and "+12" in html
    assert client.get("/inventory/movements/", {"sku": "NOPE"}).status_code == 404
    assert client.get("/inventory/movements/", {"sku": "A", "location": "MARS"}).status_code == 404
    assert client.get("/inventory/movements/", {"sku": "A\x00"}).status_code == 400
    assert client.get("/inventory/", {"q": "\x00"}).status_code == 400


def test_back_office_adjusts_stock_from_the_page(user_client, tenant, stock):
    client = user_client("back_office")
    response = client.post(
        "/inventory/adjust/",
        {"sku": "A", "location": stock["WH1"].id, "delta": -3, "kind": "adjustment", "reason": "broken"},
    )
    assert response.status_code == 302
    assert StockLevel.objects.for_tenant(tenant).get(location=stock["WH1"]).on_hand == 9
    assert StockMovement.objects.for_tenant(tenant).get(reason="broken").actor_label == client.user.email
    refused = client.post(
        "/inventory/adjust/",
        {"sku": "A", "location": stock["WH1"].id, "delta": -8, "kind": "adjustment", "reason": "too much"},
    )
    assert refused.status_code == 200 and "reserved" in refused.content.decode()
    assert StockLevel.objects.for_tenant(tenant).get(location=stock["WH1"]).on_hand == 9


def test_a_transfer_is_created_shipped_and_received_from_the_pages(user_client, tenant, stock):
    client = user_client("admin")
    response = client.post(
        "/inventory/transfers/", {"source": stock["WH1"].id, "destination": stock["PAR01"].id, "lines": "A 5\n"}
    )
    transfer = Transfer.objects.for_tenant(tenant).get()
    assert response["Location"] == f"/inventory/transfers/{transfer.id}/"
    client.post(f"/inventory/transfers/{transfer.id}/", {"action": "ship"})
    line = transfer.lines.get()
    client.post(f"/inventory/transfers/{transfer.id}/", {"action": "receive", f"received-{line.id}": "4"})
    transfer.refresh_from_db()
    assert transfer.status == "received"
    assert StockLevel.objects.for_tenant(tenant).get(location=stock["PAR01"]).on_hand == 8
    assert "TR-000001" in client.get("/inventory/transfers/").content.decode()


def test_a_store_clerk_counts_their_own_store_only(user_client, tenant, stock):
    client = user_client("store_clerk", locations=[stock["PAR01"]])
    assert client.post("/inventory/counts/", {"location": stock["WH1"].id}).status_code == 200  # not a choice
    assert not CycleCount.objects.for_tenant(tenant).exists()
    response = client.post("/inventory/counts/", {"location": stock["PAR01"].id, "skus": ""})
    count = CycleCount.objects.for_tenant(tenant).get()
    assert response["Location"] == f"/inventory/counts/{count.id}/"
    line = count.lines.get()
    client.post(f"/inventory/counts/{count.id}/", {"action": "complete", f"counted-{line.id}": "3"})
    line.refresh_from_db()
    assert (line.expected, line.counted, line.variance) == (4, 3, -1)
    html = client.get(f"/inventory/counts/{count.id}/").content.decode()
    assert "Expected" in html
    assert StockLevel.objects.for_tenant(tenant).get(location=stock["PAR01"]).on_hand == 3
    warehouse_count = counts.start_count(tenant=tenant, actor=SYSTEM, location="WH1")
    assert client.get(f"/inventory/counts/{warehouse_count.id}/").status_code == 404
    assert client.post(f"/inventory/counts/{warehouse_count.id}/", {"action": "cancel"}).status_code == 404


def test_alert_rules_from_the_page(user_client, tenant, stock):
    client = user_client("back_office")
    client.post("/inventory/alerts/", {"sku": "A", "location": stock["PAR01"].id, "threshold": 5})
    rule = alerts.rule_list(tenant=tenant).get()
    assert rule.is_low
    html = client.get("/inventory/alerts/").content.decode()
    assert "PAR01" in html and "Low" in html
    client.post(f"/inventory/alerts/{rule.id}/delete/")
    assert not alerts.rule_list(tenant=tenant).exists()


def test_another_tenants_ids_answer_404_on_every_page(user_client, other_tenant, stock):
    theirs = factories.ProductFactory(tenant=other_tenant, sku="THEIRS")
    src = factories.LocationFactory(tenant=other_tenant, code="O1")
    dst = factories.LocationFactory(tenant=other_tenant, code="O2")
    post_movement(
        tenant=other_tenant,
        level=level_for(tenant=other_tenant, product=theirs, location=src),
        kind="receipt",
        quantity=3,
        actor=SYSTEM,
    )
    transfer = transfers.create_transfer(
        tenant=other_tenant, actor=SYSTEM, source="O1", destination="O2", lines=[("THEIRS", 1)]
    )
    count = counts.start_count(tenant=other_tenant, actor=SYSTEM, location="O1")
    rule = alerts.save_rule(tenant=other_tenant, actor=SYSTEM, sku="THEIRS", location_code="O1", threshold=1)
    client = user_client("admin")
    assert client.get("/inventory/movements/", {"sku": "THEIRS"}).status_code == 404
    assert client.get(f"/inventory/transfers/{transfer.id}/").status_code == 404
    assert client.post(f"/inventory/transfers/{transfer.id}/", {"action": "ship"}).status_code == 404
    assert client.get(f"/inventory/counts/{count.id}/").status_code == 404
    assert client.post(f"/inventory/counts/{count.id}/", {"action": "cancel"}).status_code == 404
    assert client.post(f"/inventory/alerts/{rule.id}/delete/").status_code == 404
    assert "No product matches." in client.get("/inventory/", {"q": "THEIRS"}).content.decode()
    transfer.refresh_from_db()
    count.refresh_from_db()
    assert transfer.status == "draft" and count.status == "open" and dst.pk


@pytest.mark.parametrize("typed", ["²", "1" * 5000, "-1"])
def test_a_received_quantity_that_is_not_a_plain_number_is_refused_on_the_page(user_client, tenant, stock, typed):
    client = user_client("admin")
    client.post(
        "/inventory/transfers/", {"source": stock["WH1"].id, "destination": stock["PAR01"].id, "lines": "A 5\n"}
    )
    transfer = Transfer.objects.for_tenant(tenant).get()
    client.post(f"/inventory/transfers/{transfer.id}/", {"action": "ship"})
    line = transfer.lines.get()

    answer = client.post(
        f"/inventory/transfers/{transfer.id}/", {"action": "receive", f"received-{line.id}": typed}, follow=True
    )

    assert answer.status_code == 200
    transfer.refresh_from_db()
    assert transfer.status == "in_transit"


@pytest.mark.parametrize("typed", ["A ²", "A " + "1" * 5000])
def test_a_transfer_line_quantity_that_is_not_a_plain_number_is_refused_on_the_page(user_client, tenant, stock, typed):
    client = user_client("admin")

    answer = client.post(
        "/inventory/transfers/", {"source": stock["WH1"].id, "destination": stock["PAR01"].id, "lines": typed}
    )

    assert answer.status_code == 200 and not Transfer.objects.for_tenant(tenant).exists()
