"""The return policy: each rule that refuses a request (409 naming it), and auto-approval against manual
decisions."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from oms.actors import Actor
from oms.models import OutboxEvent
from returns import policy
from returns.tenant_settings import update_auto_approval
from tests.conftest import make_api_client
from tests.orders.support import build_shop
from tests.returns.support import deliver, lines_of, place, return_body, shipped_order

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("tests")


@pytest.fixture
def shop(tenant):
    return build_shop(tenant)


def refused(answer, rule):
    assert answer.status_code == 409, answer.json()
    assert answer.json()["code"] == "return_refused" and answer.json()["rule"] == rule
    return answer.json()


def test_an_order_that_has_not_shipped_cannot_be_returned(tenant, shop, api):
    order = place(tenant, shop)

    refused(
        api.post("/api/v1/returns/", return_body(order, (shop.a.sku, 1, "too_small")), format="json"),
        "order_not_shipped",
    )


def test_the_window_counts_from_delivery(tenant, shop, api):
    late = deliver(tenant, shipped_order(tenant, shop), at=timezone.now() - timedelta(days=31))
    in_time = deliver(tenant, shipped_order(tenant, shop), at=timezone.now() - timedelta(days=29))

    body = refused(
        api.post("/api/v1/returns/", return_body(late, (shop.a.sku, 1, "too_small")), format="json"), "return_window"
    )
    assert body["window_days"] == 30
    ok = api.post("/api/v1/returns/", return_body(in_time, (shop.a.sku, 1, "too_small")), format="json")
    assert ok.status_code == 201, ok.json()


def test_the_window_is_the_channels_own(tenant, shop, api):
    changed = api.patch(f"/api/v1/channels/{shop.channel.code}/", {"return_window_days": 14}, format="json")
    assert changed.status_code == 200 and changed.json()["return_window_days"] == 14
    order = deliver(tenant, shipped_order(tenant, shop), at=timezone.now() - timedelta(days=15))

    body = refused(
        api.post("/api/v1/returns/", return_body(order, (shop.a.sku, 1, "too_small")), format="json"), "return_window"
    )
    assert body["window_days"] == 14


def test_the_window_counts_from_shipment_while_no_delivery_is_known(tenant, shop):
    order = shipped_order(tenant, shop)
    shipped_at = order.events.get(kind="shipped").at

    assert policy.window_start(order) == shipped_at
    deliver(tenant, order)
    assert policy.window_start(order) == order.events.get(kind="delivered").at > shipped_at


def test_a_product_marked_not_returnable_is_refused(tenant, shop, api):
    changed = api.patch(f"/api/v1/products/{shop.b.sku}/", {"returnable": False}, format="json")
    assert changed.status_code == 200 and changed.json()["returnable"] is False
    order = shipped_order(tenant, shop)

    body = refused(
        api.post(
            "/api/v1/returns/",
            return_body(order, (shop.a.sku, 1, "too_small"), (shop.b.sku, 1, "too_small")),
            format="json",
        ),
        "not_returnable",
    )
    assert [line["sku"] for line in body["lines"]] == [shop.b.sku]


def test_no_more_units_than_shipped_less_those_already_asked_back(tenant, shop, api):
    order = shipped_order(tenant, shop)  # 2 of A shipped
    refused(api.post("/api/v1/returns/", return_body(order, (shop.a.sku, 3, "too_small")), format="json"), "quantity")
    first = api.post("/api/v1/returns/", return_body(order, (shop.a.sku, 1, "too_small")), format="json")
    assert first.status_code == 201

    body = refused(
        api.post("/api/v1/returns/", return_body(order, (shop.a.sku, 2, "too_small")), format="json"), "quantity"
    )

    line = lines_of(order)[shop.a.sku]
    assert body["lines"] == [{"order_line": line.id, "sku": shop.a.sku, "requested": 2, "returnable": 1}]
    assert (
        api.post("/api/v1/returns/", return_body(order, (shop.a.sku, 1, "too_small")), format="json").status_code == 201
    )


def test_a_rejected_or_cancelled_return_gives_its_units_back(tenant, shop, api):
    order = shipped_order(tenant, shop)
    first = api.post("/api/v1/returns/", return_body(order, (shop.a.sku, 2, "too_small")), format="json").json()
    api.post(f"/api/v1/returns/{first['id']}/reject/", {"reason": "worn"}, format="json")
    second = api.post("/api/v1/returns/", return_body(order, (shop.a.sku, 2, "too_small")), format="json").json()
    api.post(f"/api/v1/returns/{second['id']}/cancel/", {}, format="json")

    third = api.post("/api/v1/returns/", return_body(order, (shop.a.sku, 2, "too_small")), format="json")

    assert third.status_code == 201, third.json()


def test_units_already_returned_count_against_what_is_left(tenant, shop, api):
    from orders.services import LineQuantity, record_return

    order = shipped_order(tenant, shop)
    record_return(
        tenant=tenant, order_id=order.id, lines=[LineQuantity(lines_of(order)[shop.a.sku].id, 2)], actor=ACTOR
    )

    refused(api.post("/api/v1/returns/", return_body(order, (shop.a.sku, 1, "too_small")), format="json"), "quantity")


def test_the_value_of_units_asked_back_is_what_was_paid_for_them(tenant, shop):
    order = shipped_order(tenant, shop)
    line_b = lines_of(order)[shop.b.sku]  # 25.50 - 5.50 discount + 4.00 tax, one unit

    assert policy.value_of([policy.AskedLine(line_b, 1, None)]) == Decimal("24.00")


# --- auto-approval ----------------------------------------------------------------------------------------


def test_without_auto_approval_a_person_decides(tenant, shop, api):
    order = shipped_order(tenant, shop)

    made = api.post("/api/v1/returns/", return_body(order, (shop.a.sku, 1, "too_small")), format="json").json()

    assert made["status"] == "requested" and made["auto_approved"] is False
    approved = api.post(f"/api/v1/returns/{made['id']}/approve/", {}, format="json")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert approved.json()["auto_approved"] is False


def test_auto_approval_approves_a_small_return_at_once(tenant, shop, api):
    update_auto_approval(tenant=tenant, actor=ACTOR, values={"enabled": True, "max_amount": "20.00"})
    order = shipped_order(tenant, shop)

    made = api.post("/api/v1/returns/", return_body(order, (shop.a.sku, 1, "too_small")), format="json").json()

    assert made["status"] == "approved" and made["auto_approved"] is True
    assert [event["status"] for event in made["timeline"]] == ["requested", "approved"]
    topics = list(
        OutboxEvent.objects.for_tenant(tenant)
        .filter(topic__startswith="return.")
        .values_list("topic", flat=True)
        .order_by("id")
    )
    assert topics == ["return.requested", "return.approved"]


@pytest.mark.parametrize(
    ("items", "rules"),
    [
        (((("A"), 2, "too_small"),), {"max_amount": "20.00"}),  # worth 28.00
        (((("A"), 1, "damaged"),), {}),  # damaged is excluded by default
        (((("A"), 1, "defective"),), {"excluded_reasons": ["defective"]}),
        (((("A"), 1, "too_small"),), {"within_days": 0}),
    ],
)
def test_auto_approval_leaves_to_a_person_what_its_rules_do_not_cover(tenant, shop, api, items, rules):
    update_auto_approval(tenant=tenant, actor=ACTOR, values={"enabled": True, **rules})
    order = deliver(tenant, shipped_order(tenant, shop), at=timezone.now() - timedelta(days=2))
    body = return_body(order, *[(f"WEB-{sku}", qty, reason) for sku, qty, reason in items])

    made = api.post("/api/v1/returns/", body, format="json").json()

    assert made["status"] == "requested" and made["auto_approved"] is False


def test_auto_approval_rules_are_checked(tenant):
    from oms.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        update_auto_approval(tenant=tenant, actor=ACTOR, values={"max_amount": "lots"})
    with pytest.raises(ValidationFailed):
        update_auto_approval(tenant=tenant, actor=ACTOR, values={"sometimes": True})


def test_a_shop_key_cannot_approve_nor_reject_its_returns(tenant, shop, api):
    order = shipped_order(tenant, shop)
    made = api.post("/api/v1/returns/", return_body(order, (shop.a.sku, 1, "too_small")), format="json").json()
    key = make_api_client(tenant, channel=shop.channel)

    assert key.post(f"/api/v1/returns/{made['id']}/approve/", {}, format="json").status_code == 403
    assert key.post(f"/api/v1/returns/{made['id']}/reject/", {"reason": "no"}, format="json").status_code == 403
    assert key.post(f"/api/v1/returns/{made['id']}/cancel/", {}, format="json").json()["status"] == "cancelled"
