"""The store screens: a store's queue with a count per column, picking by scan (wrong item, over-scan, complete,
checked on the server), packing with the packing slip and the label, shipping, rejecting, the walk-in sale; who
sees which store and who may act; French."""

from decimal import Decimal

import pytest

from fulfillment.models import FulfillmentOrder, Shipment
from fulfillment.services import picking
from fulfillment.store import QUEUE_COLUMNS
from inventory.models import StockLevel
from oms.actors import Actor
from oms.api.scope import Scope
from oms.models import Role
from orders.models import Order
from tests.fulfillment.store_support import build_store, store_order
from tests.orders.support import level

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(tenant):
    return build_store(tenant)


def clerk_scope(tenant, shop):
    return Scope(tenant=tenant, actor=Actor.system("tests"), role=Role.BACK_OFFICE)


def _column(page: str, key: str) -> str:
    start = page.index(f'id="column-{key}"')
    end = page.find('<section class="queue-column"', start + 1)
    return page[start : end if end != -1 else len(page)]


def _scan(client, fulfillment, code, htmx=True):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post(f"/store/fulfillments/{fulfillment.id}/scan/", {"code": code}, **headers)


# --- the queue ------------------------------------------------------------------------------------------------


def test_the_queue_shows_each_column_with_its_count_and_refreshes_itself(user_client, api, tenant, shop):
    first = store_order(api, tenant, shop)
    second = store_order(api, tenant, shop)
    api.post(f"/api/v1/fulfillments/{second.id}/accept/", {}, format="json")
    client = user_client(Role.STORE_CLERK, locations=[shop.store])

    page = client.get(f"/store/{shop.store.code}/").content.decode()

    assert [column.key for column in QUEUE_COLUMNS] == [
        "to_accept",
        "to_pick",
        "to_pack",
        "to_ship",
        "to_make_ready",
        "ready_for_pickup",
        "overdue_pickups",
        "awaiting_transfer",
    ]
    assert f'id="card-{first.id}"' in _column(page, "to_accept")
    assert f'id="card-{second.id}"' in _column(page, "to_pick")
    assert '<a class="count" href="#column-to_accept" id="count-to_accept"><strong>1</strong>' in page
    assert '<a class="count" href="#column-to_ship" id="count-to_ship"><strong>0</strong>' in page
    assert 'hx-trigger="every 5s"' in page


def test_the_queue_fragment_alone_answers_htmx(user_client, api, tenant, shop):
    store_order(api, tenant, shop)
    client = user_client(Role.STORE_CLERK, locations=[shop.store])

    fragment = client.get(f"/store/{shop.store.code}/", HTTP_HX_REQUEST="true").content.decode()

    assert fragment.startswith('<section id="queue"') and "<html" not in fragment


def test_a_fully_scanned_order_moves_from_to_pick_to_to_pack(user_client, api, tenant, shop):
    fulfillment = store_order(api, tenant, shop, lines=[{"sku": shop.a.sku, "quantity": 1, "unit_price": "1.00"}])
    api.post(f"/api/v1/fulfillments/{fulfillment.id}/accept/", {}, format="json")
    client = user_client(Role.STORE_CLERK, locations=[shop.store])
    _scan(client, fulfillment, shop.a.barcode)

    page = client.get(f"/store/{shop.store.code}/").content.decode()

    assert f'id="card-{fulfillment.id}"' in _column(page, "to_pack")
    assert f'id="card-{fulfillment.id}"' not in _column(page, "to_pick")


# --- picking by scan --------------------------------------------------------------------------------------------


def test_the_pick_screen_lists_name_sku_barcode_and_shelf(user_client, api, tenant, shop):
    fulfillment = store_order(api, tenant, shop)
    StockLevel.objects.for_tenant(tenant).filter(product=shop.a, location=shop.store).update(bin="A3-2")
    api.post(f"/api/v1/fulfillments/{fulfillment.id}/accept/", {}, format="json")

    page = user_client(Role.STORE_CLERK, locations=[shop.store]).get(f"/store/fulfillments/{fulfillment.id}/pick/")

    text = page.content.decode()
    assert page.status_code == 200
    assert shop.a.sku in text and shop.a.barcode in text and "Product A" in text
    assert "Shelf A3-2" in text and "Shelf unknown" in text  # B has no bin at the store
    assert 'id="scan-code"' in text and "0 / 2" in text


def test_scanning_confirms_units_one_by_one_and_starts_picking(user_client, api, tenant, shop):
    fulfillment = store_order(api, tenant, shop)
    api.post(f"/api/v1/fulfillments/{fulfillment.id}/accept/", {}, format="json")
    client = user_client(Role.STORE_CLERK, locations=[shop.store])

    panel = _scan(client, fulfillment, shop.a.barcode).content.decode()

    assert panel.startswith('<section id="pick-lines"')
    assert "1 / 2" in panel and f"{shop.a.sku}: 1 of 2." in panel
    fulfillment.refresh_from_db()
    assert fulfillment.status == "picking"
    assert fulfillment.lines.get(order_line__sku=shop.a.sku).quantity_picked == 1


def test_a_wrong_item_is_refused_with_a_clear_message(user_client, api, tenant, shop):
    fulfillment = store_order(api, tenant, shop)
    api.post(f"/api/v1/fulfillments/{fulfillment.id}/accept/", {}, format="json")
    client = user_client(Role.STORE_CLERK, locations=[shop.store])

    panel = _scan(client, fulfillment, shop.c.barcode).content.decode()

    assert 'id="scan-error"' in panel and f"{shop.c.barcode} is not in this order: put it back." in panel
    assert sum(line.quantity_picked for line in fulfillment.lines.all()) == 0


def test_an_over_scan_is_refused_and_counts_nothing(user_client, api, tenant, shop):
    fulfillment = store_order(api, tenant, shop)
    api.post(f"/api/v1/fulfillments/{fulfillment.id}/accept/", {}, format="json")
    client = user_client(Role.STORE_CLERK, locations=[shop.store])
    _scan(client, fulfillment, shop.b.barcode)

    panel = _scan(client, fulfillment, shop.b.barcode).content.decode()

    assert f"Too many: all 1 unit(s) of {shop.b.sku} are already confirmed." in panel
    assert fulfillment.lines.get(order_line__sku=shop.b.sku).quantity_picked == 1


def test_a_typed_sku_counts_like_a_scan_and_the_last_unit_offers_packing(user_client, api, tenant, shop):
    fulfillment = store_order(api, tenant, shop)
    api.post(f"/api/v1/fulfillments/{fulfillment.id}/accept/", {}, format="json")
    client = user_client(Role.STORE_CLERK, locations=[shop.store])
    _scan(client, fulfillment, shop.a.barcode)
    _scan(client, fulfillment, shop.a.sku.lower())

    panel = _scan(client, fulfillment, shop.b.barcode).content.decode()

    assert "Every unit is picked: pack it." in panel and 'id="to-pack"' in panel


def test_packing_is_refused_on_the_server_until_every_unit_is_scanned(user_client, api, tenant, shop):
    fulfillment = store_order(api, tenant, shop)
    api.post(f"/api/v1/fulfillments/{fulfillment.id}/accept/", {}, format="json")
    client = user_client(Role.STORE_CLERK, locations=[shop.store])
    _scan(client, fulfillment, shop.a.barcode)

    answer = client.post(f"/store/fulfillments/{fulfillment.id}/pack/", {"parcels": "1.2"})

    assert answer.status_code == 400
    assert f"Not every unit is confirmed yet: {shop.a.sku} 1/2, {shop.b.sku} 0/1." in answer.content.decode()
    assert FulfillmentOrder.objects.for_tenant(tenant).get(id=fulfillment.id).status == "picking"


def test_the_scan_service_refuses_an_order_that_is_not_being_picked(api, tenant, shop):
    fulfillment = store_order(api, tenant, shop)  # pending: not accepted yet

    with pytest.raises(picking.IllegalTransition):
        picking.scan(scope=clerk_scope(tenant, shop), fulfillment_id=fulfillment.id, code=shop.a.barcode)


def test_without_scripts_a_scan_comes_back_as_the_page_with_its_message(user_client, api, tenant, shop):
    fulfillment = store_order(api, tenant, shop)
    api.post(f"/api/v1/fulfillments/{fulfillment.id}/accept/", {}, format="json")
    client = user_client(Role.STORE_CLERK, locations=[shop.store])

    answer = client.post(f"/store/fulfillments/{fulfillment.id}/scan/", {"code": "NOPE"}, follow=True)

    assert answer.redirect_chain[-1][0] == f"/store/fulfillments/{fulfillment.id}/pick/"
    assert "NOPE is not in this order: put it back." in answer.content.decode()


# --- pack, print, ship, reject -----------------------------------------------------------------------------------


def _picked(api, client, tenant, shop):
    fulfillment = store_order(api, tenant, shop)
    api.post(f"/api/v1/fulfillments/{fulfillment.id}/accept/", {}, format="json")
    for code in (shop.a.barcode, shop.a.barcode, shop.b.barcode):
        _scan(client, fulfillment, code)
    return fulfillment


def test_pack_then_print_the_slip_and_the_label_then_ship(user_client, api, tenant, shop):
    client = user_client(Role.STORE_CLERK, locations=[shop.store])
    fulfillment = _picked(api, client, tenant, shop)

    packed = client.post(
        f"/store/fulfillments/{fulfillment.id}/pack/",
        {"parcels": "1,2 0.5", "carrier": "colissimo", "service": "express"},
        follow=True,
    ).content.decode()
    label = client.get(f"/store/fulfillments/{fulfillment.id}/label/").content.decode()
    slip = client.get(f"/fulfillment/{fulfillment.id}/packing-slip/")
    shipped = client.post(
        f"/store/fulfillments/{fulfillment.id}/ship/",
        {"carrier": "colissimo", "service": "express", "tracking_numbers": "6A1 6A2"},
        follow=True,
    )

    assert 'id="print-label"' in packed and 'id="print-slip"' in packed
    order = Order.all_tenants.get(id=fulfillment.order_id)
    assert "Colissimo · express" in label and order.number in label and "1 Rue De Rivoli".lower() in label.lower()
    assert "2 · 1.2 kg, 0.5 kg" in label and "<svg" in label and f"{order.number}/F{fulfillment.id}" in label
    assert slip.status_code == 200
    shipment = Shipment.objects.for_tenant(tenant).get()
    assert shipment.carrier == "colissimo" and shipment.tracking_numbers == ["6A1", "6A2"]
    assert shipped.redirect_chain[-1][0] == f"/store/{shop.store.code}/"
    assert f"Order {order.number} handed to the carrier." in shipped.content.decode()


def test_a_refused_step_shows_on_the_page_never_a_500(user_client, api, tenant, shop):
    fulfillment = store_order(api, tenant, shop)
    client = user_client(Role.STORE_CLERK, locations=[shop.store])

    ship = client.post(f"/store/fulfillments/{fulfillment.id}/ship/", {"carrier": "dpd"})
    accepted_twice = [client.post(f"/store/fulfillments/{fulfillment.id}/accept/", follow=True) for _ in range(2)]

    assert ship.status_code == 400 and "cannot be handed to the carrier" in ship.content.decode()
    assert "cannot be accepted" in accepted_twice[1].content.decode()


def test_reject_with_a_reason_routes_the_order_again(user_client, api, tenant, shop):
    fulfillment = store_order(api, tenant, shop)
    client = user_client(Role.STORE_CLERK, locations=[shop.store])

    page = client.get(f"/store/fulfillments/{fulfillment.id}/reject/").content.decode()
    refused = client.post(f"/store/fulfillments/{fulfillment.id}/reject/", {"reason": "lost"})
    done = client.post(f"/store/fulfillments/{fulfillment.id}/reject/", {"reason": "no_capacity"}, follow=True)

    assert "Out of stock" in page and "Damaged" in page and "No capacity today" in page
    assert refused.status_code == 400
    assert FulfillmentOrder.objects.for_tenant(tenant).get(id=fulfillment.id).status == "rejected"
    assert FulfillmentOrder.objects.for_tenant(tenant).filter(order_id=fulfillment.order_id, location=shop.other)
    assert "it is routed again" in done.content.decode()


# --- who sees what ------------------------------------------------------------------------------------------------


def test_a_clerk_opens_only_their_stores_and_another_stores_order_is_a_404(user_client, api, tenant, shop):
    StockLevel.objects.for_tenant(tenant).filter(location=shop.store).update(on_hand=0)
    elsewhere = store_order(api, tenant, shop, location=shop.other)
    client = user_client(Role.STORE_CLERK, locations=[shop.store])

    assert client.get(f"/store/{shop.other.code}/").status_code == 404
    for page in ("pick", "pack", "label", "ship", "reject"):
        assert client.get(f"/store/fulfillments/{elsewhere.id}/{page}/").status_code == 404, page
    for action in ("accept", "scan"):
        assert client.post(f"/store/fulfillments/{elsewhere.id}/{action}/", {"code": "x"}).status_code == 404
    assert FulfillmentOrder.objects.for_tenant(tenant).get(id=elsewhere.id).status == "pending"


def test_another_tenants_fulfilment_order_is_a_404(user_client, api, tenant, other_tenant, shop):
    from tests.conftest import make_api_client

    theirs = build_store(other_tenant, code="ZZ")
    foreign = store_order(make_api_client(other_tenant), other_tenant, theirs)
    client = user_client(Role.ADMIN)

    assert client.get(f"/store/fulfillments/{foreign.id}/pick/").status_code == 404
    assert client.post(f"/store/fulfillments/{foreign.id}/accept/").status_code == 404
    assert client.get(f"/store/{theirs.store.code}/").status_code == 404


def test_a_clerk_of_two_stores_switches_and_the_choice_is_remembered(user_client, shop):
    client = user_client(Role.STORE_CLERK, locations=[shop.store, shop.other])

    first = client.get("/store/")
    page = client.get(first["Location"]).content.decode()
    switched = client.get(f"/store/?store={shop.store.code}")
    again = client.get("/store/")
    refused = client.get("/store/?store=NOWHERE")

    assert first["Location"] == f"/store/{shop.other.code}/"  # the first by code
    assert 'id="store-select"' in page and shop.store.code in page
    assert switched["Location"] == again["Location"] == f"/store/{shop.store.code}/"
    assert refused.status_code == 404


def test_the_office_chooses_any_store(user_client, shop):
    client = user_client(Role.BACK_OFFICE)

    page = client.get(f"/store/{shop.other.code}/").content.decode()

    assert shop.store.code in page and shop.other.code in page and 'id="store-select"' in page


@pytest.mark.parametrize("role", [Role.MANAGER, Role.VIEWER])
def test_readers_see_the_screens_without_acting(user_client, api, tenant, shop, role):
    fulfillment = store_order(api, tenant, shop)
    client = user_client(role)

    queue = client.get(f"/store/{shop.store.code}/").content.decode()
    pick = client.get(f"/store/fulfillments/{fulfillment.id}/pick/").content.decode()

    assert f'id="card-{fulfillment.id}"' in queue and "store-accept" not in queue and "/accept/" not in queue
    assert 'id="scan-code"' not in pick and 'id="walk-in-link"' not in queue
    assert client.post(f"/store/fulfillments/{fulfillment.id}/accept/").status_code == 403
    assert client.post(f"/store/fulfillments/{fulfillment.id}/scan/", {"code": shop.a.barcode}).status_code == 403
    assert client.post(f"/store/fulfillments/{fulfillment.id}/reject/", {"reason": "damaged"}).status_code == 403
    assert client.get(f"/store/{shop.store.code}/sale/").status_code == 403
    assert FulfillmentOrder.objects.for_tenant(tenant).get(id=fulfillment.id).status == "pending"


# --- walk-in sale -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.STORE_CLERK, Role.BACK_OFFICE])
def test_a_walk_in_sale_at_catalogue_prices_takes_the_units_off_the_shelf(user_client, tenant, shop, role):
    client = user_client(role, locations=[shop.store]) if role == Role.STORE_CLERK else user_client(role)
    sale = f"/store/{shop.store.code}/sale/"
    before = level(tenant, shop.a, shop.store).on_hand

    client.post(sale, {"action": "add", "code": shop.a.barcode, "quantity": "2"})
    client.post(sale, {"action": "add", "code": shop.b.sku})
    basket = client.get(sale).content.decode()
    done = client.post(sale, {"action": "confirm"}, follow=True).content.decode()

    assert "25.00" in basket and "7.90" in basket and 'id="basket-total">32.90 EUR' in basket
    order = Order.objects.for_tenant(tenant).get(delivery_method="in_store")
    assert order.channel == shop.till and order.total == Decimal("32.90")
    assert f"Sale {order.number} recorded." in done and "The basket is empty." in done
    assert level(tenant, shop.a, shop.store).on_hand == before - 2


def test_a_walk_in_sale_refuses_unknown_items_and_missing_stock_in_the_page(user_client, tenant, shop):
    client = user_client(Role.ADMIN)
    sale = f"/store/{shop.store.code}/sale/"

    unknown = client.post(sale, {"action": "add", "code": "NOPE"}, follow=True).content.decode()
    client.post(sale, {"action": "add", "code": shop.c.sku, "quantity": "9"})
    short = client.post(sale, {"action": "confirm"}, follow=True)

    assert "No product with barcode or SKU NOPE." in unknown
    assert (
        short.status_code == 200 and f"Not enough stock in the store: {shop.c.sku}: 8 left." in short.content.decode()
    )
    assert not Order.objects.for_tenant(tenant).filter(delivery_method="in_store").exists()


# --- French -------------------------------------------------------------------------------------------------------


def test_the_screens_speak_french(user_client, api, tenant, shop):
    fulfillment = store_order(api, tenant, shop)
    api.post(f"/api/v1/fulfillments/{fulfillment.id}/accept/", {}, format="json")
    client = user_client(Role.STORE_CLERK, locations=[shop.store])
    client.cookies["django_language"] = "fr"

    queue = client.get(f"/store/{shop.store.code}/").content.decode()
    pick = client.get(f"/store/fulfillments/{fulfillment.id}/pick/").content.decode()
    wrong = _scan(client, fulfillment, "NOPE").content.decode()

    assert "À accepter" in queue and "À préparer" in queue and "À emballer" in queue and "À expédier" in queue
    assert "Scannez chaque article" in pick
    assert "NOPE n’est pas dans cette commande : reposez-le." in wrong
