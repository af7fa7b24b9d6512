"""POST /api/v1/orders/: intake, validation, reservation, idempotency, duplicates."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from inventory.models import Reservation
from oms.models import OutboxEvent
from orders.models import Customer, Order
from tests import factories
from tests.conftest import make_api_client
from tests.orders.support import build_shop, level, order_body, stock

pytestmark = pytest.mark.django_db


def test_placing_an_order_answers_201_with_number_totals_and_allocations(api, tenant, shop):
    response = api.post("/api/v1/orders/", order_body(shop), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["number"] == "SO-000001"
    assert body["status"] == "placed"
    assert body["channel"] == shop.channel.code
    assert body["subtotal"] == "45.50"
    assert body["discount_total"] == "5.50"
    assert body["tax_total"] == "8.00"
    assert body["total"] == "48.00"
    assert body["customer"]["email"] == "jane.doe@example.com"
    assert body["delivery"]["method"] == "ship" and body["delivery"]["address"]["city"] == "Paris"
    assert [line["quantity_allocated"] for line in body["lines"]] == [2, 1]
    assert body["lines"][0]["allocations"] == [
        {"id": body["lines"][0]["allocations"][0]["id"], "location": shop.wh1.code, "quantity": 2, "status": "active"}
    ]
    assert body["timeline"][0]["kind"] == "placed"
    assert response["ETag"] == '"1"'
    assert level(tenant, shop.a, shop.wh1).reserved == 2
    assert level(tenant, shop.b, shop.wh1).reserved == 1


def test_an_order_placed_emits_order_placed_in_the_same_transaction(api, tenant, shop):
    response = api.post("/api/v1/orders/", order_body(shop), format="json")

    event = OutboxEvent.objects.for_tenant(tenant).get(topic="order.placed")
    assert event.payload["order_id"] == response.json()["id"]
    assert event.payload["on_hold"] is False


def test_order_numbers_follow_each_other_per_tenant(api, other_api, tenant, other_tenant, shop):
    other_shop = build_shop(other_tenant)
    first = api.post("/api/v1/orders/", order_body(shop), format="json").json()
    second = api.post("/api/v1/orders/", order_body(shop), format="json").json()
    elsewhere = other_api.post("/api/v1/orders/", order_body(other_shop), format="json").json()

    assert (first["number"], second["number"], elsewhere["number"]) == ("SO-000001", "SO-000002", "SO-000001")


def test_one_location_serves_the_whole_order_when_it_can(api, tenant, shop):
    stock(tenant, shop.a, shop.wh1, 1)
    stock(tenant, shop.b, shop.wh1, 10)

    body = api.post("/api/v1/orders/", order_body(shop), format="json").json()

    locations = {a["location"] for line in body["lines"] for a in line["allocations"]}
    assert locations == {shop.wh2.code}


def test_a_line_no_single_location_can_serve_is_split_in_pool_priority(api, tenant, shop):
    body = order_body(shop, lines=[{"sku": shop.a.sku, "quantity": 12, "unit_price": "1.00"}])

    line = api.post("/api/v1/orders/", body, format="json").json()["lines"][0]

    assert [(a["location"], a["quantity"]) for a in line["allocations"]] == [(shop.wh1.code, 10), (shop.wh2.code, 2)]


def test_short_stock_answers_409_listing_the_short_lines_and_reserves_nothing(api, tenant, shop):
    body = order_body(
        shop,
        lines=[
            {"sku": shop.a.sku, "quantity": 1, "unit_price": "1.00"},
            {"sku": shop.b.sku, "quantity": 50, "unit_price": "1.00"},
        ],
    )

    response = api.post("/api/v1/orders/", body, format="json")

    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["lines"] == [{"sku": shop.b.sku, "requested": 50, "available": 18}]
    assert not Order.objects.for_tenant(tenant).exists()
    assert not Reservation.objects.for_tenant(tenant).exists()
    assert level(tenant, shop.a, shop.wh1).reserved == 0
    assert not Customer.objects.for_tenant(tenant).exists()


def test_a_pickup_order_reserves_at_the_chosen_store_only(api, tenant, shop):
    body = order_body(
        shop,
        delivery={"method": "pickup", "pickup_location": shop.store.code},
        lines=[{"sku": shop.a.sku, "quantity": 3, "unit_price": "1.00"}],
    )

    response = api.post("/api/v1/orders/", body, format="json")

    assert response.status_code == 201, response.json()
    line = response.json()["lines"][0]
    assert [(a["location"], a["quantity"]) for a in line["allocations"]] == [(shop.store.code, 3)]
    assert response.json()["delivery"]["pickup_location"] == shop.store.code


def test_a_pickup_order_beyond_the_store_stock_is_held_in_the_network_for_a_transfer_to_the_store(api, shop):
    body = order_body(
        shop,
        delivery={"method": "pickup", "pickup_location": shop.store.code},
        lines=[{"sku": shop.a.sku, "quantity": 4, "unit_price": "1.00"}],
    )

    response = api.post("/api/v1/orders/", body, format="json")

    assert response.status_code == 201, response.json()
    allocations = response.json()["lines"][0]["allocations"]
    assert sum(a["quantity"] for a in allocations) == 4 and response.json()["status"] == "placed"


def test_a_pickup_order_beyond_the_whole_network_is_refused(api, shop):
    body = order_body(
        shop,
        delivery={"method": "pickup", "pickup_location": shop.store.code},
        lines=[{"sku": shop.a.sku, "quantity": 19, "unit_price": "1.00"}],
    )

    response = api.post("/api/v1/orders/", body, format="json")

    assert response.status_code == 409
    assert response.json()["lines"] == [{"sku": shop.a.sku, "requested": 19, "available": 18}]


def test_a_second_order_with_the_same_external_ref_answers_409_with_the_existing_id(api, shop):
    first = api.post("/api/v1/orders/", order_body(shop, external_ref="WEB-1"), format="json").json()

    response = api.post("/api/v1/orders/", order_body(shop, external_ref="WEB-1"), format="json")
    with_key = api.post(
        "/api/v1/orders/", order_body(shop, external_ref="WEB-1"), format="json", HTTP_IDEMPOTENCY_KEY="another-key"
    )

    assert response.status_code == with_key.status_code == 409
    assert response.json()["order_id"] == with_key.json()["order_id"] == first["id"]


def test_the_same_external_ref_on_another_channel_is_another_order(api, tenant, shop):
    other_channel = factories.ChannelFactory(tenant=tenant, code="MKT", kind="marketplace")
    factories.ChannelLocationFactory(tenant=tenant, channel=other_channel, location=shop.wh1)
    api.post("/api/v1/orders/", order_body(shop, external_ref="X-1"), format="json")

    response = api.post("/api/v1/orders/", order_body(shop, external_ref="X-1", channel="MKT"), format="json")

    assert response.status_code == 201


def test_a_retried_post_with_the_same_idempotency_key_replays_the_first_answer(api, tenant, shop):
    body = order_body(shop)
    first = api.post("/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = api.post("/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again["Idempotent-Replayed"] == "true"
    assert Order.objects.for_tenant(tenant).count() == 1
    assert level(tenant, shop.a, shop.wh1).reserved == 2


def test_a_reused_idempotency_key_with_another_body_answers_422(api, shop):
    api.post("/api/v1/orders/", order_body(shop), format="json", HTTP_IDEMPOTENCY_KEY="k-2")

    response = api.post("/api/v1/orders/", order_body(shop), format="json", HTTP_IDEMPOTENCY_KEY="k-2")

    assert response.status_code == 422


def test_a_channel_key_places_orders_for_its_own_channel(channel_api, shop):
    body = order_body(shop)
    del body["channel"]

    response = channel_api.post("/api/v1/orders/", body, format="json")

    assert response.status_code == 201
    assert response.json()["channel"] == shop.channel.code


def test_an_unknown_or_foreign_channel_is_not_found(api, other_tenant, shop):
    factories.ChannelFactory(tenant=other_tenant, code="THEIRS")

    for code in ("NOPE", "THEIRS"):
        response = api.post("/api/v1/orders/", order_body(shop, channel=code), format="json")

        assert response.status_code == 404
        assert code in response.json()["detail"]


def test_a_channel_key_cannot_place_orders_for_another_channel(channel_api, tenant, shop):
    factories.ChannelFactory(tenant=tenant, code="OTHER")

    response = channel_api.post("/api/v1/orders/", order_body(shop, channel="OTHER"), format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "channel_mismatch"


def test_a_returning_customer_is_matched_by_email_whatever_the_case(api, tenant, shop):
    api.post("/api/v1/orders/", order_body(shop), format="json")
    body = order_body(shop, customer={"email": "JANE.DOE@EXAMPLE.COM"})

    second = api.post("/api/v1/orders/", body, format="json").json()

    assert Customer.objects.for_tenant(tenant).count() == 1
    assert second["customer"]["name"] == "Jane Doe"
    history = api.get(f"/api/v1/customers/{second['customer']['id']}/orders/").json()["results"]
    assert len(history) == 2


def test_promotions_and_shipping_are_carried_into_the_totals(api, shop):
    body = order_body(
        shop,
        promotions=[{"code": "WELCOME", "description": "-10%", "amount": "4.55"}],
        shipping={"amount": "4.90", "tax": "0.82"},
    )

    order = api.post("/api/v1/orders/", body, format="json").json()

    assert order["discount_total"] == "10.05"
    assert order["shipping_total"] == "4.90"
    assert order["tax_total"] == "8.82"
    assert Decimal(order["total"]) == Decimal("45.50") - Decimal("10.05") + Decimal("8.82") + Decimal("4.90")
    assert order["promotions"] == [{"code": "WELCOME", "description": "-10%", "amount": "4.55"}]


def _post_invalid(api, body):
    response = api.post("/api/v1/orders/", body, format="json")
    assert response.status_code == 400, response.json()
    assert response["Content-Type"] == "application/problem+json"
    return response.json()["errors"]


@pytest.mark.parametrize(
    "change, field",
    [
        (lambda s, b: b["lines"][1].update(sku="NOPE"), "lines[1].sku"),
        (lambda s, b: b["lines"][0].update(quantity=0), "lines[0].quantity"),
        (lambda s, b: b["lines"][0].update(quantity=-3), "lines[0].quantity"),
        (lambda s, b: b["lines"][0].update(quantity="two"), "lines[0].quantity"),
        (lambda s, b: b["lines"][0].update(unit_price="-1.00"), "lines[0].unit_price"),
        (lambda s, b: b["lines"][0].update(unit_price="1.001"), "lines[0].unit_price"),
        (lambda s, b: b["lines"][1].update(discount="99.00"), "lines[1].discount"),
        (lambda s, b: b["lines"][0].pop("sku"), "lines[0].sku"),
        (lambda s, b: b.update(lines=[]), "lines"),
        (lambda s, b: b.update(currency="USD"), "currency"),
        (lambda s, b: b.update(currency="euro"), "currency"),
        (lambda s, b: b.pop("external_ref"), "external_ref"),
        (lambda s, b: b.pop("channel"), "channel"),
        (lambda s, b: b["customer"].update(email="not-an-email"), "customer.email"),
        (lambda s, b: b.pop("customer"), "customer.email"),
        (lambda s, b: b["delivery"].pop("address"), "delivery.address"),
        (lambda s, b: b["delivery"]["address"].update(country="France"), "delivery.address.country"),
        (lambda s, b: b["delivery"].update(method="drone"), "delivery.method"),
        (
            lambda s, b: b.update(delivery={"method": "pickup", "pickup_location": s.wh1.code}),
            "delivery.pickup_location",
        ),
        (
            lambda s, b: b.update(delivery={"method": "pickup", "pickup_location": "NOWHERE"}),
            "delivery.pickup_location",
        ),
        (lambda s, b: b.update(delivery={"method": "pickup"}), "delivery.pickup_location"),
        (lambda s, b: b.update(delivery={"method": "in_store"}), "delivery.method"),
        (lambda s, b: b.update(promotions=[{"code": "BIG", "amount": "1000.00"}]), "promotions"),
        (lambda s, b: b.update(status="fulfilled"), "status"),
        (lambda s, b: b.update(total="0.01"), "total"),
        (lambda s, b: b.update(id=99), "id"),
        (lambda s, b: b["lines"][0].update(status="shipped"), "lines[0].status"),
        (lambda s, b: b.update(payment_status="stolen"), "payment_status"),
        (
            lambda s, b: b.update(promised_delivery={"earliest": "2026-12-05", "latest": "2026-12-01"}),
            "promised_delivery",
        ),
        (lambda s, b: b.update(placed_at=(timezone.now() + timedelta(days=1)).isoformat()), "placed_at"),
        (lambda s, b: b.update(placed_at="yesterday"), "placed_at"),
        (lambda s, b: b.update(placed_at="2026-01-15T10:00:00"), "placed_at"),  # no offset: which 10 o'clock?
        (lambda s, b: b["lines"][0].update(quantity=100000, unit_price="9999999999.99"), "lines[0]"),
        (
            lambda s, b: b.update(
                lines=[
                    {"sku": s.a.sku, "quantity": 99999, "unit_price": "9000000.00"},
                    {"sku": s.b.sku, "quantity": 99999, "unit_price": "9000000.00"},
                ]
            ),
            "lines",
        ),
        (lambda s, b: b.update(foo="bar"), "foo"),
        (lambda s, b: b["lines"][0].update(colour="red"), "lines[0].colour"),
        (lambda s, b: b["lines"][1].update(discont="5.00"), "lines[1].discont"),
        (lambda s, b: b["customer"].update(age=42), "customer.age"),
        (lambda s, b: b["delivery"].update(carrier="UPS"), "delivery.carrier"),
        (lambda s, b: b["delivery"]["address"].update(floor=3), "delivery.address.floor"),
        (lambda s, b: b.update(shipping={"amount": "4.90", "vat": "0.98"}), "shipping.vat"),
    ],
)
def test_every_invalid_field_answers_400_naming_it(api, tenant, shop, change, field):
    body = order_body(shop)
    change(shop, body)

    errors = _post_invalid(api, body)

    assert field in errors, errors
    assert not Order.objects.for_tenant(tenant).exists()


def test_unknown_and_invalid_fields_are_named_together(api, tenant, shop):
    body = order_body(shop)
    body["lines"][0].update(quantity=0, colour="red")
    body["metadata"] = {"anything": {"goes": ["here"]}}

    errors = _post_invalid(api, body)

    assert errors["lines[0].colour"] == ["Unknown field."]
    assert "lines[0].quantity" in errors and "metadata" not in str(errors)


def test_an_edit_with_an_unknown_field_is_refused_and_changes_nothing(api, tenant, shop):
    order = api.post("/api/v1/orders/", order_body(shop), format="json").json()

    response = api.patch(
        f"/api/v1/orders/{order['id']}/",
        {"foo": 1, "delivery": {"service_level": "express"}},
        format="json",
        HTTP_IF_MATCH='"1"',
    )

    assert response.status_code == 400 and response.json()["errors"] == {"foo": ["Unknown field."]}
    assert Order.objects.for_tenant(tenant).get(id=order["id"]).service_level == "standard"


def test_an_inactive_product_is_refused_naming_its_line(api, shop):
    shop.b.active = False
    shop.b.save()

    assert "lines[1].sku" in _post_invalid(api, order_body(shop))


def test_too_many_lines_are_refused(api, shop, settings):
    settings.OMS_ORDER_MAX_LINES = 3
    lines = [{"sku": shop.a.sku, "quantity": 1, "unit_price": "1.00"}] * 4

    assert "lines" in _post_invalid(api, order_body(shop, lines=lines))


def test_a_malformed_json_body_is_a_400_not_a_500(api):
    response = api.post("/api/v1/orders/", "{not json", content_type="application/json")

    assert response.status_code == 400


def test_a_channel_allowing_backorders_backorders_short_lines(api, tenant):
    shop = build_shop(tenant, allow_backorders=True, code="BO")
    body = order_body(
        shop,
        lines=[
            {"sku": shop.a.sku, "quantity": 20, "unit_price": "1.00"},
            {"sku": shop.b.sku, "quantity": 1, "unit_price": "1.00"},
        ],
    )

    response = api.post("/api/v1/orders/", body, format="json")

    assert response.status_code == 201, response.json()
    order = response.json()
    assert order["status"] == "backordered"
    assert (order["lines"][0]["quantity_allocated"], order["lines"][0]["quantity_backordered"]) == (18, 2)
    assert order["lines"][0]["status"] == "backordered"
    assert order["lines"][1]["quantity_allocated"] == 1
    assert OutboxEvent.objects.for_tenant(tenant).filter(topic="order.backordered").count() == 1


def test_a_pre_order_of_a_product_without_stock_is_fully_backordered(api, tenant):
    shop = build_shop(tenant, allow_backorders=True, code="PRE")
    launch = factories.ProductFactory(tenant=tenant, sku="LAUNCH")
    body = order_body(shop, lines=[{"sku": "LAUNCH", "quantity": 2, "unit_price": "99.00"}])

    order = api.post("/api/v1/orders/", body, format="json").json()

    assert order["status"] == "backordered"
    assert order["lines"][0]["quantity_backordered"] == 2
    assert launch.sku == order["lines"][0]["sku"]


def test_a_hold_asked_by_the_channel_puts_the_order_on_hold(api, tenant, shop):
    body = order_body(shop, hold={"kind": "fraud", "reason": "score 97"})

    order = api.post("/api/v1/orders/", body, format="json").json()

    assert order["status"] == "on_hold"
    assert order["hold"] == {"kind": "fraud", "reason": "score 97"}
    assert OutboxEvent.objects.for_tenant(tenant).filter(topic="order.on_hold").count() == 1
    assert OutboxEvent.objects.for_tenant(tenant).get(topic="order.placed").payload["on_hold"] is True


def test_an_unpaid_order_is_held_for_payment(api, shop):
    order = api.post("/api/v1/orders/", order_body(shop, payment_status="pending"), format="json").json()

    assert order["status"] == "on_hold"
    assert order["hold"]["kind"] == "payment"


def test_the_order_value_rule_holds_orders_above_the_threshold(api, tenant, shop):
    tenant.settings = {"order_hold_rules": {"max_order_value": "40.00"}}
    tenant.save()

    order = api.post("/api/v1/orders/", order_body(shop), format="json").json()

    assert order["status"] == "on_hold" and order["hold"]["kind"] == "rule"


def test_the_first_order_with_express_delivery_is_held_but_not_the_next(api, tenant, shop):
    tenant.settings = {"order_hold_rules": {"first_order_express_levels": ["express"]}}
    tenant.save()
    body = order_body(shop)
    body["delivery"]["service_level"] = "express"

    first = api.post("/api/v1/orders/", body, format="json").json()
    body["external_ref"] = "again"
    second = api.post("/api/v1/orders/", body, format="json").json()

    assert first["status"] == "on_hold"
    assert second["status"] == "placed"


def test_a_store_sale_takes_the_units_off_the_store_on_hand_at_once(tenant):
    store = factories.LocationFactory(tenant=tenant, code="LYO", kind="store")
    channel = factories.ChannelFactory(tenant=tenant, code="TILL", kind="store")
    factories.ChannelLocationFactory(tenant=tenant, channel=channel, location=store)
    product = factories.ProductFactory(tenant=tenant, sku="MUG")
    stock(tenant, product, store, 4)
    till = make_api_client(tenant, channel=channel)

    response = till.post(
        "/api/v1/orders/",
        {
            "external_ref": "TICKET-1",
            "currency": "EUR",
            "delivery": {"method": "in_store"},
            "lines": [{"sku": "MUG", "quantity": 3, "unit_price": "8.00", "tax": "4.80", "tax_rate": "20"}],
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    order = response.json()
    assert order["status"] == "completed"
    assert order["lines"][0]["quantity_shipped"] == order["lines"][0]["quantity_delivered"] == 3
    assert order["delivery"]["location"] == "LYO"
    stock_row = level(tenant, product, store)
    assert (stock_row.on_hand, stock_row.reserved) == (1, 0)
    assert list(stock_row.movements.order_by("id").values_list("kind", "quantity")) == [("receipt", 4), ("sale", -3)]
    assert len(order["invoices"]) == 1


def test_a_store_sale_beyond_the_store_stock_answers_409(tenant):
    store = factories.LocationFactory(tenant=tenant, code="LYO", kind="store")
    channel = factories.ChannelFactory(tenant=tenant, code="TILL", kind="store")
    factories.ChannelLocationFactory(tenant=tenant, channel=channel, location=store)
    factories.ProductFactory(tenant=tenant, sku="MUG")
    till = make_api_client(tenant, channel=channel)

    response = till.post(
        "/api/v1/orders/",
        {
            "external_ref": "TICKET-2",
            "currency": "EUR",
            "delivery": {"method": "in_store"},
            "lines": [{"sku": "MUG", "quantity": 1, "unit_price": "8.00"}],
        },
        format="json",
    )

    assert response.status_code == 409
    assert response.json()["lines"][0]["sku"] == "MUG"


def test_a_promised_delivery_window_is_stored_and_answered(api, tenant, shop):
    body = order_body(shop, promised_delivery={"earliest": "2026-12-01", "latest": "2026-12-01"})

    order = api.post("/api/v1/orders/", body, format="json").json()

    assert order["promised_delivery"] == {"earliest": "2026-12-01", "latest": "2026-12-01", "source": "client"}


def test_the_channels_own_order_date_is_kept_as_placed_at(api, tenant, shop):
    body = order_body(shop, placed_at="2026-11-20T09:30:00+01:00")

    response = api.post("/api/v1/orders/", body, format="json")

    assert response.status_code == 201, response.json()
    order = Order.objects.for_tenant(tenant).get(id=response.json()["id"])
    assert order.placed_at == datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
    assert order.created_at > order.placed_at


def test_without_an_order_date_placed_at_is_the_time_of_intake(api, tenant, shop):
    before = timezone.now()

    response = api.post("/api/v1/orders/", order_body(shop), format="json")

    order = Order.objects.for_tenant(tenant).get(id=response.json()["id"])
    assert before <= order.placed_at <= timezone.now()


def test_a_pickup_store_outside_the_channels_pool_is_refused_and_reserves_nothing(api, tenant, shop):
    elsewhere = factories.LocationFactory(tenant=tenant, code="PAR99", kind="store", pickup=True)
    stock(tenant, shop.a, elsewhere, 10)
    body = order_body(
        shop,
        delivery={"method": "pickup", "pickup_location": "PAR99"},
        lines=[{"sku": shop.a.sku, "quantity": 1, "unit_price": "1.00"}],
    )

    errors = _post_invalid(api, body)

    assert "not in the channel's sourcing pool" in errors["delivery.pickup_location"][0]
    assert level(tenant, shop.a, elsewhere).reserved == 0
    assert not Reservation.objects.for_tenant(tenant).exists()


def _till(tenant, *store_codes, code="TILL"):
    channel = factories.ChannelFactory(tenant=tenant, code=code, kind="store")
    stores = [factories.LocationFactory(tenant=tenant, code=store_code, kind="store") for store_code in store_codes]
    for priority, store in enumerate(stores):
        factories.ChannelLocationFactory(tenant=tenant, channel=channel, location=store, priority=priority)
    product = factories.ProductFactory(tenant=tenant, sku=f"{code}-MUG")
    for store in stores:
        stock(tenant, product, store, 4)
    return make_api_client(tenant, channel=channel), stores, product


def _sale(location=None, sku="TILL-MUG"):
    delivery = {"method": "in_store", **({"location": location} if location else {})}
    return {
        "external_ref": f"TICKET-{factories.next_id()}",
        "currency": "EUR",
        "delivery": delivery,
        "lines": [{"sku": sku, "quantity": 1, "unit_price": "8.00"}],
    }


def test_an_in_store_sale_without_its_store_is_refused_when_the_channel_has_several(tenant):
    till, (lyon, paris), product = _till(tenant, "LYO", "PAR")

    errors = _post_invalid(till, _sale())

    assert "delivery.location" in errors
    assert (level(tenant, product, lyon).on_hand, level(tenant, product, paris).on_hand) == (4, 4)


def test_an_in_store_sale_takes_the_stock_of_the_store_it_names(tenant):
    till, (lyon, paris), product = _till(tenant, "LYO", "PAR")

    response = till.post("/api/v1/orders/", _sale("PAR"), format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["delivery"]["location"] == "PAR"
    assert (level(tenant, product, lyon).on_hand, level(tenant, product, paris).on_hand) == (4, 3)


def test_an_in_store_sale_in_a_store_outside_the_channels_pool_is_refused(tenant):
    till, (lyon,), product = _till(tenant, "LYO")
    other = factories.LocationFactory(tenant=tenant, code="MRS", kind="store")
    stock(tenant, product, other, 4)

    errors = _post_invalid(till, _sale("MRS"))

    assert "not in the channel's sourcing pool" in errors["delivery.location"][0]
    assert level(tenant, product, other).on_hand == 4


def test_an_in_store_sale_at_a_warehouse_is_refused(tenant, shop):
    till, _stores, _product = _till(tenant, "LYO")
    factories.ChannelLocationFactory(tenant=tenant, channel=till.api_key.channel, location=shop.wh1, priority=5)

    errors = _post_invalid(till, _sale(shop.wh1.code))

    assert "is not a store" in errors["delivery.location"][0]


def test_a_sku_short_over_several_lines_is_reported_once_with_everything_they_ask_for(api, tenant, shop):
    body = order_body(
        shop,
        lines=[
            {"sku": shop.a.sku, "quantity": 10, "unit_price": "1.00"},
            {"sku": shop.b.sku, "quantity": 1, "unit_price": "1.00"},
            {"sku": shop.a.sku, "quantity": 10, "unit_price": "1.00"},
        ],
    )

    response = api.post("/api/v1/orders/", body, format="json")

    assert response.status_code == 409
    assert response.json()["lines"] == [{"sku": shop.a.sku, "requested": 20, "available": 18}]
    assert not Reservation.objects.for_tenant(tenant).exists()


def test_a_pickup_short_over_several_lines_of_a_sku_is_reported_once(api, shop):
    body = order_body(
        shop,
        delivery={"method": "pickup", "pickup_location": shop.store.code},
        lines=[
            {"sku": shop.a.sku, "quantity": 10, "unit_price": "1.00"},
            {"sku": shop.a.sku, "quantity": 10, "unit_price": "1.00"},
        ],
    )

    response = api.post("/api/v1/orders/", body, format="json")

    # Beyond the store, the network makes up the rest (by a transfer); beyond the network too, it is short.
    assert response.status_code == 409
    assert response.json()["lines"] == [{"sku": shop.a.sku, "requested": 20, "available": 18}]


def test_a_store_sale_short_over_several_lines_of_a_sku_is_reported_once(tenant):
    till, (lyon,), product = _till(tenant, "LYO")

    response = till.post(
        "/api/v1/orders/",
        {
            "external_ref": "TICKET-9",
            "currency": "EUR",
            "delivery": {"method": "in_store"},
            "lines": [
                {"sku": product.sku, "quantity": 3, "unit_price": "8.00"},
                {"sku": product.sku, "quantity": 3, "unit_price": "8.00"},
            ],
        },
        format="json",
    )

    assert response.status_code == 409
    assert response.json()["lines"] == [{"sku": product.sku, "location": "LYO", "requested": 6, "available": 4}]
    assert level(tenant, product, lyon).on_hand == 4


def test_the_schema_states_the_totals_rule_and_documents_each_line():
    from rest_framework.test import APIClient

    schemas = APIClient().get("/api/v1/schema/", {"format": "json"}).json()["components"]["schemas"]

    order = schemas["OrderInRequest"]
    assert "`total` = subtotal − discount_total + shipping + tax_total" in " ".join(order["description"].split())
    assert order["properties"]["lines"]["items"] == {"$ref": "#/components/schemas/LineInRequest"}
    assert "never recomputed" in schemas["LineInRequest"]["properties"]["tax"]["description"]
    assert "not in the future" in order["properties"]["placed_at"]["description"]


def test_a_ship_to_address_may_carry_its_coordinates(api, shop):
    body = order_body(shop)
    body["delivery"]["address"].update(latitude=48.8606, longitude=2.3376)

    placed = api.post("/api/v1/orders/", body, format="json")

    assert placed.status_code == 201, placed.json()
    order = Order.all_tenants.get(id=placed.json()["id"])
    assert (order.shipping_address["latitude"], order.shipping_address["longitude"]) == (48.8606, 2.3376)


@pytest.mark.parametrize(
    "coordinates,path",
    [
        ({"latitude": 91, "longitude": 2}, "delivery.address.latitude"),
        ({"latitude": 48, "longitude": -181}, "delivery.address.longitude"),
        ({"latitude": "nan", "longitude": 2}, "delivery.address.latitude"),
        ({"latitude": 48, "longitude": "-inf"}, "delivery.address.longitude"),
        ({"latitude": 48}, "delivery.address.longitude"),
        ({"longitude": "east"}, "delivery.address.longitude"),
    ],
)
def test_coordinates_out_of_range_or_alone_are_refused(api, shop, coordinates, path):
    body = order_body(shop)
    body["delivery"]["address"].update(coordinates)

    answer = api.post("/api/v1/orders/", body, format="json")

    assert answer.status_code == 400 and path in answer.json()["errors"], answer.json()
