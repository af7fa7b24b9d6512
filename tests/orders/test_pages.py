"""Order pages: list, detail, actions and phone orders for each role; other roles and tenants are refused."""

import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings

from oms.actors import Actor
from oms.api.scope import Scope
from orders import services, views
from orders.api import PAYMENT_STATUSES
from orders.forms import PAYMENT_STATUS_LABELS
from orders.models import DeliveryMethod, EventKind, Order, OrderEvent
from tests import factories
from tests.orders.support import build_shop, level

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("tests")


def place(tenant, shop, quantity=2, ref=None, **extra):
    data = services.OrderInput(
        channel=shop.channel,
        external_ref=ref or f"P-{factories.next_id()}",
        currency="EUR",
        customer={"email": "paula@example.com", "name": "Paula"},
        address={"line1": "1 rue", "city": "Paris", "postal_code": "75001", "country": "FR"},
        lines=[services.LineInput(sku=shop.a.sku, quantity=quantity, unit_price=Decimal("12.00"))],
        **extra,
    )
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
    services.cancel_order(scope=Scope(tenant=tenant, actor=SYSTEM), order_id=other.id, reason="x")
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
    assert client.post(f"/fulfillment/orders/{order.id}/reroute/").status_code == 403
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
    page = response.content.decode()
    assert "Total after cancellations" in page and "12.00 EUR" in page and "24.00 EUR" in page


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
    in_french = client.post(
        f"/orders/{order.id}/release/", {"note": "nothing held"}, follow=True, HTTP_ACCEPT_LANGUAGE="fr"
    )

    assert response.status_code == 200
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    assert [str(m) for m in response.context["messages"]] == ["Not possible while the order is placed."]
    assert [str(m) for m in in_french.context["messages"]] == ["Impossible tant que la commande est enregistrée."]


def test_the_address_form_refuses_a_stale_version(user_client, tenant, shop):
    order = place(tenant, shop)
    client = user_client("back_office")
    form = {"version": 1, "line1": "2 place Bellecour", "postal_code": "69002", "city": "Lyon", "country": "FR"}

    client.post(f"/orders/{order.id}/address/", form)
    stale = client.post(f"/orders/{order.id}/address/", {**form, "city": "Marseille"}, follow=True)

    assert Order.objects.for_tenant(tenant).get(id=order.id).shipping_address["city"] == "Lyon"
    assert "reload the page" in str(list(stale.context["messages"])[-1])


def test_a_phone_order_is_placed_from_the_form_and_a_double_submit_creates_nothing_more(user_client, tenant, shop):
    client = user_client("back_office")
    form = {
        "channel": shop.channel.code,
        "email": "caller@example.com",
        "customer_name": "Caller",
        "phone": "0102030405",
        "method": "ship",
        "line1": "3 rue",
        "postal_code": "75002",
        "city": "Paris",
        "country": "FR",
        "service_level": "standard",
        "currency": "EUR",
        "payment_status": "paid",
        "external_ref": "PHONE-TEST-1",
        "lines-TOTAL_FORMS": "2",
        "lines-INITIAL_FORMS": "0",
        "lines-0-sku": shop.b.sku,
        "lines-0-quantity": "3",
        "lines-0-unit_price": "19.90",
        "lines-0-tax": "11.94",
    }

    first = client.post("/orders/new/", form)
    second = client.post("/orders/new/", form)

    order = Order.objects.for_tenant(tenant).get()
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == f"/orders/{order.id}/"
    assert order.metadata == {"entered_by": "phone"} and order.total == Decimal("71.64")
    assert level(tenant, shop.b, shop.wh1).reserved == 3


def _phone_form(shop, **fields):
    form = {
        "channel": shop.channel.code,
        "email": "caller@example.com",
        "method": "pickup",
        "pickup_location": shop.store.code,
        "currency": "EUR",
        "lines-TOTAL_FORMS": "3",
        "lines-INITIAL_FORMS": "0",
    }
    form.update(fields)
    return form


def test_a_phone_order_with_an_unknown_sku_shows_the_error_on_its_line(user_client, tenant, shop):
    client = user_client("back_office")
    form = _phone_form(
        shop,
        **{
            "lines-0-sku": shop.a.sku,
            "lines-0-quantity": "1",
            "lines-0-unit_price": "1",
            # the second row left empty: the unknown SKU is the service's line 1, row 2 here
            "lines-2-sku": "NOPE",
            "lines-2-quantity": "1",
            "lines-2-unit_price": "1",
        },
    )

    response = client.post("/orders/new/", form)

    assert response.status_code == 200
    lines = response.context["lines"]
    assert lines.forms[2].errors["sku"] == ["Unknown SKU 'NOPE'."]
    assert not lines.forms[0].errors
    page = response.content.decode()
    assert "lines[" not in page and "Unknown SKU &#x27;NOPE&#x27;." in page
    assert not Order.objects.for_tenant(tenant).exists()


def test_a_phone_order_short_of_stock_says_so_on_the_quantity(user_client, tenant, shop):
    form = _phone_form(
        shop,
        **{
            "lines-0-sku": shop.a.sku,
            "lines-0-quantity": "10",
            "lines-0-unit_price": "1",
            "lines-1-sku": shop.a.sku,
            "lines-1-quantity": "10",
            "lines-1-unit_price": "1",
        },
    )

    response = user_client("back_office").post("/orders/new/", form)

    lines = response.context["lines"]
    # Beyond the pickup store's stock the network makes up the rest by a transfer; beyond the network, it is short.
    expected = ["Not enough stock: 20 requested, 18 available."]
    assert lines.forms[0].errors["quantity"] == lines.forms[1].errors["quantity"] == expected
    assert "insufficient" not in response.content.decode().lower()


def test_a_phone_order_for_a_pickup_store_outside_the_pool_shows_it_on_the_store(user_client, tenant, shop):
    factories.LocationFactory(tenant=tenant, code="FAR", kind="store", pickup=True)
    form = _phone_form(
        shop, pickup_location="FAR", **{"lines-0-sku": shop.a.sku, "lines-0-quantity": "1", "lines-0-unit_price": "1"}
    )

    response = user_client("back_office").post("/orders/new/", form)

    assert response.context["form"].errors["pickup_location"] == ["Location FAR is not in the channel's sourcing pool."]
    assert "delivery.pickup_location" not in response.content.decode()


def test_an_action_refused_on_the_detail_page_names_fields_by_their_labels(user_client, tenant, shop):
    far = factories.LocationFactory(tenant=tenant, code="FAR", kind="store", pickup=True)
    order = place(tenant, shop, delivery_method="pickup", location_code=shop.store.code)
    client = user_client("back_office")

    response = client.post(
        f"/orders/{order.id}/pickup/", {"version": order.version, "pickup_location": far.code}, follow=True
    )

    text = " ".join(str(m) for m in response.context["messages"])
    assert "Pickup store: Location FAR is not in the channel's sourcing pool." in text
    assert "delivery.pickup_location" not in text


def test_another_tenants_order_and_invoice_answer_404(user_client, tenant, other_tenant):
    foreign_shop = build_shop(other_tenant, code="GLX")
    foreign = place(other_tenant, foreign_shop)
    services.record_shipment(
        tenant=other_tenant,
        order_id=foreign.id,
        actor=SYSTEM,
        lines=[services.LineQuantity(foreign.lines_list[0].id, 2)],
    )
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


def _one_line(shop, **fields):
    return _phone_form(
        shop, **{"lines-0-sku": shop.a.sku, "lines-0-quantity": "1", "lines-0-unit_price": "1", **fields}
    )


def test_a_phone_order_without_a_reference_gets_one_made_up(user_client, tenant, shop):
    response = user_client("back_office").post("/orders/new/", _one_line(shop, external_ref="  "))

    assert response.status_code == 302
    assert Order.objects.for_tenant(tenant).get().external_ref.startswith("PHONE-")


def test_a_phone_order_shown_again_keeps_the_reference_it_made_up(user_client, tenant, shop):
    client = user_client("back_office")

    empty = client.get("/orders/new/").context["form"]["external_ref"].value()
    again = client.post("/orders/new/", _one_line(shop, external_ref="", email="not an e-mail"))
    kept = again.context["form"]["external_ref"].value()

    assert empty.startswith("PHONE-") and kept.startswith("PHONE-")
    assert f'value="{kept}"' in again.content.decode()
    assert not Order.objects.for_tenant(tenant).exists()


def test_a_phone_order_keeps_the_reference_typed_stripped(user_client, tenant, shop):
    user_client("back_office").post("/orders/new/", _one_line(shop, external_ref="  CALL-42 "))

    assert Order.objects.for_tenant(tenant).get().external_ref == "CALL-42"


@pytest.mark.parametrize(
    "reference, message",
    [
        ("R" * 121, "Ensure this value has at most 120 characters (it has 121)."),
        ("CALL\x0042", "Null characters are not allowed."),
    ],
)
def test_a_phone_order_refuses_an_overlong_or_nul_reference_on_the_form(user_client, tenant, shop, reference, message):
    response = user_client("back_office").post("/orders/new/", _one_line(shop, external_ref=reference))

    assert response.status_code == 200
    assert response.context["form"].errors["external_ref"] == [message]
    assert 'name="external_ref"' in response.content.decode()
    assert not Order.objects.for_tenant(tenant).exists()


def test_a_phone_order_takes_a_reference_of_the_models_length(user_client, tenant, shop):
    user_client("back_office").post("/orders/new/", _one_line(shop, external_ref="R" * 120))

    assert Order.objects.for_tenant(tenant).get().external_ref == "R" * 120


@pytest.mark.parametrize(
    "quantity, message",
    [
        ("99999999999999999999", "Ensure this value is less than or equal to 100000."),
        ("100001", "Ensure this value is less than or equal to 100000."),
        ("0", "Ensure this value is greater than or equal to 1."),
    ],
)
def test_a_phone_order_refuses_a_quantity_beyond_the_apis_bounds_on_the_line(
    user_client, tenant, shop, quantity, message
):
    response = user_client("back_office").post("/orders/new/", _one_line(shop, **{"lines-0-quantity": quantity}))

    assert response.status_code == 200
    assert response.context["lines"].forms[0].errors["quantity"] == [message]
    assert not Order.objects.for_tenant(tenant).exists()


@pytest.mark.parametrize(
    "field, value",
    [("unit_price", "99999999999999999999"), ("unit_price", "0.001"), ("tax", "1e30"), ("unit_price", "NaN")],
)
def test_a_phone_order_refuses_an_amount_the_database_cannot_hold_on_the_line(user_client, tenant, shop, field, value):
    response = user_client("back_office").post("/orders/new/", _one_line(shop, **{f"lines-0-{field}": value}))

    assert response.status_code == 200
    assert field in response.context["lines"].forms[0].errors
    assert not Order.objects.for_tenant(tenant).exists()


def test_a_phone_order_refuses_a_line_amount_the_database_cannot_hold(user_client, tenant, shop):
    form = _one_line(shop, **{"lines-0-quantity": "200", "lines-0-unit_price": "9999999999.99"})

    response = user_client("back_office").post("/orders/new/", form)

    assert response.status_code == 200
    assert response.context["lines"].forms[0].non_field_errors() == ["The line's amount is too large."]
    assert not Order.objects.for_tenant(tenant).exists()


def test_a_phone_order_refuses_a_total_the_database_cannot_hold(user_client, tenant, shop):
    price = "9999999999"  # 60 units: each line fits its column, the two together overflow the order's total
    form = _phone_form(
        shop,
        **{
            "lines-0-sku": shop.a.sku,
            "lines-0-quantity": "60",
            "lines-0-unit_price": price,
            "lines-1-sku": shop.b.sku,
            "lines-1-quantity": "60",
            "lines-1-unit_price": price,
        },
    )

    response = user_client("back_office").post("/orders/new/", form)

    assert response.status_code == 200
    assert response.context["lines"].non_form_errors() == ["The order's total is too large."]
    assert not Order.objects.for_tenant(tenant).exists()


def _timeline(page: str) -> list[list[str]]:
    """The timeline's rows as cell texts."""
    table = page.split('id="timeline"', 1)[1].split("</table>", 1)[0].split("<tbody>", 1)[1]
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)
    ]


def test_the_timeline_names_events_and_statuses_by_their_labels(user_client, tenant, shop):
    order = place(tenant, shop)
    services.hold_order(scope=Scope(tenant=tenant, actor=SYSTEM), order_id=order.id, kind="manual", reason="check")
    services.release_hold(scope=Scope(tenant=tenant, actor=SYSTEM), order_id=order.id, note="checked")

    rows = _timeline(user_client("viewer").get(f"/orders/{order.id}/").content.decode())

    assert [(what, before, after) for _when, _who, what, _details, before, after in rows] == [
        ("Placed", "", "Placed"),
        ("Placed on hold", "Placed", "On hold"),
        ("Hold released", "On hold", "Placed"),
    ]


def test_the_timeline_shows_an_unknown_event_kind_as_it_is(user_client, tenant, shop):
    order = place(tenant, shop)
    OrderEvent.objects.create(
        tenant=tenant, order=order, actor_label="ops", kind="migrated", before={"status": "archived"}, after={}
    )

    rows = _timeline(user_client("viewer").get(f"/orders/{order.id}/").content.decode())

    assert rows[-1][2] == "migrated" and rows[-1][4:] == ["archived", ""]


def test_every_event_kind_the_services_write_has_a_label():
    orders_dir = Path(settings.BASE_DIR) / "orders"
    sources = "".join(
        path.read_text() for path in [*sorted((orders_dir / "services").glob("*.py")), orders_dir / "invoicing.py"]
    )
    assert not re.findall(r'kind="\w+"', sources), "timeline kinds are written as EventKind members"
    written = set(re.findall(r"EventKind\.([A-Z_]+)", sources))
    assert {"PLACED", "HOLD", "LINES_CANCELLED", "CANCELLED", "INVOICE_ISSUED", "CREDIT_NOTE_ISSUED"} <= written

    assert {EventKind[name].value for name in written} <= set(views._EVENT_LABELS)


def test_the_timeline_speaks_french_to_a_french_reader(user_client, tenant, shop):
    order = place(tenant, shop)
    services.cancel_order(scope=Scope(tenant=tenant, actor=SYSTEM), order_id=order.id, reason="x")

    page = user_client("viewer").get(f"/orders/{order.id}/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    rows = _timeline(page)
    assert [(what, before, after) for _when, _who, what, _details, before, after in rows] == [
        ("Enregistrée", "", "Enregistrée"),
        ("Annulée", "Enregistrée", "Annulée"),
    ]


def _payment(page: str) -> str:
    return re.search(r'<td id="payment">(.*?)</td>', page, re.S)[1]


@pytest.mark.parametrize(
    "status, english, french", [("paid", "Paid", "Payé"), ("authorized", "Authorized", "Autorisé"), ("", "—", "—")]
)
def test_the_payment_status_reads_as_a_label(user_client, tenant, shop, status, english, french):
    order = place(tenant, shop, payment_status=status)
    client = user_client("viewer")

    assert _payment(client.get(f"/orders/{order.id}/").content.decode()) == english
    assert _payment(client.get(f"/orders/{order.id}/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()) == french


def test_every_payment_status_the_api_accepts_has_a_label():
    assert set(PAYMENT_STATUSES) - {""} == set(PAYMENT_STATUS_LABELS)


def test_an_order_without_discount_shows_no_negative_zero(user_client, tenant, shop):
    order = place(tenant, shop)

    page = user_client("viewer").get(f"/orders/{order.id}/").content.decode()

    assert "−0" not in page
    assert re.search(r"Discounts and promotions</th><td class=\"num\">—</td>", page)


def test_a_discount_shows_as_a_negative_amount(user_client, tenant, shop):
    data = services.OrderInput(
        channel=shop.channel,
        external_ref="DISC-1",
        currency="EUR",
        customer={"email": "paula@example.com"},
        address={"line1": "1 rue", "city": "Paris", "postal_code": "75001", "country": "FR"},
        lines=[services.LineInput(sku=shop.a.sku, quantity=1, unit_price=Decimal("12.00"), discount=Decimal("2.50"))],
    )
    order = services.place_order(tenant=tenant, actor=SYSTEM, data=data)

    page = user_client("viewer").get(f"/orders/{order.id}/").content.decode()

    assert "−2.50" in page or "−2,50" in page


def test_an_address_without_a_second_line_has_no_space_before_the_comma(user_client, tenant, shop):
    data = services.OrderInput(
        channel=shop.channel,
        external_ref="ADDR-1",
        currency="EUR",
        customer={"email": "paula@example.com"},
        address={"line1": "1 rue de Rivoli", "city": "Paris", "postal_code": "75001", "country": "FR"},
        lines=[services.LineInput(sku=shop.a.sku, quantity=1, unit_price=Decimal("12.00"))],
    )
    order = services.place_order(tenant=tenant, actor=SYSTEM, data=data)

    page = user_client("viewer").get(f"/orders/{order.id}/").content.decode()

    assert "1 rue de Rivoli, 75001 Paris" in page and " , " not in page


def test_a_store_sale_says_it_was_handed_over_in_store_not_that_nothing_shipped(user_client, tenant):
    from tests.orders.support import stock

    store = factories.LocationFactory(tenant=tenant, code="LYO", kind="store")
    channel = factories.ChannelFactory(tenant=tenant, code="TILL", kind="store")
    factories.ChannelLocationFactory(tenant=tenant, channel=channel, location=store)
    product = factories.ProductFactory(tenant=tenant, sku="MUG")
    stock(tenant, product, store, 4)
    sale = services.place_order(
        tenant=tenant,
        actor=SYSTEM,
        data=services.OrderInput(
            channel=channel,
            external_ref="TICKET-9",
            currency="EUR",
            delivery_method=DeliveryMethod.IN_STORE,
            location_code="LYO",
            lines=[services.LineInput(sku="MUG", quantity=1, unit_price=Decimal("8.00"))],
        ),
    )

    page = user_client("back_office").get(f"/orders/{sale.id}/").content.decode()

    assert "Sold and handed over in store" in page and "Nothing shipped yet." not in page


def test_a_phone_order_with_an_email_too_long_to_keep_is_a_form_error_not_a_500(user_client, tenant, shop):
    client = user_client("back_office")
    form = {
        "channel": shop.channel.code,
        "email": "a" * 300 + "@example.com",
        "customer_name": "Caller",
        "method": "ship",
        "line1": "3 rue",
        "postal_code": "75002",
        "city": "Paris",
        "country": "FR",
        "service_level": "standard",
        "currency": "EUR",
        "payment_status": "paid",
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-0-sku": shop.b.sku,
        "lines-0-quantity": "1",
        "lines-0-unit_price": "19.90",
        "lines-0-tax": "3.98",
    }

    response = client.post("/orders/new/", form)

    assert response.status_code == 200 and not Order.objects.for_tenant(tenant).exists()
