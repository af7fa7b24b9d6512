"""A clerk's tablet in a real browser, held upright (800x1280) and sideways (1280x800): signed in, the store's
queue shows a new fulfilment order without a reload (htmx), the clerk accepts it, picks it by typing each barcode
into the scan field and pressing Enter as a scanner does (a wrong item is refused on the screen), packs it, opens
the packing slip and the label, and hands it to the carrier; nothing is refused by the Content-Security-Policy and
the buttons are big enough for a finger. Debian's Chromium, headless, through Playwright against the live server."""

import threading
from types import SimpleNamespace

import pytest
from django.db import connections

from fulfillment.models import FulfillmentOrder, Shipment
from oms.actors import Actor
from oms.services import set_membership
from tests import factories
from tests.browser.test_smoke_browser import PASSWORD
from tests.conftest import make_api_client
from tests.fulfillment.store_support import build_store, store_order
from tests.fulfillment.test_click_collect import last_payload, routed_pickup

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CLERK = "clerk@acme.test"


def in_thread(work):
    """Run database work beside Playwright's event loop (Django refuses it in the loop's thread), and wait."""
    result = {}

    def run():
        try:
            result["value"] = work()
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return result["value"]


@pytest.fixture
def store_network(db):
    tenant = factories.TenantFactory(slug="acme", name="Acme")
    shop = build_store(tenant)
    clerk = factories.UserFactory(email=CLERK)
    set_membership(tenant=tenant, user=clerk, role="store_clerk", locations=[shop.store], actor=Actor.system("t"))
    return SimpleNamespace(tenant=tenant, shop=shop, api=make_api_client(tenant))


def no_csp_violation(page):
    assert page.evaluate("window.__cspViolations") == []


def test_a_clerk_works_a_new_order_from_the_queue_to_the_carrier(live_server, store_network, tablet):
    page, shop, tenant, api = tablet.page, store_network.shop, store_network.tenant, store_network.api
    page.goto(live_server.url + "/login/")
    page.fill("#id_username", CLERK)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(live_server.url + "/")
    page.goto(live_server.url + "/store/")
    page.wait_for_selector("#queue")
    assert page.url == f"{live_server.url}/store/{shop.store.code}/"
    assert page.inner_text("#count-to_accept strong") == "0"
    page.evaluate("window.__sameDocument = true")

    fulfillment = in_thread(lambda: store_order(api, tenant, shop))

    card = page.wait_for_selector(f"#column-to_accept #card-{fulfillment.id}")  # polled in, no reload
    assert page.evaluate("window.__sameDocument") is True
    assert page.inner_text("#count-to_accept strong") == "1"
    accept = card.query_selector("button")
    assert accept.bounding_box()["height"] >= 44
    no_csp_violation(page)
    accept.click()

    page.wait_for_selector("#scan-code")
    assert page.url.endswith(f"/store/fulfillments/{fulfillment.id}/pick/")
    lines = dict(in_thread(lambda: list(fulfillment.lines.values_list("order_line__sku", "id"))))
    scan = page.locator("#scan-code")
    scan.fill("0000000000000")
    scan.press("Enter")
    page.wait_for_selector("#scan-error")
    assert "is not in this order" in page.inner_text("#scan-error")
    for code in (shop.a.barcode, shop.a.barcode):  # two scans faster than the answers: both count, in turn
        page.keyboard.type(code)
        page.keyboard.press("Enter")
    page.wait_for_function(
        "id => document.getElementById(id)?.textContent.trim() === '2 / 2'", arg=f"count-{lines[shop.a.sku]}"
    )
    scan.fill(shop.b.barcode)
    scan.press("Enter")
    page.wait_for_selector("#to-pack")
    assert page.inner_text(f"#count-{lines[shop.b.sku]}").strip() == "1 / 1"
    assert page.evaluate("document.activeElement.id") == "scan-code"  # ready for the next scan
    no_csp_violation(page)
    page.click("#to-pack")

    page.fill("#id_parcels", "1.4")
    page.fill("#id_carrier", "colissimo")
    page.get_by_role("button", name="Packed", exact=True).click()
    page.wait_for_selector("#print-label")
    no_csp_violation(page)
    pack_url = page.url
    for link, expected in (("#print-slip", "#slip-lines"), ("#print-label", "#label-code svg")):
        page.goto(live_server.url + page.get_attribute(link, "href"))
        page.wait_for_selector(expected)
        no_csp_violation(page)
        page.goto(pack_url)
    page.click("#to-ship")

    page.select_option("#id_carrier", "colissimo")
    page.fill("#id_tracking_numbers", "6A100")
    page.get_by_role("button", name="Handed to the carrier", exact=True).click()
    page.wait_for_selector(".messages li.success")
    assert page.url == f"{live_server.url}/store/{shop.store.code}/"
    assert tablet.errors == []

    def shipped():
        return (
            FulfillmentOrder.objects.for_tenant(tenant).get(id=fulfillment.id).status,
            list(Shipment.objects.for_tenant(tenant).values_list("carrier", "tracking_numbers")),
        )

    assert in_thread(shipped) == ("shipped", [("colissimo", ["6A100"])])


def test_a_clerk_prepares_a_pickup_puts_it_out_and_hands_it_over_against_the_code(live_server, store_network, tablet):
    page, shop, tenant, api = tablet.page, store_network.shop, store_network.tenant, store_network.api
    page.goto(live_server.url + "/login/")
    page.fill("#id_username", CLERK)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(live_server.url + "/")
    page.goto(live_server.url + f"/store/{shop.store.code}/")
    page.wait_for_selector("#queue")

    order, fulfillment = in_thread(lambda: routed_pickup(api, tenant, shop))

    page.wait_for_selector(f"#column-to_accept #card-{fulfillment.id} button").click()
    page.wait_for_selector("#scan-code")
    for line in in_thread(lambda: list(fulfillment.lines.select_related("order_line__product"))):
        for _unit in range(line.quantity):
            page.keyboard.type(line.order_line.product.barcode)
            page.keyboard.press("Enter")
    page.wait_for_selector("#to-pack").click()
    page.get_by_role("button", name="Packed", exact=True).click()
    page.wait_for_selector("#ready-form")
    assert page.query_selector("#to-ship") is None  # a pickup is handed over here, never shipped
    page.click("#ready-form button")
    page.wait_for_selector(f"#column-ready_for_pickup #card-{fulfillment.id}")
    code = in_thread(lambda: last_payload(tenant, "order.ready_for_pickup")["pickup_code"])
    assert code not in page.content()
    no_csp_violation(page)

    page.click("#counter-link")  # the customer comes in and shows the code
    page.fill("#handover-q", code)
    page.get_by_role("button", name="Find", exact=True).click()
    page.wait_for_selector(f"#pickup-{fulfillment.id} a").click()
    page.wait_for_selector("#collect-form")
    assert page.input_value("#id_pickup_code") == code
    page.get_by_role("button", name="Hand over", exact=True).click()
    page.wait_for_selector(".messages li.success")
    assert f"Order {order.number} collected." in page.inner_text(".messages")
    no_csp_violation(page)
    assert tablet.errors == []

    def collected():
        order.refresh_from_db()
        return FulfillmentOrder.objects.for_tenant(tenant).get(id=fulfillment.id).status, order.status

    assert in_thread(collected) == ("collected", "delivered")
