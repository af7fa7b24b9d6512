"""The pickup counter on the store screens: a packed pickup is put out (the customer gets the code, the clerk never
sees it), found at the counter by number, name or code, and handed over against the code or a recorded identity
check, whole or in part. Wrong codes count on the page as on the API; the fifth locks the hand-over, which only a
manager unlocks."""

from datetime import timedelta

import pytest
from django.utils import timezone

from fulfillment.models import FulfillmentOrder
from oms.models import Role
from orders.models import Order, OrderEvent, OrderStatus
from tests import factories
from tests.fulfillment.test_click_collect import last_payload, routed_pickup, store_level
from tests.orders.support import build_shop

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(tenant):
    return build_shop(tenant)


@pytest.fixture
def clerk(user_client, shop):
    return user_client(Role.STORE_CLERK, locations=[shop.store])


def packed_pickup(api, tenant, shop, **overrides) -> tuple[Order, FulfillmentOrder]:
    order, fulfillment = routed_pickup(api, tenant, shop, **overrides)
    for step in ("accept", "pick", "pack"):
        assert api.post(f"/api/v1/fulfillments/{fulfillment.id}/{step}/", {}, format="json").status_code == 200
    return order, fulfillment


def put_out(clerk, tenant, fulfillment) -> str:
    """The clerk's Ready button; the code the shop was sent."""
    answer = clerk.post(f"/store/fulfillments/{fulfillment.id}/ready/", follow=True)
    assert answer.status_code == 200
    return last_payload(tenant, "order.ready_for_pickup")["pickup_code"]


def column(page: str, key: str) -> str:
    start = page.index(f'id="column-{key}"')
    return page[start : page.index("</section>", start)]


def test_a_packed_pickup_is_put_out_from_the_queue_and_waits_in_its_own_column(api, tenant, shop, clerk):
    _order, fulfillment = packed_pickup(api, tenant, shop)

    before = clerk.get(f"/store/{shop.store.code}/").content.decode()
    code = put_out(clerk, tenant, fulfillment)
    after = clerk.get(f"/store/{shop.store.code}/").content.decode()

    assert f'id="card-{fulfillment.id}"' in column(before, "to_make_ready")
    assert f'id="card-{fulfillment.id}"' not in column(before, "to_ship")
    assert f'id="card-{fulfillment.id}"' in column(after, "ready_for_pickup")
    assert code not in after


def test_an_overdue_pickup_has_its_own_column(api, tenant, shop, clerk):
    _order, fulfillment = packed_pickup(api, tenant, shop)
    put_out(clerk, tenant, fulfillment)
    FulfillmentOrder.objects.for_tenant(tenant).filter(id=fulfillment.id).update(
        pickup_expires_at=timezone.now() - timedelta(minutes=5)
    )

    page = clerk.get(f"/store/{shop.store.code}/").content.decode()

    assert f'id="card-{fulfillment.id}"' in column(page, "overdue_pickups")
    assert f'id="card-{fulfillment.id}"' not in column(page, "ready_for_pickup")


def test_the_counter_finds_a_pickup_by_number_name_e_mail_or_code_and_never_shows_the_code(api, tenant, shop, clerk):
    order, fulfillment = packed_pickup(api, tenant, shop)
    code = put_out(clerk, tenant, fulfillment)
    counter = f"/store/{shop.store.code}/handover/"

    found = {
        query: clerk.get(counter, {"q": query}).content.decode()
        for query in (order.number, order.customer.name.split()[0], order.customer.email, code.lower())
    }
    nothing = clerk.get(counter, {"q": "NOBODY-HERE"}).content.decode()

    for query, page in found.items():
        assert f'id="pickup-{fulfillment.id}"' in page, query
    assert f'id="pickup-{fulfillment.id}"' not in nothing
    assert code not in found[order.number] and code not in clerk.get(counter).content.decode()
    assert FulfillmentOrder.objects.for_tenant(tenant).get(id=fulfillment.id).pickup_attempts == 0


def test_the_clerk_hands_over_against_the_code_and_the_order_is_delivered(api, tenant, shop, clerk):
    order, fulfillment = packed_pickup(api, tenant, shop)
    code = put_out(clerk, tenant, fulfillment)
    on_hand = store_level(tenant, shop, shop.a).on_hand
    line = fulfillment.lines.get(order_line__product=shop.a)

    answer = clerk.post(
        f"/store/fulfillments/{fulfillment.id}/collect/",
        {
            "method": "code",
            "pickup_code": code,
            **{f"take_{each.id}": each.quantity for each in fulfillment.lines.all()},
        },
        follow=True,
    )

    assert f"Order {order.number} collected." in answer.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED
    assert FulfillmentOrder.objects.for_tenant(tenant).get(id=fulfillment.id).status == "collected"
    assert store_level(tenant, shop, shop.a).on_hand == on_hand - line.quantity


def test_an_identity_check_hands_over_and_is_recorded_as_such(api, tenant, shop, clerk):
    order, fulfillment = packed_pickup(api, tenant, shop)
    put_out(clerk, tenant, fulfillment)
    fields = {f"take_{line.id}": line.quantity for line in fulfillment.lines.all()}

    wrong = clerk.post(
        f"/store/fulfillments/{fulfillment.id}/collect/",
        {"method": "identity", "order_number": order.number, "customer_name": "Someone Else", **fields},
    )
    right = clerk.post(
        f"/store/fulfillments/{fulfillment.id}/collect/",
        {"method": "identity", "order_number": order.number.lower(), "customer_name": order.customer.name, **fields},
    )

    assert wrong.status_code == 400 and "4 attempts left" in wrong.content.decode()
    assert right.status_code == 302
    assert OrderEvent.objects.for_tenant(tenant).filter(order=order, message__icontains="identity").exists()


def test_a_partial_hand_over_cancels_what_the_customer_leaves(api, tenant, shop, clerk):
    order, fulfillment = packed_pickup(api, tenant, shop)
    code = put_out(clerk, tenant, fulfillment)
    lines = list(fulfillment.lines.order_by("id"))
    taken, left = lines[0], lines[1]
    available_before = store_level(tenant, shop, left.order_line.product).available

    clerk.post(
        f"/store/fulfillments/{fulfillment.id}/collect/",
        {"method": "code", "pickup_code": code, f"take_{taken.id}": taken.quantity, f"take_{left.id}": 0},
    )

    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED
    assert order.lines.get(id=left.order_line_id).quantity_cancelled == left.quantity
    assert store_level(tenant, shop, left.order_line.product).available == available_before + left.quantity


def test_nothing_taken_is_refused_on_the_page(api, tenant, shop, clerk):
    _order, fulfillment = packed_pickup(api, tenant, shop)
    code = put_out(clerk, tenant, fulfillment)
    fields = {f"take_{line.id}": 0 for line in fulfillment.lines.all()}

    answer = clerk.post(
        f"/store/fulfillments/{fulfillment.id}/collect/", {"method": "code", "pickup_code": code, **fields}
    )

    assert answer.status_code == 400 and "The customer takes nothing" in answer.content.decode()
    assert FulfillmentOrder.objects.for_tenant(tenant).get(id=fulfillment.id).status == "ready_for_pickup"


def test_five_wrong_codes_lock_the_counter_until_a_manager_unlocks_it(api, tenant, shop, clerk, user_client):
    _order, fulfillment = packed_pickup(api, tenant, shop)
    code = put_out(clerk, tenant, fulfillment)
    url = f"/store/fulfillments/{fulfillment.id}/collect/"
    fields = {f"take_{line.id}": line.quantity for line in fulfillment.lines.all()}

    answers = [clerk.post(url, {"method": "code", "pickup_code": "WRONG999", **fields}) for _ in range(5)]
    locked_page = clerk.get(url).content.decode()
    with_right_code = clerk.post(url, {"method": "code", "pickup_code": code, **fields})
    clerk_unlock = clerk.post(f"/store/fulfillments/{fulfillment.id}/unlock/")
    clerk_user = clerk.user
    user_client(Role.MANAGER).post(
        f"/store/fulfillments/{fulfillment.id}/unlock/"
    )  # the same test client, now a manager's
    clerk.force_login(clerk_user)
    after_unlock = clerk.post(url, {"method": "code", "pickup_code": code, **fields})

    assert "1 attempt left" in answers[3].content.decode()
    assert "the hand-over is locked" in answers[4].content.decode()
    assert 'id="handover-locked"' in locked_page and 'id="unlock-form"' not in locked_page
    assert with_right_code.status_code == 400 and "locked" in with_right_code.content.decode()
    assert clerk_unlock.status_code == 403
    assert after_unlock.status_code == 302
    assert FulfillmentOrder.objects.for_tenant(tenant).get(id=fulfillment.id).status == "collected"


def test_a_clerk_cannot_reach_another_stores_counter_or_pickups(api, tenant, shop, user_client):
    _order, fulfillment = packed_pickup(api, tenant, shop)
    other_store = factories.LocationFactory(tenant=tenant, code="WEB-LYO", kind="store", pickup=True)
    elsewhere = user_client(Role.STORE_CLERK, locations=[other_store])

    assert elsewhere.get(f"/store/{shop.store.code}/handover/").status_code == 404
    assert elsewhere.post(f"/store/fulfillments/{fulfillment.id}/ready/").status_code == 404
    assert elsewhere.get(f"/store/fulfillments/{fulfillment.id}/collect/").status_code == 404


def test_the_counter_speaks_french(api, tenant, shop, clerk):
    _order, fulfillment = packed_pickup(api, tenant, shop)
    put_out(clerk, tenant, fulfillment)
    clerk.cookies["django_language"] = "fr"

    counter = clerk.get(f"/store/{shop.store.code}/handover/").content.decode()
    collect = clerk.get(f"/store/fulfillments/{fulfillment.id}/collect/").content.decode()

    assert "Comptoir de retrait" in counter
    assert "Remettre" in collect and "Code de retrait" in collect
