"""A customer rates their order on a phone and on a tablet, in a real browser, from the link the shop sent them: no
account, every score a target a finger can take without zooming or scrolling sideways, nothing refused by the
Content-Security-Policy, and the answer recorded. Debian's Chromium, headless, through Playwright against the live
server (launch settings shared with tests/browser/test_smoke_browser.py)."""

from types import SimpleNamespace

import pytest
from django.conf import settings

from oms.actors import Actor
from orders import services
from orders.models import Feedback
from tests import factories
from tests.browser.test_csp_browser import WATCH
from tests.browser.test_smoke_browser import CHROMIUM, CHROMIUM_ARGS
from tests.browser.test_store_browser import in_thread, no_csp_violation
from tests.conftest import make_api_client
from tests.orders.support import build_shop, order_body

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def link(db):
    """The path of the rating page of an order one unit of which has shipped."""
    tenant = factories.TenantFactory(slug="acme", name="Acme")
    api = make_api_client(tenant)
    order = api.post("/api/v1/orders/", order_body(build_shop(tenant)), format="json").json()
    services.record_shipment(
        tenant=tenant,
        order_id=order["id"],
        actor=Actor.system("tests"),
        lines=[services.LineQuantity(order["lines"][0]["id"], 1)],
    )
    url = api.get(f"/api/v1/orders/{order['id']}/feedback-link/").json()["url"]
    return SimpleNamespace(path=url.removeprefix(settings.OMS_PUBLIC_URL), tenant=tenant, order=order)


@pytest.fixture(params=[(390, 844), (800, 1280)], ids=["phone", "tablet"])
def screen(request, tmp_path):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium); the browser tests need it")
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
    width, height = request.param
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            locale="fr-FR",
            viewport={"width": width, "height": height},
            has_touch=True,
            is_mobile=width < 600,
        )
        context.set_default_timeout(20_000)
        context.add_init_script(WATCH)
        page = context.pages[0] if context.pages else context.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        try:
            yield SimpleNamespace(page=page, errors=errors, width=width)
        finally:
            context.close()


def test_a_customer_rates_the_order_with_a_finger_in_their_language(live_server, link, screen):
    page = screen.page
    page.goto(live_server.url + link.path)

    assert page.locator("h1").inner_text() == "Notez votre commande"
    assert page.evaluate("document.documentElement.scrollWidth") <= screen.width  # nothing to scroll sideways
    scores = page.locator("fieldset.scores label")
    assert scores.count() == 5
    for index in range(5):
        box = scores.nth(index).bounding_box()
        assert box["height"] >= 44 and box["width"] >= 44 and box["x"] + box["width"] <= screen.width
    scores.filter(has_text="Satisfait").filter(has_not_text="Très").filter(has_not_text="Ni ").tap()
    page.get_by_label("Quelque chose à nous dire ? (facultatif)").fill("Livré vite, bien emballé.")
    page.get_by_role("button", name="Envoyer ma note").tap()

    page.wait_for_selector("text=Merci !")
    assert "4 sur 5" in page.locator("[role=status]").inner_text()
    no_csp_violation(page)
    assert screen.errors == []
    stored = in_thread(lambda: list(Feedback.all_tenants.values_list("score", "comment", "source")))
    assert stored == [(4, "Livré vite, bien emballé.", "link")]
