"""Order pages: list, detail, actions and phone orders for each role; other roles and tenants are refused."""
from decimal import Decimal

import pytest

from oms.actors import Actor
from orders import services
from orders.models import Order
from tests import factories
from tests.orders.support import build_shop, level

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("tests")


def place(tenant, shop, quantity=2, ref=None, **extra):
    data = services.OrderInput(
        channel=shop.channel, external_ref=ref or f"P-{factories.next_id()}", currency="EUR",
        customer={"email": "paula@example.com", "name": "Paula"},
        address={"line1": "1 rue", "city": "Paris", "postal_code": "75001", "country": "FR"},
        lines=[services.LineInput(sku=shop.a.sku, quantity=quantity, unit_price=Decimal("12.00"))], **extra)
    return services.place_order(tenant=tenant, actor=SYSTEM, data=data)


@pytest.mark.parametrize("role", ["admin", "back_office", "manager", "viewer"])
def test_the_list_and_the_detail_work_for_reading_roles(user_client, tenant, shop, role):
    order = place(tenant, shop)
    client = user_client(role)

    listing = client.get("/orders/")
    detail = client.get(f"/orders/{order.id}/")

    assert listing.status_code == 200 and order.number in listing.content.decode()
    assert detail.status_code == 200
    page = detail.content.decode()
    assert order.number in page and shop.a.sku in page and shop.wh1.code in page
    assert 'id="timeline"' in page and 'id="shipments"' in page and 'id="reservations"' in page
    assert ('id="cancel-form"' in page) == (role in ("admin", "back_office"))


def test_store_clerks_are_refused_the_order_pages(user_client, tenant, shop):
    order = place(tenant, shop)
    clerk = user_client("store_clerk")

    assert clerk.get("/orders/").status_code == 403
    assert clerk.get(f"/orders/{order.id}/").status_code == 403
    assert clerk.get("/orders/new/").status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(client, tenant, shop):
    assert client.get("/orders/").status_code == 302


def test_the_list_searches_and_filters(user_client, tenant, shop):
    kept = place(tenant, shop, ref="FIND-ME")
    other = place(tenant, shop, ref="OTHER")
    services.cancel_order(tenant=tenant, order_id=other.id, actor=SYSTEM, reason="x")
    client = user_client("viewer")

    found = client.get("/orders/?q=find").content.decode()
    cancelled = client.get("/orders/?status=cancelled").content.decode()

    assert kept.number in found and other.number not in found
    assert other.number in cancelled and kept.number not in cancelled


def test_the_nav_shows_orders_to_reading_roles(user_client, tenant):
    page = user_client("manager").get("/").content.decode()

    assert 'href="/orders/"' in page


def test_the_home_page_counts_the_orders_on_hold(user_client, tenant, shop):
    place(tenant, shop, hold_kind="fraud", hold_reason="check")

    home = user_client("back_office").get("/")

    tile = next(t for t in home.context["tiles"] if t["url"] == "/orders/?status=on_hold")
    assert tile["value"] == 1


@pytest.mark.parametrize("role", ["manager", "viewer", "store_clerk"])
def test_roles_without_actions_cannot_cancel_or_hold(user_client, tenant, shop, role):
    order = place(tenant, shop)
    client = user_client(role)

    assert client.post(f"/orders/{order.id}/cancel/", {"reason": "x"}).status_code == 403
    assert client.post(f"/orders/{order.id}/hold/", {"kind": "manual"}).status_code == 403
    assert client.post(f"/orders/{order.id}/reroute/").status_code == 403
    assert Order.objects.for_tenant(tenant).get(id=order.id).status == "placed"


def test_back_office_cancels_some_units_from_the_page(user_client, tenant, shop):
    order = place(tenant, shop, quantity=2)
    line = order.lines_list[0]
    client = user_client("back_office")

    response = client.post(f"/orders/{order.id}/cancel/", {"reason": "damaged", f"line_{line.id}": "1"}, follow=True)

    assert response.status_code == 200
    line.refresh_from_db()
    assert line.quantity_cancelled == 1
    assert level(tenant, shop.a, shop.wh1).reserved == 1


def test_back_office_cancels_the_whole_order_from_the_page(user_client, tenant, shop):
    order = place(tenant, shop)

    user_client("admin").post(f"/orders/{order.id}/cancel/", {"reason": "customer called"})

    assert Order.objects.for_tenant(tenant).get(id=order.id).status == "cancelled"
    assert level(tenant, shop.a, shop.wh1).reserved == 0


def test_hold_and_release_from_the_page(user_client, tenant, shop):
    order = place(tenant, shop)
    client = user_client("back_office")

    client.post(f"/orders/{order.id}/hold/", {"kind": "fraud", "reason": "odd address"})
    held = Order.objects.for_tenant(tenant).get(id=order.id)
    client.post(f"/orders/{order.id}/release/", {"note": "called the customer"})
    released = Order.objects.for_tenant(tenant).get(id=order.id)

    assert (held.status, held.hold_kind) == ("on_hold", "fraud")
    assert released.status == "placed"


def test_an_illegal_action_shows_a_message_instead_of_failing(user_client, tenant, shop):
    order = place(tenant, shop)
    client = user_client("back_office")

    response = client.post(f"/orders/{order.id}/release/", {"note": "nothing held"}, follow=True)

    assert response.status_code == 200
    assert [m.level_tag for m in response.context["messages"]] == ["error"]


def test_the_address_form_refuses_a_stale_version(user_client, tenant, shop):
    order = place(tenant, shop)
    client = user_client("back_office")
    form = {"version": 1, "line1": "2 place Bellecour", "postal_code": "69002", "city": "Lyon", "country": "FR"}

    client.post(f"/orders/{order.id}/address/", form)
    client.post(f"/orders/{order.id}/address/", {**form, "city": "Marseille"})

    assert Order.objects.for_tenant(tenant).get(id=order.id).shipping_address["city"] == "Lyon"


def test_rerouting_from_the_page(user_client, tenant, shop):
    order = place(tenant, shop)

    user_client("back_office").post(f"/orders/{order.id}/reroute/")

    assert Order.objects.for_tenant(tenant).get(id=order.id).events.last().kind == "rerouted"


def test_a_phone_order_is_placed_from_the_form_and_a_double_submit_creates_nothing_more(user_client, tenant, shop):
    client = user_client("back_office")
    form = {"channel": shop.channel.code, "email": "caller@example.com", "customer_name": "Caller",
            "phone": "0102030405", "method": "ship", "line1": "3 rue", "postal_code": "75002", "city": "Paris",
            "country": "FR", "service_level": "standard", "currency": "EUR", "payment_status": "paid",
            "external_ref": "PHONE-TEST-1", "lines-TOTAL_FORMS": "2", "lines-INITIAL_FORMS": "0",
            "lines-0-sku": shop.b.sku, "lines-0-quantity": "3", "lines-0-unit_price": "19.90", "lines-0-tax": "11.94"}

    first = client.post("/orders/new/", form)
    second = client.post("/orders/new/", form)

    order = Order.objects.for_tenant(tenant).get()
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == f"/orders/{order.id}/"
    assert order.metadata == {"entered_by": "phone"} and order.total == Decimal("71.64")
    assert level(tenant, shop.b, shop.wh1).reserved == 3


def _phone_form(shop, **fields):
    form = {"channel": shop.channel.code, "email": "caller@example.com", "method": "pickup",
            "pickup_location": shop.store.code, "currency": "EUR", "lines-TOTAL_FORMS": "3",
            "lines-INITIAL_FORMS": "0"}
    form.update(fields)
    return form


def test_a_phone_order_with_an_unknown_sku_shows_the_error_on_its_line(user_client, tenant, shop):
    client = user_client("back_office")
    form = _phone_form(shop, **{"lines-0-sku": shop.a.sku, "lines-0-quantity": "1", "lines-0-unit_price": "1",
                                # the second row left empty: the unknown SKU is the service's line 1, row 2 here
                                "lines-2-sku": "NOPE", "lines-2-quantity": "1", "lines-2-unit_price": "1"})

    response = client.post("/orders/new/", form)

    assert response.status_code == 200
    lines = response.context["lines"]
    assert lines.forms[2].errors["sku"] == ["Unknown SKU 'NOPE'."]
    assert not lines.forms[0].errors
    page = response.content.decode()
    assert "lines[" not in page and "Unknown SKU &#x27;NOPE&#x27;." in page
    assert not Order.objects.for_tenant(tenant).exists()


def test_a_phone_order_short_of_stock_says_so_on_the_quantity(user_client, tenant, shop):
    form = _phone_form(shop, **{"lines-0-sku": shop.a.sku, "lines-0-quantity": "2", "lines-0-unit_price": "1",
                                "lines-1-sku": shop.a.sku, "lines-1-quantity": "2", "lines-1-unit_price": "1"})

    response = user_client("back_office").post("/orders/new/", form)

    lines = response.context["lines"]
    expected = ["Not enough stock: 4 requested, 3 available."]
    assert lines.forms[0].errors["quantity"] == lines.forms[1].errors["quantity"] == expected
    assert "insufficient" not in response.content.decode().lower()


def test_a_phone_order_for_a_pickup_store_outside_the_pool_shows_it_on_the_store(user_client, tenant, shop):
    factories.LocationFactory(tenant=tenant, code="FAR", kind="store", pickup=True)
    form = _phone_form(shop, pickup_location="FAR",
                       **{"lines-0-sku": shop.a.sku, "lines-0-quantity": "1", "lines-0-unit_price": "1"})

    response = user_client("back_office").post("/orders/new/", form)

    assert response.context["form"].errors["pickup_location"] == [
        "Location FAR is not in the channel's sourcing pool."]
    assert "delivery.pickup_location" not in response.content.decode()


def test_an_action_refused_on_the_detail_page_names_fields_by_their_labels(user_client, tenant, shop):
    far = factories.LocationFactory(tenant=tenant, code="FAR", kind="store", pickup=True)
    order = place(tenant, shop, delivery_method="pickup", location_code=shop.store.code)
    client = user_client("back_office")

    response = client.post(f"/orders/{order.id}/pickup/", {"version": order.version, "pickup_location": far.code},
                           follow=True)

    text = " ".join(str(m) for m in response.context["messages"])
    assert "Pickup store: Location FAR is not in the channel's sourcing pool." in text
    assert "delivery.pickup_location" not in text


def test_another_tenants_order_and_invoice_answer_404(user_client, tenant, other_tenant):
    foreign_shop = build_shop(other_tenant, code="GLX")
    foreign = place(other_tenant, foreign_shop)
    services.record_shipment(tenant=other_tenant, order_id=foreign.id, actor=SYSTEM,
                             lines=[services.LineQuantity(foreign.lines_list[0].id, 2)])
    invoice = foreign.invoices.get()
    client = user_client("admin")

    assert client.get(f"/orders/{foreign.id}/").status_code == 404
    assert client.post(f"/orders/{foreign.id}/cancel/", {"reason": "x"}).status_code == 404
    assert client.get(f"/orders/invoices/{invoice.id}/").status_code == 404
    assert client.get(f"/orders/customers/{foreign.customer_id}/").status_code == 404
    assert foreign.number not in client.get("/orders/").content.decode()


def test_the_customer_page_lists_the_order_history(user_client, tenant, shop):
    first = place(tenant, shop)
    second = place(tenant, shop)

    page = user_client("viewer").get(f"/orders/customers/{first.customer_id}/").content.decode()

    assert first.number in page and second.number in page


def test_the_admin_shows_orders_read_only_and_only_the_tenants_own(user_client, tenant, shop, other_tenant):
    order = place(tenant, shop, ref="MINE-1")
    foreign = place(other_tenant, build_shop(other_tenant, code="GLX"), ref="THEIRS-1")
    client = user_client("admin")

    listing = client.get("/admin/orders/order/")
    change = client.get(f"/admin/orders/order/{order.id}/change/")

    assert listing.status_code == 200
    assert "MINE-1" in listing.content.decode() and "THEIRS-1" not in listing.content.decode()
    assert change.status_code == 200 and 'name="_save"' not in change.content.decode()
    assert client.get(f"/admin/orders/order/{foreign.id}/change/").status_code in (302, 404)
