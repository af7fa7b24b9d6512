"""The delivery promise through the public surface: availability (per SKU and per location, with and without a
postal code, a pickup store's ready time), the order at placement and after allocation, on-time or late at
delivery, and the carrier table page (edit, closures, measured transit days, EN and FR).

The clock is fixed: the modules that read the time for the promise see `now` set by the test."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.utils import timezone as django_timezone

import inventory.availability
import orders.services.common
import orders.services.fulfilment
import orders.services.intake
from fulfillment.models import Closure, FulfillmentOrder, RoutingDecision, Shipment, TransitTime
from fulfillment.services.allocation import allocate_order
from fulfillment.services.backorders import route_order_backorders
from oms.actors import Actor
from orders import services as order_services
from orders.models import Order, OrderEvent
from tests import factories
from tests.conftest import make_api_client
from tests.fulfillment.test_click_collect import ready
from tests.inventory.stock_helpers import channel_with_pool, receive
from tests.orders.support import build_shop, order_body, stock

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system("tests")
STORE_HOURS = {day: [["10:00", "19:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat")}
# Tuesday 1 December 2026, 10:00 in Paris.
TUESDAY_MORNING = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


class _FrozenTimezone:
    def __init__(self, moment):
        self.moment = moment

    def now(self):
        return self.moment

    def __getattr__(self, name):
        return getattr(django_timezone, name)


@pytest.fixture
def clock(monkeypatch):
    """clock(moment): the promise's computations (availability, intake, allocation, delivery) read `moment`."""

    def set_to(moment):
        for module in (
            inventory.availability,
            orders.services.intake,
            orders.services.fulfilment,
            orders.services.common,
        ):
            monkeypatch.setattr(module, "timezone", _FrozenTimezone(moment))

    set_to(TUESDAY_MORNING)
    return set_to


@pytest.fixture
def network(tenant):
    """A warehouse (cut-off 15:00) and a Paris store that takes a day to prepare (pickup, cut-off 17:00)."""
    wh = factories.LocationFactory(
        tenant=tenant,
        code="WH1",
        cutoff_time=time(15, 0),
        address={"postal_code": "69800", "country": "FR"},
    )
    par = factories.LocationFactory(
        tenant=tenant,
        code="PAR01",
        kind="store",
        pickup=True,
        cutoff_time=time(17, 0),
        opening_hours=STORE_HOURS,
        handling_days=1,
        address={"postal_code": "75001", "country": "FR"},
    )
    web = channel_with_pool(tenant, [wh, par], code="WEB")
    both = factories.ProductFactory(tenant=tenant, sku="BOTH")
    receive(tenant, both, wh, 9)
    receive(tenant, both, par, 3)
    warehouse_only = factories.ProductFactory(tenant=tenant, sku="WHONLY")
    receive(tenant, warehouse_only, wh, 4)
    factories.ProductFactory(tenant=tenant, sku="NONE")
    return web, wh, par


def _availability(tenant, channel, **params):
    response = make_api_client(tenant, channel=channel).get("/api/v1/availability/", params)
    assert response.status_code == 200, response.json()
    return {result["sku"]: result for result in response.json()["results"]}


# --- availability ----------------------------------------------------------------------------------------


def test_the_sku_promise_holds_for_every_unit_the_pool_offers(tenant, network, clock):
    web, *_ = network

    results = _availability(tenant, web, skus="BOTH,WHONLY,NONE,UNKNOWN")

    # WHONLY ships from WH1 today: Thursday 3 to Friday 4 (Colissimo, metropolitan France, 2-3 days).
    assert results["WHONLY"]["promise"] == {"earliest": "2026-12-03", "latest": "2026-12-04"}
    # BOTH's units are also at the store, which dispatches tomorrow: the latest of the two holds for all of them.
    assert results["BOTH"]["promise"] == {"earliest": "2026-12-04", "latest": "2026-12-05"}
    assert results["NONE"]["promise"] is None
    assert results["UNKNOWN"]["promise"] is None


def test_a_pickup_location_promises_when_the_order_is_ready_there(tenant, network, clock):
    web, *_ = network

    results = _availability(tenant, web, skus="BOTH,WHONLY")

    [store] = results["BOTH"]["locations"]
    assert store["location"] == "PAR01"
    assert store["promise"] == {
        "earliest": "2026-12-02",
        "latest": "2026-12-02",
        "ready_at": "2026-12-02T17:00:00+01:00",
    }
    # The store has none of WHONLY: no promise from it.
    assert results["WHONLY"]["locations"][0]["promise"] is None


def test_a_listed_warehouse_promises_its_delivery_window(tenant, network, clock):
    web, *_ = network

    [warehouse] = _availability(tenant, web, skus="WHONLY", location="WH1")["WHONLY"]["locations"]

    assert warehouse["promise"] == {"earliest": "2026-12-03", "latest": "2026-12-04"}


def test_the_promise_follows_the_cut_off(tenant, network, clock):
    web, *_ = network
    clock(datetime(2026, 12, 1, 14, 30, tzinfo=UTC))  # 15:30 in Paris: WH1 ships tomorrow

    assert _availability(tenant, web, skus="WHONLY")["WHONLY"]["promise"] == {
        "earliest": "2026-12-04",
        "latest": "2026-12-05",
    }


@pytest.mark.parametrize(
    "postal_code, earliest, latest",
    [
        ("75011", "2026-12-03", "2026-12-04"),  # metropolitan France: 2-3 days
        ("20000", "2026-12-04", "2026-12-05"),  # Corsica: 3-4 days
        ("97200", "2026-12-07", "2026-12-10"),  # Martinique: 5-8 days, no Sunday delivery
    ],
)
def test_the_promise_depends_on_the_destination_zone(tenant, network, clock, postal_code, earliest, latest):
    web, *_ = network

    promise = _availability(tenant, web, skus="WHONLY", postal_code=postal_code)["WHONLY"]["promise"]

    assert promise == {"earliest": earliest, "latest": latest}


def test_a_tenants_own_transit_table_replaces_the_defaults(tenant, network, clock):
    web, *_ = network
    TransitTime.objects.create(
        tenant=tenant, service="colissimo", country="FR", postal_prefix="", min_days=1, max_days=1
    )

    assert _availability(tenant, web, skus="WHONLY")["WHONLY"]["promise"] == {
        "earliest": "2026-12-02",
        "latest": "2026-12-02",
    }
    # Its table has no row for Corsica: the longest matching prefix is the whole country.
    assert _availability(tenant, web, skus="WHONLY", postal_code="20000")["WHONLY"]["promise"]["latest"] == "2026-12-02"


def test_a_closure_and_a_tenant_wide_closure_delay_the_promise(tenant, network, clock):
    web, wh, _ = network
    Closure.objects.create(
        tenant=tenant, location=wh, starts_on=date(2026, 12, 1), ends_on=date(2026, 12, 1), reason="stock count"
    )

    assert _availability(tenant, web, skus="WHONLY")["WHONLY"]["promise"] == {
        "earliest": "2026-12-04",
        "latest": "2026-12-05",
    }
    Closure.objects.create(tenant=tenant, starts_on=date(2026, 12, 2), ends_on=date(2026, 12, 2), reason="strike")
    assert _availability(tenant, web, skus="WHONLY")["WHONLY"]["promise"]["earliest"] == "2026-12-05"


def test_a_destination_without_transit_time_gets_no_delivery_promise(tenant, network, clock):
    web, *_ = network
    tenant.settings = {"delivery_service": "acme_post"}
    tenant.save(update_fields=["settings"])

    results = _availability(tenant, web, skus="BOTH")

    assert results["BOTH"]["promise"] is None
    assert results["BOTH"]["locations"][0]["promise"]["ready_at"] == "2026-12-02T17:00:00+01:00"


# --- orders ----------------------------------------------------------------------------------------------


def _place(api, shop, **overrides):
    response = api.post("/api/v1/orders/", order_body(shop, **overrides), format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_an_order_stores_the_computed_promise_at_placement(api, tenant, clock):
    shop = build_shop(tenant)

    order = _place(api, shop)

    assert order["promised_delivery"] == {"earliest": "2026-12-03", "latest": "2026-12-04", "source": "oms"}
    assert api.get(f"/api/v1/orders/{order['id']}/").json()["promised_delivery"]["latest"] == "2026-12-04"


def test_the_clients_promise_is_the_customers_and_is_kept(api, tenant, clock):
    shop = build_shop(tenant)

    order = _place(api, shop, promised_delivery={"earliest": "2026-12-10", "latest": "2026-12-12"})
    clock(datetime(2026, 12, 4, 17, 0, tzinfo=UTC))
    allocate_order(tenant=tenant, order_id=order["id"])

    answer = api.get(f"/api/v1/orders/{order['id']}/").json()
    assert answer["status"] == "allocated"
    assert answer["promised_delivery"] == {"earliest": "2026-12-10", "latest": "2026-12-12", "source": "client"}


def test_allocation_recomputes_the_promise_from_the_chosen_locations(api, tenant, clock):
    shop = build_shop(tenant)
    order = _place(api, shop)
    # Routed on Friday 4 December at 18:00 in Paris: dispatched that day (no cut-off), delivered Monday to Tuesday.
    clock(datetime(2026, 12, 4, 17, 0, tzinfo=UTC))

    allocate_order(tenant=tenant, order_id=order["id"])

    answer = api.get(f"/api/v1/orders/{order['id']}/").json()
    assert answer["status"] == "allocated"
    assert answer["promised_delivery"] == {"earliest": "2026-12-07", "latest": "2026-12-08", "source": "oms"}


def test_a_pickup_order_promises_the_day_it_is_ready_at_the_store(api, tenant, clock):
    shop = build_shop(tenant)

    order = _place(api, shop, delivery={"method": "pickup", "pickup_location": shop.store.code})

    assert order["promised_delivery"] == {"earliest": "2026-12-01", "latest": "2026-12-01", "source": "oms"}


def _deliver(tenant, order):
    every_unit = [order_services.LineQuantity(line["id"], line["quantity"]) for line in order["lines"]]
    order_services.record_shipment(tenant=tenant, order_id=order["id"], actor=SYSTEM, lines=every_unit)
    order_services.record_delivery(tenant=tenant, order_id=order["id"], actor=SYSTEM, lines=None)


@pytest.mark.parametrize(
    "delivered, on_time",
    [
        (datetime(2026, 12, 4, 22, 59, tzinfo=UTC), True),  # Friday 23:59 in Paris: the promise's last day
        (datetime(2026, 12, 4, 23, 0, tzinfo=UTC), False),  # Saturday 00:00 in Paris: a day late
    ],
)
def test_delivery_records_on_time_or_late_against_the_promise(api, tenant, clock, delivered, on_time):
    shop = build_shop(tenant)
    order = _place(api, shop)
    assert api.get(f"/api/v1/orders/{order['id']}/").json()["delivered_on_time"] is None
    clock(delivered)

    _deliver(tenant, order)

    answer = api.get(f"/api/v1/orders/{order['id']}/").json()
    assert answer["status"] == "delivered"
    assert answer["delivered_on_time"] is on_time


def test_a_carrier_scan_is_measured_by_when_the_parcel_was_delivered_not_when_it_was_reported(api, tenant, clock):
    shop = build_shop(tenant)
    order = _place(api, shop)  # promised by Friday 2026-12-04
    allocate_order(tenant=tenant, order_id=order["id"])
    fulfillment = FulfillmentOrder.objects.for_tenant(tenant).get(order_id=order["id"])
    for step, body in (("accept", {}), ("pick", {}), ("pack", {}), ("ship", {"carrier": "colissimo"})):
        assert api.post(f"/api/v1/fulfillments/{fulfillment.id}/{step}/", body, format="json").status_code in (200, 201)
    shipment = Shipment.objects.for_tenant(tenant).get(order_id=order["id"])
    clock(datetime(2026, 12, 7, 9, 0, tzinfo=UTC))  # the carrier's report arrives on Monday

    answer = api.post(
        f"/api/v1/shipments/{shipment.id}/events/",
        {"status": "delivered", "occurred_at": "2026-12-04T16:30:00+01:00"},
        format="json",
    )

    assert answer.status_code in (200, 201), answer.json()
    assert Order.objects.for_tenant(tenant).get(id=order["id"]).delivered_on_time is True


def test_an_order_without_a_promise_is_not_measured(api, tenant, clock):
    shop = build_shop(tenant)
    tenant.settings = {"delivery_service": "acme_post"}  # no transit time: no promise
    tenant.save(update_fields=["settings"])
    order = _place(api, shop)
    assert order["promised_delivery"] is None

    _deliver(tenant, order)

    assert Order.objects.for_tenant(tenant).get(id=order["id"]).delivered_on_time is None


def test_the_order_page_shows_the_promise_and_whether_it_held(api, tenant, clock, user_client):
    shop = build_shop(tenant)
    order = _place(api, shop)
    _deliver(tenant, order)

    page = user_client("viewer").get(f"/orders/{order['id']}/").content.decode()
    french = user_client("viewer").get(f"/orders/{order['id']}/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    assert "computed by OMS" in page and "Delivered on time" in page
    assert "Livrée à temps" in french


# --- the carrier table page ------------------------------------------------------------------------------

URL = "/fulfillment/promise/"


def test_the_page_lists_the_default_french_table(user_client):
    page = user_client("viewer").get(URL)

    assert page.status_code == 200
    text = page.content.decode()
    assert 'data-zone="colissimo-FR-"' in text and 'data-zone="chronopost-FR-97"' in text
    assert "Carrier transit times" in text and 'id="transit-form"' not in text  # a viewer does not edit


def test_the_page_speaks_french(user_client):
    text = user_client("manager").get(URL, HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    assert "Délais de transport" in text and "Fermetures" in text


def test_editing_a_row_gives_the_tenant_its_own_table(tenant, user_client):
    client = user_client("admin")

    response = client.post(
        URL + "transit/",
        {"service": "colissimo", "country": "FR", "postal_prefix": "2A", "min_days": 4, "max_days": 5},
    )

    assert response.status_code == 302
    rows = dict(
        ((s, c, p), (low, high))
        for s, c, p, low, high in TransitTime.objects.for_tenant(tenant).values_list(
            "service", "country", "postal_prefix", "min_days", "max_days"
        )
    )
    assert rows[("colissimo", "FR", "2A")] == (4, 5)
    assert rows[("colissimo", "FR", "")] == (2, 3)  # the defaults were copied first
    assert 'data-zone="colissimo-FR-2A"' in client.get(URL).content.decode()


def test_a_bad_row_is_refused_with_the_reason(tenant, user_client):
    response = user_client("admin").post(
        URL + "transit/", {"service": "colissimo", "country": "FR", "postal_prefix": "", "min_days": 5, "max_days": 2}
    )

    assert response.status_code == 400
    assert "The maximum is not below the minimum." in response.content.decode()
    assert not TransitTime.objects.for_tenant(tenant).exists()


def test_a_viewer_cannot_edit_the_table(tenant, user_client):
    response = user_client("viewer").post(
        URL + "transit/", {"service": "colissimo", "country": "FR", "postal_prefix": "", "min_days": 1, "max_days": 1}
    )

    assert response.status_code == 403
    assert not TransitTime.objects.for_tenant(tenant).exists()


def test_closures_are_added_and_removed_on_the_page(tenant, user_client):
    location = factories.LocationFactory(tenant=tenant, code="WH9")
    client = user_client("admin")
    today = django_timezone.now().date()

    client.post(
        URL + "closures/",
        {
            "location": "WH9",
            "starts_on": today + timedelta(days=3),
            "ends_on": today + timedelta(days=4),
            "reason": "inventory",
        },
    )

    closure = Closure.objects.for_tenant(tenant).get()
    assert (closure.location, closure.reason) == (location, "inventory")
    assert "inventory" in client.get(URL).content.decode()
    client.post(URL + f"closures/{closure.id}/delete/")
    assert not Closure.objects.for_tenant(tenant).exists()


def test_a_closure_of_another_tenant_cannot_be_removed(tenant, other_tenant, user_client):
    theirs = Closure.objects.create(
        tenant=other_tenant, starts_on=date(2030, 1, 1), ends_on=date(2030, 1, 2), reason="x"
    )

    response = user_client("admin").post(URL + f"closures/{theirs.id}/delete/")

    assert response.status_code == 404

    assert Closure.objects.for_tenant(other_tenant).filter(id=theirs.id).exists()


def _delivered_shipment(tenant, location, postal_code, shipped_at, delivered_at, carrier="colissimo"):
    order = factories.OrderFactory(
        tenant=tenant, shipping_address={"postal_code": postal_code, "country": "FR", "city": "X"}
    )
    decision = RoutingDecision.objects.create(tenant=tenant, order=order, policy_version=1)
    fulfillment = FulfillmentOrder.objects.create(tenant=tenant, order=order, location=location, decision=decision)
    return Shipment.objects.create(
        tenant=tenant,
        order=order,
        fulfillment=fulfillment,
        location=location,
        carrier=carrier,
        shipped_at=shipped_at,
        delivered_at=delivered_at,
        status="delivered",
    )


def test_the_page_shows_measured_transit_days_beside_the_configured_ones(tenant, user_client):
    location = factories.LocationFactory(tenant=tenant, code="WH1")
    monday = django_timezone.now().astimezone(django_timezone.get_default_timezone()).replace(hour=12)
    monday -= timedelta(days=monday.weekday() + 7)  # last week's Monday, noon
    # Paris: Monday → Wednesday (2 carrier days) four times, Monday → Friday (4) once.
    for _ in range(4):
        _delivered_shipment(tenant, location, "75011", monday, monday + timedelta(days=2))
    _delivered_shipment(tenant, location, "75011", monday, monday + timedelta(days=4))
    # Corsica: Monday → Thursday.
    _delivered_shipment(tenant, location, "20000", monday, monday + timedelta(days=3))

    text = user_client("manager").get(URL).content.decode()

    paris = text.split('data-zone="colissimo-FR-"')[1].split("</tr>")[0]
    corsica = text.split('data-zone="colissimo-FR-20"')[1].split("</tr>")[0]
    assert 'measured-p50">2<' in paris and 'measured-p90">4<' in paris and ">5<" in paris
    assert 'measured-p50">3<' in corsica and 'measured-p90">3<' in corsica
    chronopost = text.split('data-zone="chronopost-FR-"')[1].split("</tr>")[0]
    assert 'measured-p50">—<' in chronopost


# --- location configuration ------------------------------------------------------------------------------


def test_a_location_takes_its_handling_days_and_holiday_subdivision(api):
    body = {"code": "WH-METZ", "name": "Metz", "kind": "warehouse", "address": {"country": "FR"}}

    created = api.post("/api/v1/locations/", {**body, "handling_days": 2, "holiday_subdivision": "57"}, format="json")

    assert created.status_code == 201, created.json()
    assert (created.json()["handling_days"], created.json()["holiday_subdivision"]) == (2, "57")


def test_an_unknown_holiday_subdivision_is_refused(api):
    body = {"code": "WH-X", "name": "X", "kind": "warehouse", "holiday_subdivision": "99"}

    refused = api.post("/api/v1/locations/", body, format="json")

    assert refused.status_code == 400
    assert "holiday_subdivision" in refused.json()["errors"]


def test_units_waiting_for_stock_have_no_promise_until_they_are_allocated(api, tenant, clock):
    shop = build_shop(tenant, allow_backorders=True)
    lines = [{"sku": shop.a.sku, "quantity": 20, "unit_price": "10.00"}]  # 18 in stock

    order = _place(api, shop, lines=lines)

    assert order["status"] == "backordered"
    assert order["promised_delivery"] is None
    stock(tenant, shop.a, shop.wh1, 12)  # the 2 missing units arrive
    route_order_backorders(tenant=tenant, order_id=order["id"])

    answer = api.get(f"/api/v1/orders/{order['id']}/").json()
    assert answer["lines"][0]["quantity_backordered"] == 0
    assert answer["promised_delivery"] == {"earliest": "2026-12-03", "latest": "2026-12-04", "source": "oms"}


@pytest.mark.parametrize(
    "made_ready, on_time",
    [
        (datetime(2026, 12, 1, 16, 0, tzinfo=UTC), True),  # ready on the promised day
        (datetime(2026, 12, 2, 9, 0, tzinfo=UTC), False),  # ready the day after
    ],
)
def test_a_collected_order_is_measured_by_when_it_was_ready_at_the_store(api, tenant, clock, made_ready, on_time):
    shop = build_shop(tenant)
    placed = _place(api, shop, delivery={"method": "pickup", "pickup_location": shop.store.code})
    assert placed["promised_delivery"]["latest"] == "2026-12-01"
    allocate_order(tenant=tenant, order_id=placed["id"])
    fulfillment = FulfillmentOrder.objects.for_tenant(tenant).get(order_id=placed["id"])
    code = ready(api, tenant, fulfillment)
    OrderEvent.objects.for_tenant(tenant).filter(order_id=placed["id"], kind="ready_for_pickup").update(at=made_ready)
    clock(datetime(2026, 12, 3, 17, 0, tzinfo=UTC))  # the customer comes two days later: their time, not ours

    collected = api.post(f"/api/v1/fulfillments/{fulfillment.id}/collect/", {"pickup_code": code}, format="json")

    assert collected.status_code == 200, collected.json()
    answer = api.get(f"/api/v1/orders/{placed['id']}/").json()
    assert answer["status"] == "delivered"
    assert answer["delivered_on_time"] is on_time


def test_a_locations_postal_code_is_a_string_not_a_number_that_lost_its_leading_zero(api):
    body = {"code": "WH-AIN", "name": "Ain", "kind": "warehouse", "address": {"postal_code": 1000, "country": "FR"}}

    refused = api.post("/api/v1/locations/", body, format="json")

    assert refused.status_code == 400
    assert "address.postal_code" in refused.json()["errors"]
