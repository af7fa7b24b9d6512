"""The returns desk on a clerk's tablet in a real browser, held upright (800x1280) and sideways (1280x800): signed
in, the clerk opens the desk from the store screens, scans the order number off the customer's receipt (typed and
Enter, as a scanner does), takes a unit of an order bought online back with its reason and the restock
disposition, and sees the RMA number and the slip to print; the unit is back on hand at the store, through the
ledger. Nothing is refused by the Content-Security-Policy and the buttons are big enough for a finger. Debian's
Chromium, headless, through Playwright against the live server."""

from types import SimpleNamespace

import pytest

from inventory.ledger import ledger_discrepancies
from oms.actors import Actor
from oms.services import set_membership
from returns.models import Return
from returns.tenant_settings import update_auto_approval
from tests import factories
from tests.browser.test_smoke_browser import PASSWORD
from tests.browser.test_store_browser import in_thread, no_csp_violation
from tests.orders.support import build_shop, level
from tests.returns.support import lines_of, shipped_order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CLERK = "clerk@acme.test"


@pytest.fixture
def store_network(db):
    """A web order shipped from a warehouse, a store that takes returns back, its clerk, and returns approved by
    the tenant's policy (made before Playwright starts its event loop in this thread)."""
    tenant = factories.TenantFactory(slug="acme", name="Acme")
    shop = build_shop(tenant)
    shop.store.accepts_returns = True
    shop.store.save(update_fields=["accepts_returns"])
    clerk = factories.UserFactory(email=CLERK)
    set_membership(tenant=tenant, user=clerk, role="store_clerk", locations=[shop.store], actor=Actor.system("t"))
    update_auto_approval(tenant=tenant, actor=Actor.system("t"), values={"enabled": True})
    order = shipped_order(tenant, shop)
    return SimpleNamespace(tenant=tenant, shop=shop, order=order, line=lines_of(order)[shop.a.sku])


def test_a_clerk_takes_back_a_unit_of_an_online_order_and_it_is_on_sale_again_at_the_store(
    live_server, store_network, tablet
):
    page, shop, tenant, order = tablet.page, store_network.shop, store_network.tenant, store_network.order
    line = store_network.line
    on_hand = in_thread(lambda: level(tenant, shop.a, shop.store).on_hand)
    page.goto(live_server.url + "/login/")
    page.fill("#id_username", CLERK)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(live_server.url + "/")
    page.goto(live_server.url + f"/store/{shop.store.code}/")
    page.click("#returns-link")

    page.wait_for_selector("#desk-q")
    assert page.evaluate("document.activeElement.id") == "desk-q"  # ready for the scanner
    page.keyboard.type(order.number)
    page.keyboard.press("Enter")

    page.wait_for_selector("#return-form")
    assert page.url == f"{live_server.url}/store/{shop.store.code}/returns/orders/{order.id}/"
    page.fill(f"#id_quantity_{line.id}", "1")
    page.select_option(f"#id_reason_{line.id}", "too_small")
    page.select_option(f"#id_disposition_{line.id}", "restock")
    refund = page.locator("label[for=id_outcome_0]")
    assert refund.inner_text().strip() == "Refund" and refund.bounding_box()["height"] >= 44
    refund.click()
    submit = page.locator("#return-submit")
    assert submit.bounding_box()["height"] >= 44
    no_csp_violation(page)
    submit.click()

    page.wait_for_selector("#rma-number")
    rma = in_thread(lambda: Return.objects.for_tenant(tenant).get())
    assert page.inner_text("#rma-number") == rma.number
    assert page.url == f"{live_server.url}/store/{shop.store.code}/returns/{rma.id}/"
    slip = page.get_attribute("#print-return-slip", "href")
    assert slip == f"/api/v1/returns/{rma.id}/slip.pdf"
    assert page.locator("#print-return-slip").bounding_box()["height"] >= 44
    pdf = page.request.get(live_server.url + slip)
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    assert "The units are received at" in page.inner_text(".messages")
    no_csp_violation(page)
    assert tablet.errors == []

    def after():
        return (
            Return.objects.for_tenant(tenant).get().status,
            level(tenant, shop.a, shop.store).on_hand,
            ledger_discrepancies(tenant=tenant),
        )

    assert in_thread(after) == ("refunded", on_hand + 1, [])
