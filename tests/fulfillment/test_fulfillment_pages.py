"""The fulfilment pages: the board of a location (a column per status, ageing against the SLA, counts), a
fulfilment order's page and its steps, the print-outs, shipments and their tracking, and the order page's
re-route. They call the same services as the API."""

from datetime import timedelta

import pytest
from django.utils import timezone

from fulfillment.models import FulfillmentOrder, Shipment
from fulfillment.services.allocation import allocate_order
from orders.models import Order
from tests.orders.support import build_shop, order_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(tenant):
    return build_shop(tenant)


def _routed(api, tenant, shop) -> FulfillmentOrder:
    answer = api.post("/api/v1/orders/", order_body(shop), format="json")
    allocate_order(tenant=tenant, order_id=answer.json()["id"])
    return FulfillmentOrder.objects.for_tenant(tenant).get(order_id=answer.json()["id"])


def test_the_board_shows_a_column_per_status_with_counts_and_the_overdue(user_client, api, tenant, shop):
    late = _routed(api, tenant, shop)
    FulfillmentOrder.objects.for_tenant(tenant).filter(id=late.id).update(
        created_at=timezone.now() - timedelta(hours=30)
    )
    fresh = _routed(api, tenant, shop)
    api.post(f"/api/v1/fulfillments/{fresh.id}/accept/", {}, format="json")

    page = user_client("back_office").get(f"/fulfillment/board/?location={shop.wh1.code}").content.decode()

    pending = page[page.index('id="column-pending"') : page.index('id="column-accepted"')]
    accepted = page[page.index('id="column-accepted"') : page.index('id="column-picking"')]
    assert f'id="fulfillment-{late.id}"' in pending and "overdue" in pending
    assert f'id="fulfillment-{fresh.id}"' in accepted
    assert '<strong id="open-count">2</strong>' in page and '<strong id="overdue-count">1</strong>' in page
    assert 'hx-trigger="every 30s"' in page


def test_steps_from_the_pages_up_to_shipping_with_a_tracking_number(user_client, api, tenant, shop):
    fulfillment = _routed(api, tenant, shop)
    client = user_client("back_office")
    board = f"/fulfillment/board/?location={shop.wh1.code}"

    answer = client.post(f"/fulfillment/{fulfillment.id}/accept/", {"next": board})
    assert answer.status_code == 302 and answer["Location"] == board
    client.post(f"/fulfillment/{fulfillment.id}/pick/")
    client.post(f"/fulfillment/{fulfillment.id}/pack/", {"parcels": "1,2 0.5"})
    detail = client.get(f"/fulfillment/{fulfillment.id}/").content.decode()
    assert 'id="ship-form"' in detail and "1.2 kg" in detail

    shipped = client.post(
        f"/fulfillment/{fulfillment.id}/ship/", {"carrier": "colissimo", "tracking_numbers": "6A1, 6A2"}, follow=True
    )

    assert "Shipped." in shipped.content.decode()
    shipment = Shipment.objects.for_tenant(tenant).get()
    assert shipment.tracking_numbers == ["6A1", "6A2"] and shipment.parcels[0]["weight_kg"] == "1.2"
    assert Order.all_tenants.get(id=fulfillment.order_id).status == "fulfilled"


def test_a_refused_step_shows_a_message_and_changes_nothing(user_client, api, tenant, shop):
    fulfillment = _routed(api, tenant, shop)

    page = user_client("back_office").post(f"/fulfillment/{fulfillment.id}/ship/", {"carrier": "dpd"}, follow=True)

    assert page.status_code == 200 and "cannot be shipped" in page.content.decode()
    assert not Shipment.objects.for_tenant(tenant).exists()


def test_rejecting_some_units_from_the_page(user_client, api, tenant, shop):
    fulfillment = _routed(api, tenant, shop)
    line = fulfillment.lines.get(order_line__sku=shop.a.sku)

    user_client("back_office").post(
        f"/fulfillment/{fulfillment.id}/reject/", {"reason": "damaged", f"qty-{line.order_line_id}": "1"}
    )

    line.refresh_from_db()
    assert line.quantity_rejected == 1
    assert FulfillmentOrder.objects.for_tenant(tenant).filter(order_id=fulfillment.order_id).count() == 2


def test_pick_lists_and_the_packing_slip_print(user_client, api, tenant, shop):
    first = _routed(api, tenant, shop)
    second = _routed(api, tenant, shop)
    for fulfillment in (first, second):
        api.post(f"/api/v1/fulfillments/{fulfillment.id}/accept/", {}, format="json")
    client = user_client("store_clerk", locations=[shop.wh1])

    batch = client.get(f"/fulfillment/board/pick-list/?location={shop.wh1.code}").content.decode()
    single = client.get(f"/fulfillment/{first.id}/pick-list/").content.decode()
    slip = client.get(f"/fulfillment/{first.id}/packing-slip/").content.decode()

    totals = batch[batch.index('id="pick-totals"') :]
    assert f'<td>{shop.a.sku}</td><td>{shop.a.name}</td><td class="num">4</td>' in totals
    assert f'<td>{shop.a.sku}</td><td>{shop.a.name}</td><td class="num">2</td>' in single
    assert "1 rue de Rivoli" in slip and first.order.number in slip and "data-print" in slip


def test_a_clerk_sees_only_their_stores_on_the_board_and_other_work_is_404(user_client, api, tenant, shop):
    fulfillment = _routed(api, tenant, shop)
    client = user_client("store_clerk", locations=[shop.store])

    board = client.get("/fulfillment/board/").content.decode()

    assert shop.store.code in board and f'value="{shop.wh1.code}"' not in board
    assert client.get(f"/fulfillment/{fulfillment.id}/").status_code == 404
    assert client.post(f"/fulfillment/{fulfillment.id}/accept/").status_code == 404
    assert client.get(f"/fulfillment/board/pick-list/?location={shop.wh1.code}").status_code == 404


def test_shipments_list_detail_and_tracking_from_the_page(user_client, api, tenant, shop):
    fulfillment = _routed(api, tenant, shop)
    for step in ("accept", "pick", "pack"):
        api.post(f"/api/v1/fulfillments/{fulfillment.id}/{step}/", {}, format="json")
    api.post(
        f"/api/v1/fulfillments/{fulfillment.id}/ship/", {"carrier": "ups", "tracking_numbers": ["1Z9"]}, format="json"
    )
    shipment = Shipment.objects.for_tenant(tenant).get()
    client = user_client("back_office")

    listed = client.get("/fulfillment/shipments/?q=1Z9").content.decode()
    client.post(f"/fulfillment/shipments/{shipment.id}/", {"status": "delivered", "detail": "front door"})
    detail = client.get(f"/fulfillment/shipments/{shipment.id}/").content.decode()

    assert f"#{shipment.id}" in listed and "https://www.ups.com/track?tracknum=1Z9" in listed
    assert "front door" in detail
    assert Order.all_tenants.get(id=fulfillment.order_id).status == "delivered"
    viewer = user_client("viewer")
    assert 'id="tracking-form"' not in viewer.get(f"/fulfillment/shipments/{shipment.id}/").content.decode()
    assert viewer.post(f"/fulfillment/shipments/{shipment.id}/", {"status": "returned"}).status_code == 403


def test_the_order_page_shows_fulfilment_and_reroutes(user_client, api, tenant, shop):
    fulfillment = _routed(api, tenant, shop)
    client = user_client("back_office")

    page = client.get(f"/orders/{fulfillment.order_id}/").content.decode()
    assert f'href="/fulfillment/{fulfillment.id}/"' in page and 'id="reroute-form"' in page
    assert "Routing decisions" in page and shop.wh2.code in page
    link = f'href="/fulfillment/routing/?order={fulfillment.order.number}#dry-run"'
    assert link in page
    dry_run = client.get(f"/fulfillment/routing/?order={fulfillment.order.number}").content.decode()
    assert "Why each location" in dry_run

    done = client.post(
        f"/fulfillment/orders/{fulfillment.order_id}/reroute/", {"exclude": shop.wh1.code}, follow=True
    ).content.decode()

    assert f"Re-routed to {shop.wh2.code}." in done
    fulfillment.refresh_from_db()
    assert fulfillment.status == "cancelled"


def test_the_fulfilment_pages_speak_french(user_client, api, tenant, shop):
    fulfillment = _routed(api, tenant, shop)
    for step in ("accept", "pick", "pack"):
        api.post(f"/api/v1/fulfillments/{fulfillment.id}/{step}/", {}, format="json")
    client = user_client("back_office")
    french = {"HTTP_ACCEPT_LANGUAGE": "fr-FR,fr;q=0.9"}

    detail = client.get(f"/fulfillment/{fulfillment.id}/", **french).content.decode()
    board = client.get(f"/fulfillment/board/?location={shop.wh1.code}", **french).content.decode()

    assert '<html lang="fr">' in detail and "Expédier" in detail and "Rejeter" in detail
    assert "Tableau de préparation" in board
