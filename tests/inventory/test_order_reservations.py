"""A reservation held for an order line changes only through the order: never released on its own."""

import pytest

from inventory.models import Reservation, StockLevel
from orders.models import Order
from tests.conftest import make_api_client
from tests.orders.support import build_shop, order_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def placed(tenant):
    shop = build_shop(tenant)
    response = make_api_client(tenant, channel=shop.channel).post("/api/v1/orders/", order_body(shop), format="json")
    assert response.status_code == 201, response.content
    order = Order.objects.for_tenant(tenant).get(id=response.json()["id"])
    reservation = Reservation.objects.for_tenant(tenant).filter(order_line__order=order).order_by("id").first()
    return order, reservation


def test_deleting_an_order_lines_reservation_answers_409_naming_the_order(tenant, api, placed):
    order, reservation = placed
    reserved_before = StockLevel.objects.for_tenant(tenant).get(id=reservation.stock_level_id).reserved

    response = api.delete(f"/api/v1/reservations/{reservation.id}/")

    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert (body["code"], body["order_id"], body["order_number"]) == (
        "reservation_owned_by_order",
        order.id,
        order.number,
    )
    assert Reservation.objects.for_tenant(tenant).get(id=reservation.id).status == Reservation.Status.ACTIVE
    assert StockLevel.objects.for_tenant(tenant).get(id=reservation.stock_level_id).reserved == reserved_before


def test_the_admin_release_action_leaves_order_reservations_alone(tenant, user_client, placed):
    order, reservation = placed
    staff = user_client("admin")

    response = staff.post(
        "/admin/inventory/reservation/",
        {"action": "release_reservations", "_selected_action": [reservation.id]},
        follow=True,
    )

    assert response.status_code == 200
    assert Reservation.objects.for_tenant(tenant).get(id=reservation.id).status == Reservation.Status.ACTIVE
    assert order.number.encode() in response.content
