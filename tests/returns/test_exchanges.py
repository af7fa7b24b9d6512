"""Exchanges: the replacement order reserves its stock when the exchange is asked for, waits for the returned items
(unless the tenant ships exchanges at once), goes through routing, and the price difference is recorded."""

from decimal import Decimal

import pytest

from fulfillment.services.allocation import allocate_order
from inventory.models import Reservation, StockLevel
from orders.models import Order, OrderStatus
from returns.models import Refund, Return
from tests.orders.support import build_shop
from tests.returns.support import lines_of, return_body, shipped_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(tenant):
    shop = build_shop(tenant)
    shop.store.accepts_returns = True
    shop.store.save(update_fields=["accepts_returns"])
    return shop


def priced(product, price):
    product.attributes = {**(product.attributes or {}), "price": price}
    product.save(update_fields=["attributes"])


def exchange(api, order, sku, wanted_sku, units=1):
    return api.post(
        "/api/v1/returns/",
        return_body(
            order,
            (sku, units, "too_small"),
            outcome="exchange",
            exchange_lines=[{"sku": wanted_sku, "quantity": units}],
        ),
        format="json",
    )


def receive_all(api, shop, order, rma):
    assert api.post(f"/api/v1/returns/{rma['id']}/approve/", {}, format="json").status_code == 200
    lines = [
        {"order_line": line["order_line"], "quantity": line["quantity"], "disposition": "restock"}
        for line in rma["lines"]
    ]
    answer = api.post(
        f"/api/v1/returns/{rma['id']}/receive/", {"location": shop.store.code, "lines": lines}, format="json"
    )
    assert answer.status_code == 200, answer.json()
    return answer.json()


def test_the_replacement_reserves_at_once_and_waits_for_the_returned_items(tenant, shop, api):
    order = shipped_order(tenant, shop)

    answer = exchange(api, order, shop.a.sku, shop.c.sku)

    assert answer.status_code == 201, answer.json()
    replacement = Order.objects.for_tenant(tenant).get(id=answer.json()["exchange_order"])
    assert answer.json()["exchange_order_number"] == replacement.number
    assert (replacement.status, replacement.hold_kind) == (OrderStatus.ON_HOLD, "exchange")
    assert (replacement.channel_id, replacement.customer_id) == (order.channel_id, order.customer_id)
    assert replacement.shipping_address == order.shipping_address
    assert replacement.external_ref == answer.json()["number"]
    held = Reservation.objects.for_tenant(tenant).filter(order_line__order=replacement, status="active")
    assert sum(held.values_list("quantity", flat=True)) == 1


def test_once_the_items_are_in_the_replacement_is_routed_and_the_return_is_exchanged(tenant, shop, api):
    order = shipped_order(tenant, shop)
    rma = exchange(api, order, shop.a.sku, shop.c.sku).json()

    done = receive_all(api, shop, order, rma)

    assert done["status"] == "exchanged"
    replacement = Order.objects.for_tenant(tenant).get(id=rma["exchange_order"])
    assert replacement.status != OrderStatus.ON_HOLD and replacement.hold_kind == ""
    allocate_order(tenant=tenant, order_id=replacement.id)
    replacement.refresh_from_db()
    assert replacement.status == OrderStatus.ALLOCATED
    assert done["amount_due"] == "0.00"  # no catalogue price: the replacement costs what was paid
    assert done["refunds"] == []


def test_a_dearer_replacement_leaves_an_amount_due_and_a_cheaper_one_a_refund(tenant, shop, api):
    order = shipped_order(tenant, shop)  # A: 10.00 + 2.00 tax a unit
    priced(shop.c, "30.00")
    priced(shop.b, "5.00")

    dearer = receive_all(api, shop, order, exchange(api, order, shop.a.sku, shop.c.sku).json())
    cheaper = receive_all(api, shop, order, exchange(api, order, shop.a.sku, shop.b.sku).json())

    assert dearer["amount_due"] == "18.00" and dearer["refunds"] == []
    assert cheaper["amount_due"] == "0.00"
    assert [(r["amount"], r["method"], r["status"]) for r in cheaper["refunds"]] == [
        ("7.00", "original_payment", "pending")
    ]
    assert Refund.objects.for_tenant(tenant).get().breakdown["amount"] == "7.00"


def test_an_exchange_out_of_stock_is_refused_offering_a_refund(tenant, shop, api):
    order = shipped_order(tenant, shop)
    StockLevel.objects.for_tenant(tenant).filter(product=shop.c).update(on_hand=0)

    answer = exchange(api, order, shop.a.sku, shop.c.sku)

    assert answer.status_code == 409
    assert answer.json()["code"] == "exchange_unavailable"
    assert answer.json()["alternatives"] == ["refund", "store_credit"]
    assert [line["sku"] for line in answer.json()["lines"]] == [shop.c.sku]
    assert not Return.objects.for_tenant(tenant).exists()
    refund = api.post("/api/v1/returns/", return_body(order, (shop.a.sku, 1, "too_small")), format="json")
    assert refund.json()["number"] == "RMA-000001"  # the refused exchange took no number


def test_a_rejected_exchange_cancels_its_replacement_and_frees_its_stock(tenant, shop, api):
    order = shipped_order(tenant, shop)
    rma = exchange(api, order, shop.a.sku, shop.c.sku).json()

    api.post(f"/api/v1/returns/{rma['id']}/reject/", {"reason": "Worn"}, format="json")

    replacement = Order.objects.for_tenant(tenant).get(id=rma["exchange_order"])
    assert replacement.status == OrderStatus.CANCELLED
    assert not Reservation.objects.for_tenant(tenant).filter(order_line__order=replacement, status="active").exists()


def test_a_tenant_may_ship_exchanges_at_once(tenant, shop, api):
    tenant.settings = {**(tenant.settings or {}), "return_money": {"exchange_ships": "at_once"}}
    tenant.save(update_fields=["settings"])
    order = shipped_order(tenant, shop)

    rma = exchange(api, order, shop.a.sku, shop.c.sku).json()

    replacement = Order.objects.for_tenant(tenant).get(id=rma["exchange_order"])
    assert replacement.hold_kind == "" and replacement.status == OrderStatus.PLACED
    assert lines_of(replacement)[shop.c.sku].unit_price == Decimal("10.00")
