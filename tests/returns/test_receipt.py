"""Receiving a return: dispositions and their stock movements, partial receipts, what is refused, and the
conclusion that follows once everything is in."""

import pytest

from fulfillment.tasks import route_backorders_after_stock_event
from inventory.ledger import ledger_discrepancies
from inventory.models import MovementKind, StockLevel, StockMovement
from oms.models import OutboxEvent, Role
from orders.models import EventKind, Order, OrderEvent
from returns.models import Refund, Return
from tests.conftest import make_api_client
from tests.orders.support import build_shop
from tests.returns.support import lines_of, place, return_body, shipped_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(tenant):
    shop = build_shop(tenant)
    for location in (shop.store, shop.wh1):
        location.accepts_returns = True
        location.save(update_fields=["accepts_returns"])
    return shop


def approved(api, order, *items, **extra):
    created = api.post("/api/v1/returns/", return_body(order, *items, **extra), format="json")
    assert created.status_code == 201, created.json()
    answer = api.post(f"/api/v1/returns/{created.json()['id']}/approve/", {}, format="json")
    assert answer.status_code == 200, answer.json()
    return answer.json()


def receive(api, rma, location, *items):
    """`items`: (order line id, quantity, disposition)."""
    return api.post(
        f"/api/v1/returns/{rma['id']}/receive/",
        {
            "location": location.code,
            "lines": [{"order_line": line, "quantity": qty, "disposition": how} for line, qty, how in items],
        },
        format="json",
    )


def level(tenant, product, location) -> StockLevel:
    return StockLevel.objects.for_tenant(tenant).get(product=product, location=location)


def test_a_restocked_unit_is_sellable_again_where_it_arrived_and_the_ledger_holds(tenant, shop, api):
    order = shipped_order(tenant, shop)
    line = lines_of(order)[shop.a.sku]
    rma = approved(api, order, (shop.a.sku, 2, "too_small"))
    before = level(tenant, shop.a, shop.store).on_hand

    answer = receive(api, rma, shop.store, (line.id, 2, "restock"))

    assert answer.status_code == 200, answer.json()
    assert level(tenant, shop.a, shop.store).on_hand == before + 2
    movement = StockMovement.objects.for_tenant(tenant).get(reference=rma["number"])
    assert (movement.kind, movement.quantity, movement.sellable) == (MovementKind.RETURN, 2, True)
    assert ledger_discrepancies(tenant=tenant) == []
    body = answer.json()
    assert body["lines"][0]["quantity_received"] == 2
    assert body["lines"][0]["receipts"][0] | {"received_at": None, "received_by": None} == {
        "quantity": 2,
        "disposition": "restock",
        "location": shop.store.code,
        "received_at": None,
        "received_by": None,
    }
    line.refresh_from_db()
    assert line.quantity_returned == 2
    assert OrderEvent.objects.for_tenant(tenant).filter(order=order, kind=EventKind.RETURNED).count() == 1


def test_damaged_and_written_off_units_never_become_sellable(tenant, shop, api):
    order = shipped_order(tenant, shop)
    line = lines_of(order)[shop.a.sku]
    rma = approved(api, order, (shop.a.sku, 2, "damaged"))
    store_before = level(tenant, shop.a, shop.store)
    sellable_before = api.get("/api/v1/availability/", {"skus": shop.a.sku, "channel": shop.channel.code}).json()

    answer = receive(api, rma, shop.store, (line.id, 1, "damaged"), (line.id, 1, "write_off"))

    assert answer.status_code == 200, answer.json()
    after = level(tenant, shop.a, shop.store)
    assert (after.on_hand, after.reserved) == (store_before.on_hand, store_before.reserved)
    assert after.non_sellable == 1  # the damaged unit, kept apart; the written-off one left again
    moves = StockMovement.objects.for_tenant(tenant).filter(reference=rma["number"]).order_by("id")
    assert [(m.kind, m.quantity, m.sellable) for m in moves] == [
        ("return", 1, False),
        ("return", 1, False),
        ("write_off", -1, False),
    ]
    assert api.get("/api/v1/availability/", {"skus": shop.a.sku, "channel": shop.channel.code}).json() == (
        sellable_before
    )
    assert ledger_discrepancies(tenant=tenant) == []
    listed = api.get("/api/v1/inventory/", {"sku": shop.a.sku, "location": shop.store.code}).json()["results"]
    assert listed[0]["non_sellable"] == 1


def test_units_held_for_the_vendor_wait_apart(tenant, shop, api):
    order = shipped_order(tenant, shop)
    line = lines_of(order)[shop.b.sku]
    rma = approved(api, order, (shop.b.sku, 1, "defective"))

    assert receive(api, rma, shop.wh1, (line.id, 1, "to_vendor")).status_code == 200

    assert level(tenant, shop.b, shop.wh1).non_sellable == 1
    assert ledger_discrepancies(tenant=tenant) == []


def test_a_return_received_in_parts_waits_for_the_rest_then_concludes(tenant, shop, api):
    order = shipped_order(tenant, shop)
    line = lines_of(order)[shop.a.sku]
    rma = approved(api, order, (shop.a.sku, 2, "too_large"))

    first = receive(api, rma, shop.store, (line.id, 1, "restock"))
    second = receive(api, rma, shop.wh1, (line.id, 1, "restock"))

    assert first.json()["status"] == "received"
    assert second.json()["status"] == "refunded"
    kinds = [event["kind"] for event in second.json()["timeline"]]
    assert kinds == ["requested", "approved", "received", "received", "inspected", "refunded"]
    topics = list(
        OutboxEvent.objects.for_tenant(tenant)
        .filter(topic__startswith="return.")
        .order_by("id")
        .values_list("topic", flat=True)
    )
    assert topics == [
        "return.requested",
        "return.approved",
        "return.received",
        "return.received",
        "return.refund_due",
        "return.closed",
    ]


def test_receiving_more_than_was_asked_back_is_refused_and_changes_nothing(tenant, shop, api):
    order = shipped_order(tenant, shop)
    line = lines_of(order)[shop.a.sku]
    rma = approved(api, order, (shop.a.sku, 1, "too_small"))
    before = level(tenant, shop.a, shop.store).on_hand

    answer = receive(api, rma, shop.store, (line.id, 1, "restock"), (line.id, 1, "damaged"))

    assert answer.status_code == 409
    assert answer.json()["code"] == "receipt_exceeds_return"
    assert answer.json()["lines"] == [
        {"order_line": line.id, "sku": shop.a.sku, "asked_back": 1, "received": 0, "arriving": 2}
    ]
    assert level(tenant, shop.a, shop.store).on_hand == before
    assert Return.objects.for_tenant(tenant).get().status == "approved"


def test_what_cannot_be_received(tenant, shop, api):
    order = shipped_order(tenant, shop)
    line = lines_of(order)[shop.a.sku]
    other = lines_of(order)[shop.b.sku]
    requested = api.post("/api/v1/returns/", return_body(order, (shop.a.sku, 1, "too_small")), format="json").json()
    rma = approved(api, order, (shop.a.sku, 1, "too_small"))

    not_yet = receive(api, requested, shop.store, (line.id, 1, "restock"))
    no_returns_here = receive(api, rma, shop.wh2, (line.id, 1, "restock"))
    not_asked = receive(api, rma, shop.store, (other.id, 1, "restock"))
    bad_disposition = receive(api, rma, shop.store, (line.id, 1, "resell"))

    assert not_yet.status_code == 409 and not_yet.json()["code"] == "illegal_transition"
    assert no_returns_here.status_code == 400 and "location" in no_returns_here.json()["errors"]
    assert not_asked.status_code == 400 and "lines.0.order_line" in not_asked.json()["errors"]
    assert bad_disposition.status_code == 400


def test_a_restock_serves_a_waiting_backorder(tenant, api):
    shop = build_shop(tenant, allow_backorders=True)
    shop.wh1.accepts_returns = True
    shop.wh1.save(update_fields=["accepts_returns"])
    order = shipped_order(tenant, shop)
    line = lines_of(order)[shop.a.sku]
    rma = approved(api, order, (line.sku, 1, "changed_mind"))
    # Every other unit of the SKU is sold: the next order waits for stock.
    for stock_level in StockLevel.objects.for_tenant(tenant).filter(product=line.product):
        stock_level.on_hand = stock_level.reserved
        stock_level.save(update_fields=["on_hand"])
    StockMovement.objects.for_tenant(tenant).filter(stock_level__product=line.product).delete()
    waiting = place(
        tenant,
        shop,
        lines=[{"sku": line.sku, "quantity": 1, "unit_price": "10.00"}],
    )
    assert waiting.lines.get().quantity_backordered == 1

    assert receive(api, rma, shop.wh1, (line.id, 1, "restock")).status_code == 200
    event = OutboxEvent.objects.for_tenant(tenant).filter(topic="stock.adjusted").latest("id")
    assert event.payload["source"] == "return" and event.payload["skus"] == [line.sku]
    assert route_backorders_after_stock_event(event) == 1

    waiting = Order.objects.for_tenant(tenant).get(id=waiting.id)
    assert waiting.lines.get().quantity_backordered == 0


def test_an_approved_return_of_which_nothing_came_is_closed(tenant, shop, api):
    order = shipped_order(tenant, shop)
    rma = approved(api, order, (shop.a.sku, 1, "too_small"))

    answer = api.post(f"/api/v1/returns/{rma['id']}/close/", {"reason": "Never sent"}, format="json")

    assert answer.status_code == 200 and answer.json()["status"] == "closed"
    assert answer.json()["closed_at"] is not None
    assert not Refund.objects.for_tenant(tenant).exists()
    assert OutboxEvent.objects.for_tenant(tenant).filter(topic="return.closed").count() == 1


def test_a_partly_received_return_closed_early_refunds_what_came(tenant, shop, api):
    order = shipped_order(tenant, shop)
    line = lines_of(order)[shop.a.sku]
    rma = approved(api, order, (shop.a.sku, 2, "too_small"))
    receive(api, rma, shop.store, (line.id, 1, "restock"))

    answer = api.post(f"/api/v1/returns/{rma['id']}/close/", {}, format="json")

    assert answer.json()["status"] == "refunded"
    assert [refund["amount"] for refund in answer.json()["refunds"]] == ["12.00"]  # 10.00 + half of the 4.00 tax


def test_a_clerk_receives_at_their_store_only_and_buy_online_return_in_store_works(tenant, shop, api, user_client):
    order = shipped_order(tenant, shop)  # bought on the web shop
    line = lines_of(order)[shop.a.sku]
    clerk = user_client(Role.STORE_CLERK, locations=[shop.store])
    created = clerk.post(
        "/api/v1/returns/",
        return_body(order, (shop.a.sku, 1, "too_small"), method="store", location=shop.store.code),
        content_type="application/json",
    )
    assert created.status_code == 201, created.json()
    api.post(f"/api/v1/returns/{created.json()['id']}/approve/", {}, format="json")

    def at(location):
        body = {"location": location.code, "lines": [{"order_line": line.id, "quantity": 1, "disposition": "restock"}]}
        return clerk.post(f"/api/v1/returns/{created.json()['id']}/receive/", body, content_type="application/json")

    elsewhere, here = at(shop.wh1), at(shop.store)

    assert elsewhere.status_code == 404
    assert here.status_code == 200 and here.json()["status"] == "refunded"


def test_another_tenants_return_is_404_before_the_body_is_read(tenant, shop, api, other_tenant):
    order = shipped_order(tenant, shop)
    rma = approved(api, order, (shop.a.sku, 1, "too_small"))
    stranger = make_api_client(other_tenant)

    assert stranger.post(f"/api/v1/returns/{rma['id']}/receive/", {"bad": 1}, format="json").status_code == 404
    assert stranger.post(f"/api/v1/returns/{rma['id']}/close/", {"bad": 1}, format="json").status_code == 404
