"""Stock transfers: draft → in transit (transfer_out at the source) → received (transfer_in at the destination)."""

import pytest

from inventory import transfers
from inventory.ledger import level_for, post_movement
from inventory.models import StockLevel, StockMovement, Transfer
from oms.actors import Actor
from oms.errors import Conflict, IllegalTransition, ValidationFailed
from oms.models import OutboxEvent
from tests import factories

SYSTEM = Actor.system("tests")


@pytest.fixture
def network(tenant):
    product = factories.ProductFactory(tenant=tenant, sku="A")
    other = factories.ProductFactory(tenant=tenant, sku="B")
    wh = factories.LocationFactory(tenant=tenant, code="WH1")
    store = factories.LocationFactory(tenant=tenant, code="PAR01", kind="store")
    for p, qty in ((product, 10), (other, 4)):
        post_movement(
            tenant=tenant,
            level=level_for(tenant=tenant, product=p, location=wh),
            kind="receipt",
            quantity=qty,
            actor=SYSTEM,
        )
    return {"A": product, "B": other, "WH1": wh, "PAR01": store}


def on_hand(tenant, product, location):
    level = StockLevel.objects.for_tenant(tenant).filter(product=product, location=location).first()
    return level.on_hand if level else 0


def test_a_transfer_goes_out_in_transit_and_is_received_with_ledger_rows(tenant, network):
    transfer = transfers.create_transfer(
        tenant=tenant, actor=SYSTEM, source="WH1", destination="PAR01", lines=[("A", 3), ("B", 4)]
    )
    assert transfer.status == Transfer.Status.DRAFT and transfer.number == "TR-000001"
    assert on_hand(tenant, network["A"], network["WH1"]) == 10

    transfers.ship_transfer(tenant=tenant, actor=SYSTEM, transfer_id=transfer.id)
    transfer.refresh_from_db()
    assert transfer.status == Transfer.Status.IN_TRANSIT and transfer.shipped_at
    assert on_hand(tenant, network["A"], network["WH1"]) == 7
    assert on_hand(tenant, network["A"], network["PAR01"]) == 0
    assert transfers.in_transit_to(tenant=tenant, product_ids=[network["A"].id]) == {
        (network["A"].id, network["PAR01"].id): 3
    }
    out = StockMovement.objects.for_tenant(tenant).filter(kind="transfer_out", reference=transfer.number)
    assert sorted(out.values_list("quantity", flat=True)) == [-4, -3]

    transfers.receive_transfer(tenant=tenant, actor=SYSTEM, transfer_id=transfer.id, received={"B": 3})
    transfer.refresh_from_db()
    assert transfer.status == Transfer.Status.RECEIVED
    assert on_hand(tenant, network["A"], network["PAR01"]) == 3
    assert on_hand(tenant, network["B"], network["PAR01"]) == 3  # one unit lost in transit, recorded on the line
    assert transfer.lines.get(product=network["B"]).received_quantity == 3
    into = StockMovement.objects.for_tenant(tenant).filter(kind="transfer_in", reference=transfer.number)
    assert sorted(into.values_list("quantity", flat=True)) == [3, 3]
    assert transfers.in_transit_to(tenant=tenant, product_ids=[network["A"].id]) == {}
    assert OutboxEvent.objects.for_tenant(tenant).filter(topic="stock.adjusted").exists()


def test_shipping_more_than_is_free_ships_nothing(tenant, network):
    StockLevel.objects.for_tenant(tenant).filter(product=network["B"]).update(reserved=2)
    transfer = transfers.create_transfer(
        tenant=tenant, actor=SYSTEM, source="WH1", destination="PAR01", lines=[("A", 3), ("B", 4)]
    )
    with pytest.raises(Conflict):
        transfers.ship_transfer(tenant=tenant, actor=SYSTEM, transfer_id=transfer.id)
    transfer.refresh_from_db()
    assert transfer.status == Transfer.Status.DRAFT
    assert on_hand(tenant, network["A"], network["WH1"]) == 10
    assert not StockMovement.objects.for_tenant(tenant).filter(kind="transfer_out").exists()


def test_transitions_are_checked(tenant, network):
    transfer = transfers.create_transfer(
        tenant=tenant, actor=SYSTEM, source="WH1", destination="PAR01", lines=[("A", 1)]
    )
    with pytest.raises(IllegalTransition):
        transfers.receive_transfer(tenant=tenant, actor=SYSTEM, transfer_id=transfer.id)
    transfers.ship_transfer(tenant=tenant, actor=SYSTEM, transfer_id=transfer.id)
    with pytest.raises(IllegalTransition):
        transfers.ship_transfer(tenant=tenant, actor=SYSTEM, transfer_id=transfer.id)
    with pytest.raises(IllegalTransition):
        transfers.cancel_transfer(tenant=tenant, actor=SYSTEM, transfer_id=transfer.id)
    with pytest.raises(ValidationFailed):
        transfers.receive_transfer(tenant=tenant, actor=SYSTEM, transfer_id=transfer.id, received={"A": 2})
    assert on_hand(tenant, network["A"], network["WH1"]) == 9


def test_a_transfer_needs_known_distinct_locations_and_skus(tenant, network):
    with pytest.raises(ValidationFailed):
        transfers.create_transfer(tenant=tenant, actor=SYSTEM, source="WH1", destination="WH1", lines=[("A", 1)])
    with pytest.raises(ValidationFailed):
        transfers.create_transfer(tenant=tenant, actor=SYSTEM, source="WH1", destination="PAR01", lines=[("NOPE", 1)])
    with pytest.raises(ValidationFailed):
        transfers.create_transfer(tenant=tenant, actor=SYSTEM, source="WH1", destination="MARS", lines=[("A", 1)])


def test_transfers_through_the_api(api, tenant, network):
    response = api.post(
        "/api/v1/inventory/transfers/",
        {"source": "WH1", "destination": "PAR01", "lines": [{"sku": "A", "quantity": 2}]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "draft" and body["lines"] == [{"sku": "A", "quantity": 2, "received_quantity": None}]
    pk = body["id"]
    shipped = api.post(f"/api/v1/inventory/transfers/{pk}/ship/", format="json", HTTP_IDEMPOTENCY_KEY="ship-1")
    assert shipped.status_code == 200 and shipped.json()["status"] == "in_transit"
    replay = api.post(f"/api/v1/inventory/transfers/{pk}/ship/", format="json", HTTP_IDEMPOTENCY_KEY="ship-1")
    assert replay.status_code == 200
    assert on_hand(tenant, network["A"], network["WH1"]) == 8
    again = api.post(f"/api/v1/inventory/transfers/{pk}/ship/", format="json")
    assert again.status_code == 409
    received = api.post(f"/api/v1/inventory/transfers/{pk}/receive/", {}, format="json")
    assert received.json()["status"] == "received" and received.json()["lines"][0]["received_quantity"] == 2
    listed = api.get("/api/v1/inventory/transfers/?status=received&location=PAR01").json()
    assert [t["number"] for t in listed["results"]] == [body["number"]]
    assert api.get(f"/api/v1/inventory/transfers/{pk}/").json()["destination"] == "PAR01"
    bad = api.post(
        "/api/v1/inventory/transfers/", {"source": "WH1", "destination": "PAR01", "lines": []}, format="json"
    )
    assert bad.status_code == 400


def test_another_tenants_transfers_are_not_found(api, other_api, tenant, network):
    transfer = transfers.create_transfer(
        tenant=tenant, actor=SYSTEM, source="WH1", destination="PAR01", lines=[("A", 1)]
    )
    for path in ("", "ship/", "receive/", "cancel/"):
        url = f"/api/v1/inventory/transfers/{transfer.id}/{path}"
        response = other_api.post(url, {}, format="json") if path else other_api.get(url)
        assert response.status_code == 404, url
    assert other_api.get("/api/v1/inventory/transfers/").json()["results"] == []
    response = other_api.post(
        "/api/v1/inventory/transfers/",
        {"source": "WH1", "destination": "PAR01", "lines": [{"sku": "A", "quantity": 1}]},
        format="json",
    )
    assert response.status_code == 400
    transfer.refresh_from_db()
    assert transfer.status == Transfer.Status.DRAFT


def test_lot_tracked_units_arrive_in_the_lots_they_left(tenant, network):
    from datetime import date

    from inventory.ledger import ledger_discrepancies, lot_for
    from inventory.models import Lot

    milk = factories.ProductFactory(tenant=tenant, sku="MILK", tracks_lots=True)
    level = level_for(tenant=tenant, product=milk, location=network["WH1"])
    for code, expires, qty in (("L2", date(2030, 3, 1), 5), ("L1", date(2030, 2, 1), 2)):
        post_movement(
            tenant=tenant,
            level=level,
            kind="receipt",
            quantity=qty,
            actor=SYSTEM,
            lot=lot_for(tenant=tenant, level=level, code=code, expires_on=expires),
        )
    transfer = transfers.create_transfer(
        tenant=tenant, actor=SYSTEM, source="WH1", destination="PAR01", lines=[("MILK", 4)]
    )
    transfers.ship_transfer(tenant=tenant, actor=SYSTEM, transfer_id=transfer.id)
    transfers.receive_transfer(tenant=tenant, actor=SYSTEM, transfer_id=transfer.id)
    arrived = {
        lot.code: (lot.on_hand, lot.expires_on)
        for lot in Lot.objects.for_tenant(tenant).filter(stock_level__location=network["PAR01"])
    }
    assert arrived == {"L1": (2, date(2030, 2, 1)), "L2": (2, date(2030, 3, 1))}
    assert ledger_discrepancies(tenant=tenant) == []


def test_a_store_clerk_reads_only_the_transfers_of_their_stores_and_moves_none(user_client, tenant, network):
    factories.LocationFactory(tenant=tenant, code="LYS01", kind="store")
    to_paris = transfers.create_transfer(
        tenant=tenant, actor=SYSTEM, source="WH1", destination="PAR01", lines=[("A", 1)]
    )
    to_lyon = transfers.create_transfer(
        tenant=tenant, actor=SYSTEM, source="WH1", destination="LYS01", lines=[("A", 1)]
    )
    clerk = user_client("store_clerk", locations=[network["PAR01"]])

    listed = clerk.get("/api/v1/inventory/transfers/")
    assert listed.status_code == 200
    assert [t["number"] for t in listed.json()["results"]] == [to_paris.number]
    assert clerk.get(f"/api/v1/inventory/transfers/{to_paris.id}/").status_code == 200
    # Another store's transfer does not exist for them.
    assert clerk.get(f"/api/v1/inventory/transfers/{to_lyon.id}/").status_code == 404
    # Moving transfers is not a clerk's job, here or there (the same answer for any id: nothing leaks).
    for transfer in (to_paris, to_lyon):
        assert clerk.post(f"/api/v1/inventory/transfers/{transfer.id}/ship/", {}, format="json").status_code == 403


def test_a_sales_channel_key_neither_reads_nor_moves_transfers(tenant, network):
    from tests.conftest import make_api_client

    transfer = transfers.create_transfer(
        tenant=tenant, actor=SYSTEM, source="WH1", destination="PAR01", lines=[("A", 1)]
    )
    shop_key = make_api_client(tenant, channel=factories.ChannelFactory(tenant=tenant, code="WEB"))

    assert shop_key.get("/api/v1/inventory/transfers/").status_code == 403
    assert shop_key.get(f"/api/v1/inventory/transfers/{transfer.id}/").status_code == 403
    assert shop_key.post(f"/api/v1/inventory/transfers/{transfer.id}/cancel/", {}, format="json").status_code == 403


@pytest.mark.parametrize("role", ["manager", "viewer"])
def test_managers_and_viewers_read_transfers_and_move_none(user_client, tenant, network, role):
    transfer = transfers.create_transfer(
        tenant=tenant, actor=SYSTEM, source="WH1", destination="PAR01", lines=[("A", 1)]
    )
    member = user_client(role)

    assert [t["id"] for t in member.get("/api/v1/inventory/transfers/").json()["results"]] == [transfer.id]
    assert member.post(f"/api/v1/inventory/transfers/{transfer.id}/ship/", {}, format="json").status_code == 403


def test_an_unknown_transfer_is_404_before_its_body_is_read(api, tenant, network):
    assert (
        api.post("/api/v1/inventory/transfers/999999/receive/", {"lines": "not a list"}, format="json").status_code
        == 404
    )


def test_lines_of_one_sku_that_add_up_beyond_the_column_are_a_400_not_a_500(api, tenant, network):
    lines = [{"sku": "A", "quantity": 1_000_000_000}] * 3

    response = api.post(
        "/api/v1/inventory/transfers/", {"source": "WH1", "destination": "PAR01", "lines": lines}, format="json"
    )

    assert response.status_code == 400 and "lines" in response.json()["errors"]
    assert not Transfer.objects.for_tenant(tenant).exists()
