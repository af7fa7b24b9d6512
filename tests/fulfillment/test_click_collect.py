"""Click & collect through the API: the pickup store accepts, picks, packs, marks the order ready (a pickup code goes
to the shop in `order.ready_for_pickup`, only its keyed hash is kept), and hands it over against the code or a
clerk's identity check, all of it or some units (the rest back on sale). Wrong codes count, the fifth locks the
hand-over until a manager unlocks it. Stock leaves through the ledger, which holds."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from fulfillment.models import FulfillmentOrder
from fulfillment.services import pickup
from fulfillment.services.allocation import allocate_order
from inventory.models import MovementKind, StockLevel, StockMovement
from oms.models import OutboxEvent
from orders.models import Order, OrderEvent, OrderStatus
from tests.orders.support import build_shop, order_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(tenant):
    return build_shop(tenant)


def pickup_body(shop, **overrides):
    return order_body(shop, delivery={"method": "pickup", "pickup_location": shop.store.code}, **overrides)


def routed_pickup(api, tenant, shop, **overrides) -> tuple[Order, FulfillmentOrder]:
    answer = api.post("/api/v1/orders/", pickup_body(shop, **overrides), format="json")
    assert answer.status_code == 201, answer.json()
    order = Order.all_tenants.get(id=answer.json()["id"])
    allocate_order(tenant=tenant, order_id=order.id)
    fulfillment = FulfillmentOrder.objects.for_tenant(tenant).get(order=order)
    assert fulfillment.location_id == shop.store.id
    return order, fulfillment


def ready(api, tenant, fulfillment) -> str:
    """Accept, pick, pack, ready; the pickup code the shop received."""
    for step in ("accept", "pick", "pack", "ready"):
        answer = api.post(f"/api/v1/fulfillments/{fulfillment.id}/{step}/", {}, format="json")
        assert answer.status_code == 200, (step, answer.json())
    return last_payload(tenant, "order.ready_for_pickup")["pickup_code"]


def last_payload(tenant, topic) -> dict:
    return OutboxEvent.objects.for_tenant(tenant).filter(topic=topic).order_by("-id").first().payload


def store_level(tenant, shop, product):
    return StockLevel.objects.for_tenant(tenant).get(product=product, location=shop.store)


def test_the_full_pickup_path_hands_the_order_over_against_its_code_and_the_stock_leaves_through_the_ledger(
    api, tenant, shop
):
    order, fulfillment = routed_pickup(api, tenant, shop)
    before = store_level(tenant, shop, shop.a)
    assert (before.on_hand, before.reserved) == (3, 2)

    code = ready(api, tenant, fulfillment)

    shown = api.get(f"/api/v1/fulfillments/{fulfillment.id}/").json()
    assert shown["status"] == "ready_for_pickup" and shown["pickup_expires_at"]
    assert len(code) == 8 and set(code) <= set(pickup.ALPHABET)
    fulfillment.refresh_from_db()
    assert code not in fulfillment.pickup_code_hash and fulfillment.pickup_code_hash == pickup.code_hash(
        fulfillment, code
    )
    expires = fulfillment.pickup_expires_at - fulfillment.ready_at
    assert expires == timedelta(days=7)
    assert api.get(f"/api/v1/orders/{order.id}/").json()["pickup_expires_at"] == shown["pickup_expires_at"]

    answer = api.post(
        f"/api/v1/fulfillments/{fulfillment.id}/collect/",
        {"pickup_code": code.lower()[:4] + "-" + code[4:]},
        format="json",
    )

    assert answer.status_code == 200, answer.json()
    assert answer.json()["status"] == "collected"
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED
    after = store_level(tenant, shop, shop.a)
    assert (after.on_hand, after.reserved) == (1, 0)
    sales = StockMovement.objects.for_tenant(tenant).filter(kind=MovementKind.SALE, stock_level__location=shop.store)
    assert sorted(sales.values_list("quantity", flat=True)) == [-2, -1]
    collected = last_payload(tenant, "order.collected")
    assert collected["verification"]["method"] == "pickup_code"
    assert sorted((line["sku"], line["quantity"]) for line in collected["lines"]) == [(shop.a.sku, 2), (shop.b.sku, 1)]
    assert OrderEvent.objects.for_tenant(tenant).filter(order=order, kind="collected").exists()
    call_command("check_stock_ledger", "--tenant", tenant.slug)


def test_a_store_may_hold_pickups_for_its_own_number_of_days(api, tenant, shop):
    shop.store.pickup_hold_days = 3
    shop.store.save()
    _order, fulfillment = routed_pickup(api, tenant, shop)
    ready(api, tenant, fulfillment)

    fulfillment.refresh_from_db()
    assert fulfillment.pickup_expires_at - fulfillment.ready_at == timedelta(days=3)


def test_the_pickup_store_hands_over_and_never_ships_a_pickup_order(api, tenant, shop):
    _order, fulfillment = routed_pickup(api, tenant, shop)
    for step in ("accept", "pick", "pack"):
        api.post(f"/api/v1/fulfillments/{fulfillment.id}/{step}/", {}, format="json")

    answer = api.post(f"/api/v1/fulfillments/{fulfillment.id}/ship/", {"carrier": "dpd"}, format="json")

    assert answer.status_code == 409 and answer.json()["code"] == "illegal_transition"


def test_a_shipped_order_is_never_made_ready_for_pickup(api, tenant, shop):
    answer = api.post("/api/v1/orders/", order_body(shop), format="json")
    allocate_order(tenant=tenant, order_id=answer.json()["id"])
    fulfillment = FulfillmentOrder.objects.for_tenant(tenant).get(order_id=answer.json()["id"])
    for step in ("accept", "pick", "pack"):
        api.post(f"/api/v1/fulfillments/{fulfillment.id}/{step}/", {}, format="json")

    answer = api.post(f"/api/v1/fulfillments/{fulfillment.id}/ready/", {}, format="json")

    assert answer.status_code == 409 and answer.json()["code"] == "illegal_transition"


def test_a_wrong_code_hands_nothing_over_and_says_how_many_attempts_are_left(api, tenant, shop):
    order, fulfillment = routed_pickup(api, tenant, shop)
    code = ready(api, tenant, fulfillment)
    wrong = "".join(ch for ch in pickup.ALPHABET if ch not in code)[:8]

    answer = api.post(f"/api/v1/fulfillments/{fulfillment.id}/collect/", {"pickup_code": wrong}, format="json")

    assert answer.status_code == 409, answer.json()
    assert answer.json()["code"] == "wrong_pickup_code" and answer.json()["attempts_left"] == 4
    order.refresh_from_db()
    assert order.status == OrderStatus.ALLOCATED
    assert store_level(tenant, shop, shop.a).reserved == 2
    assert api.get(f"/api/v1/fulfillments/{fulfillment.id}/").json()["pickup_attempts_left"] == 4


def test_the_fifth_wrong_code_locks_the_hand_over_until_a_manager_unlocks_it(api, tenant, shop, user_client):
    order, fulfillment = routed_pickup(api, tenant, shop)
    code = ready(api, tenant, fulfillment)
    clerk = make_clerk_api(user_client, shop)
    url = f"/api/v1/fulfillments/{fulfillment.id}/collect/"

    answers = [clerk.post(url, {"pickup_code": "WRONG" + str(n)}, content_type="application/json") for n in range(5)]

    assert [a.json()["code"] for a in answers] == ["wrong_pickup_code"] * 4 + ["pickup_locked"]
    assert [a.json()["attempts_left"] for a in answers] == [4, 3, 2, 1, 0]
    right = clerk.post(url, {"pickup_code": code}, content_type="application/json")
    assert right.status_code == 409 and right.json()["code"] == "pickup_locked"
    order.refresh_from_db()
    assert order.status == OrderStatus.ALLOCATED
    # A clerk cannot unlock; a manager can.
    refused = clerk.post(f"/api/v1/fulfillments/{fulfillment.id}/unlock/", {}, content_type="application/json")
    assert refused.status_code == 403
    manager = user_client("manager")
    unlocked = manager.post(f"/api/v1/fulfillments/{fulfillment.id}/unlock/", {}, content_type="application/json")
    assert unlocked.status_code == 200, unlocked.json()
    assert unlocked.json()["pickup_locked"] is False and unlocked.json()["pickup_attempts_left"] == 5
    assert OrderEvent.objects.for_tenant(tenant).filter(order=order, kind="pickup_unlocked").exists()

    clerk.force_login(clerk.clerk_user)
    done = clerk.post(url, {"pickup_code": code}, content_type="application/json")
    assert done.status_code == 200 and done.json()["status"] == "collected"


def make_clerk_api(user_client, shop):
    client = user_client("store_clerk", locations=[shop.store])
    client.clerk_user = client.user
    return client


def test_a_clerk_hands_over_after_an_identity_check_recorded_as_such(api, tenant, shop, user_client):
    order, fulfillment = routed_pickup(api, tenant, shop)
    ready(api, tenant, fulfillment)
    clerk = make_clerk_api(user_client, shop)
    url = f"/api/v1/fulfillments/{fulfillment.id}/collect/"

    wrong = clerk.post(
        url,
        {"identity_check": {"order_number": order.number, "customer_name": "John Smith"}},
        content_type="application/json",
    )
    right = clerk.post(
        url,
        {"identity_check": {"order_number": order.number.lower(), "customer_name": "  jane   DOE "}},
        content_type="application/json",
    )

    assert wrong.status_code == 409 and wrong.json()["code"] == "wrong_pickup_code"
    assert right.status_code == 200, right.json()
    verification = last_payload(tenant, "order.collected")["verification"]
    assert verification == {"method": "identity_check", "checked_by": clerk.clerk_user.email}
    event = OrderEvent.objects.for_tenant(tenant).get(order=order, kind="collected")
    assert "identity check" in event.message and clerk.clerk_user.email in event.message


def test_the_code_or_an_identity_check_is_required_not_both(api, tenant, shop):
    order, fulfillment = routed_pickup(api, tenant, shop)
    code = ready(api, tenant, fulfillment)
    url = f"/api/v1/fulfillments/{fulfillment.id}/collect/"

    neither = api.post(url, {}, format="json")
    both = api.post(
        url,
        {"pickup_code": code, "identity_check": {"order_number": order.number, "customer_name": "Jane Doe"}},
        format="json",
    )

    assert neither.status_code == 400 and both.status_code == 400


def test_a_partial_collection_delivers_what_was_taken_and_puts_the_rest_back_on_sale(api, tenant, shop):
    order, fulfillment = routed_pickup(api, tenant, shop)
    code = ready(api, tenant, fulfillment)
    line_a = order.lines.get(sku=shop.a.sku)

    answer = api.post(
        f"/api/v1/fulfillments/{fulfillment.id}/collect/",
        {"pickup_code": code, "lines": [{"order_line": line_a.id, "quantity": 1}]},
        format="json",
    )

    assert answer.status_code == 200, answer.json()
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED
    lines = {line.sku: line for line in order.lines.all()}
    assert (lines[shop.a.sku].quantity_delivered, lines[shop.a.sku].quantity_cancelled) == (1, 1)
    assert (lines[shop.b.sku].quantity_delivered, lines[shop.b.sku].quantity_cancelled) == (0, 1)
    level_a, level_b = store_level(tenant, shop, shop.a), store_level(tenant, shop, shop.b)
    assert (level_a.on_hand, level_a.reserved) == (2, 0)
    assert (level_b.on_hand, level_b.reserved) == (3, 0)
    cancelled = last_payload(tenant, "order.cancelled")
    assert cancelled["reason"] == "not_collected"
    collected = last_payload(tenant, "order.collected")
    assert [(c["sku"], c["quantity"]) for c in collected["lines"]] == [(shop.a.sku, 1)]
    assert sorted((c["sku"], c["quantity"]) for c in collected["not_collected"]) == [(shop.a.sku, 1), (shop.b.sku, 1)]
    call_command("check_stock_ledger", "--tenant", tenant.slug)


def test_a_reminder_goes_once_a_day_before_the_hold_ends(api, tenant, shop):
    order, fulfillment = routed_pickup(api, tenant, shop)
    ready(api, tenant, fulfillment)
    fulfillment.refresh_from_db()
    day_before = fulfillment.pickup_expires_at - timedelta(hours=20)

    early = pickup.pickups_due(now=fulfillment.pickup_expires_at - timedelta(days=2))
    due = pickup.pickups_due(now=day_before)
    first = pickup.remind(tenant=tenant, fulfillment_id=fulfillment.id, now=day_before)
    second = pickup.remind(tenant=tenant, fulfillment_id=fulfillment.id, now=day_before)

    assert early == ([], []) and due == ([(tenant.id, fulfillment.id)], [])
    assert (first, second) == (True, False)
    reminders = OutboxEvent.objects.for_tenant(tenant).filter(topic="order.pickup_reminder")
    assert reminders.count() == 1 and reminders.get().payload["order_id"] == order.id
    assert "pickup_code" not in reminders.get().payload
    assert pickup.pickups_due(now=day_before) == ([], [])


def test_an_uncollected_order_is_cancelled_when_its_hold_ends_and_its_stock_is_back_on_sale(api, tenant, shop):
    order, fulfillment = routed_pickup(api, tenant, shop)
    ready(api, tenant, fulfillment)
    fulfillment.refresh_from_db()
    later = fulfillment.pickup_expires_at + timedelta(minutes=1)

    assert pickup.pickups_due(now=later)[1] == [(tenant.id, fulfillment.id)]
    assert pickup.expire(tenant=tenant, fulfillment_id=fulfillment.id, now=later) is True
    assert pickup.expire(tenant=tenant, fulfillment_id=fulfillment.id, now=later) is False

    order.refresh_from_db()
    fulfillment.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED and fulfillment.status == "cancelled"
    level = store_level(tenant, shop, shop.a)
    assert (level.on_hand, level.reserved) == (3, 0)
    cancelled = last_payload(tenant, "order.cancelled")
    assert cancelled["reason"] == "not_collected" and cancelled["whole_order"] is True
    collect = api.post(f"/api/v1/fulfillments/{fulfillment.id}/collect/", {"pickup_code": "ABCDEFGH"}, format="json")
    assert collect.status_code == 409
    call_command("check_stock_ledger", "--tenant", tenant.slug)


def test_the_beat_task_expires_what_is_due_and_is_harmless_twice(api, tenant, shop):
    from fulfillment.tasks import sweep_pickups

    order, fulfillment = routed_pickup(api, tenant, shop)
    ready(api, tenant, fulfillment)
    FulfillmentOrder.objects.for_tenant(tenant).filter(id=fulfillment.id).update(
        pickup_expires_at=timezone.now() - timedelta(minutes=5)
    )

    assert sweep_pickups() == {"reminded": 0, "expired": 1}
    assert sweep_pickups() == {"reminded": 0, "expired": 0}
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert OutboxEvent.objects.for_tenant(tenant).filter(topic="order.cancelled").count() == 1


def test_wrong_codes_count_even_under_idempotency_keys_and_a_replayed_key_counts_once(api, tenant, shop):
    _order, fulfillment = routed_pickup(api, tenant, shop)
    code = ready(api, tenant, fulfillment)
    url = f"/api/v1/fulfillments/{fulfillment.id}/collect/"

    first = api.post(url, {"pickup_code": "WRONG000"}, format="json", HTTP_IDEMPOTENCY_KEY="try-1")
    replayed = api.post(url, {"pickup_code": "WRONG000"}, format="json", HTTP_IDEMPOTENCY_KEY="try-1")
    others = [
        api.post(url, {"pickup_code": f"WRONG00{n}"}, format="json", HTTP_IDEMPOTENCY_KEY=f"try-{n}")
        for n in range(2, 6)
    ]

    assert first.json()["attempts_left"] == replayed.json()["attempts_left"] == 4
    assert [a.json()["code"] for a in others] == ["wrong_pickup_code"] * 3 + ["pickup_locked"]
    locked = api.post(url, {"pickup_code": code}, format="json", HTTP_IDEMPOTENCY_KEY="try-right")
    assert locked.status_code == 409 and locked.json()["code"] == "pickup_locked"


def test_a_hand_over_screen_finds_the_ready_order_by_its_code_without_counting_an_attempt(api, tenant, shop):
    from oms.api.scope import Scope

    _order, fulfillment = routed_pickup(api, tenant, shop)
    code = ready(api, tenant, fulfillment)
    scope = Scope.system(tenant, "clerk")

    found = pickup.find_ready_by_code(scope=scope, code=code.lower(), location_id=shop.store.id)
    missing = pickup.find_ready_by_code(scope=scope, code="ABCDEFGH")

    assert found.id == fulfillment.id and missing is None
    fulfillment.refresh_from_db()
    assert fulfillment.pickup_attempts == 0
