"""The Content-Security-Policy in a real browser: every page a signed-in administrator reaches through the links
(and the admin, the API docs and the print-outs) loads without Chromium refusing anything, and the behaviour that
moved from inline attributes to static scripts still works: confirmation questions, the selects that switch the
tenant or the board's location, the print button. Debian's Chromium, headless, through Playwright against
pytest-django's live server (launch settings shared with tests/browser/test_smoke_browser.py)."""

import re
from collections import deque
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest

from fulfillment.models import FulfillmentOrder
from fulfillment.services.allocation import allocate_order
from oms.actors import Actor
from oms.models import Membership
from oms.services import set_membership
from orders.models import OrderLine
from tests import factories
from tests.browser.test_smoke_browser import CHROMIUM, CHROMIUM_ARGS, PASSWORD
from tests.conftest import make_api_client
from tests.orders.support import build_shop, order_body

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ADMIN = "admin@acme.test"
# Records what the policy refuses, before any script of the page runs.
WATCH = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber}`);
});
window.__printed = 0;
window.print = () => { window.__printed += 1; };
"""
# Inline styles the pages themselves would write: the charts' SVG, which plotly.js styles through the CSSOM (which
# the policy allows, unlike style attributes in the markup), and its measuring element are its own.
INLINE_STYLES = """
[...document.querySelectorAll('style, [style]')]
  .filter((element) => !element.closest('.js-plotly-plot, #js-plotly-tester'))
  .length
"""
# Links the crawl does not follow: they change state, leave the pages, or are visited on purpose below.
# Downloads (CSV, PDF, a customer's data as JSON) are files, not pages.
NOT_FOLLOWED = re.compile(r"^/(logout|i18n|admin|api|demo|jsi18n)/|\.csv$|/pdf/$|/export/$")
# Pages the crawl must have reached, by path (ids as \d+): the navigation leads to each of them.
MUST_REACH = [
    r"/",
    r"/orders/",
    r"/orders/\d+/",
    r"/orders/customers/\d+/",
    r"/orders/invoices/\d+/",
    r"/orders/new/",
    r"/orders/settings/",
    r"/inventory/",
    r"/inventory/movements/",
    r"/inventory/adjust/",
    r"/inventory/transfers/",
    r"/inventory/transfers/\d+/",
    r"/inventory/counts/",
    r"/inventory/counts/\d+/",
    r"/inventory/imports/",
    r"/inventory/imports/\d+/",
    r"/inventory/alerts/",
    r"/fulfillment/board/",
    r"/fulfillment/board/pick-list/",
    r"/fulfillment/\d+/",
    r"/fulfillment/\d+/pick-list/",
    r"/fulfillment/\d+/packing-slip/",
    r"/fulfillment/routing/",
    r"/fulfillment/shipments/",
    r"/fulfillment/shipments/\d+/",
    r"/store/",
    r"/store/[\w-]+/",
    r"/store/[\w-]+/sale/",
    r"/store/[\w-]+/returns/",
    r"/store/[\w-]+/returns/\d+/",
    r"/returns/",
    r"/returns/\d+/",
    r"/audit/",
    r"/settings/api-keys/",
    r"/settings/webhooks/",
    r"/reports/",
    r"/reports/channels/",
    r"/reports/locations/",
    r"/reports/products/",
    r"/reports/return-reasons/",
    r"/reports/cancellation-reasons/",
    r"/reports/store/[\w-]+/",
]


@pytest.fixture
def network(db):
    """Acme, whose administrator is also a viewer at Globex, with something on every page: a shipped order and a
    return of it at the store, an order waiting at the first warehouse, a transfer, a count, a stock import, an
    alert rule, an API key and a webhook subscription."""
    tenant = factories.TenantFactory(slug="acme", name="Acme")
    other = factories.TenantFactory(slug="globex", name="Globex")
    user = factories.UserFactory(email=ADMIN)
    set_membership(tenant=tenant, user=user, role="admin", actor=Actor.system("tests"))
    set_membership(tenant=other, user=user, role="viewer", actor=Actor.system("tests"))
    shop = build_shop(tenant)
    api = make_api_client(tenant)
    shipped, waiting = (api.post("/api/v1/orders/", order_body(shop), format="json").json()["id"] for _ in range(2))
    for order_id in (shipped, waiting):
        allocate_order(tenant=tenant, order_id=order_id)
    fulfillment = FulfillmentOrder.objects.for_tenant(tenant).get(order_id=shipped)
    for step, body in (("accept", {}), ("pick", {}), ("pack", {}), ("ship", {"carrier": "colissimo"})):
        answer = api.post(f"/api/v1/fulfillments/{fulfillment.id}/{step}/", body, format="json")
        assert answer.status_code in (200, 201), answer.json()
    shop.store.accepts_returns = True
    shop.store.save(update_fields=["accepts_returns"])
    line = OrderLine.objects.for_tenant(tenant).filter(order_id=shipped).order_by("id").first()
    rma = {"order": shipped, "method": "store", "location": shop.store.code}
    rma["lines"] = [{"order_line": line.id, "quantity": 1, "reason": "too_small"}]
    assert api.post("/api/v1/returns/", rma, format="json").status_code == 201
    transfer = {"source": shop.wh1.code, "destination": shop.store.code, "lines": [{"sku": shop.a.sku, "quantity": 1}]}
    assert api.post("/api/v1/inventory/transfers/", transfer, format="json").status_code == 201
    count = {"location": shop.wh2.code, "lines": [{"sku": shop.c.sku, "counted": 4}]}
    assert api.post("/api/v1/inventory/counts/", count, format="json").status_code == 201
    factories.WebhookSubscriptionFactory(tenant=tenant, url="https://hooks.example.com/oms")
    factories.StockImportJobFactory(tenant=tenant)  # still pending: its page polls with htmx
    factories.StockAlertRuleFactory(tenant=tenant, location=shop.wh1)
    return SimpleNamespace(
        shop=shop,
        fulfillment=fulfillment,
        membership=Membership.objects.for_tenant(tenant).get(user=user),
    )


@pytest.fixture
def browser(network, tmp_path):
    """A Chromium context that records CSP violations, console errors and script errors on every page. The data
    (`network`) is created before Playwright starts: its sync API runs an event loop in this thread, and Django
    would refuse database connections opened while that loop runs."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium); the browser tests need it")
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            locale="en-US",
            viewport={"width": 1280, "height": 900},
        )
        context.set_default_timeout(15_000)
        context.add_init_script(WATCH)
        page = context.pages[0] if context.pages else context.new_page()
        problems = []
        page.on("console", lambda m: m.type == "error" and "Content Security Policy" in m.text and problems.append(m))
        page.on("pageerror", lambda error: problems.append(f"{page.url}: script error {error}"))
        try:
            yield SimpleNamespace(page=page, problems=problems)
        finally:
            context.close()


def sign_in(page, live_server):
    page.goto(live_server.url + "/login/")
    page.fill("#id_username", ADMIN)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_selector("h1:has-text('Welcome to Acme')")


def visit(browser, url) -> list[str]:
    """Open the page and wait until it settles; what the policy refused there."""
    browser.page.goto(url)
    browser.page.wait_for_load_state("networkidle")
    return browser.page.evaluate("window.__cspViolations")


def refused_anything(browser, url) -> list[str]:
    violations = visit(browser, url)
    problems = [f"{url}: {p.text if hasattr(p, 'text') else p}" for p in browser.problems]
    browser.problems.clear()
    return [f"{url}: {v}" for v in violations] + problems


def links_on(page, origin) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
    return [href.split("#")[0] for href in hrefs if href.startswith(origin)]


def test_every_page_an_administrator_reaches_loads_without_a_csp_violation(live_server, browser):
    page = browser.page
    sign_in(page, live_server)
    origin = live_server.url
    seen, queue, refused = set(), deque([origin + "/"]), []
    while queue:
        url = queue.popleft()
        path = urlsplit(url).path
        if path in seen or NOT_FOLLOWED.search(path):
            continue
        seen.add(path)
        refused += refused_anything(browser, url)
        assert page.evaluate(INLINE_STYLES) == 0, f"inline style on {url}"
        queue.extend(links_on(page, origin))

    unreached = [pattern for pattern in MUST_REACH if not any(re.fullmatch(pattern, path) for path in seen)]
    assert unreached == []
    assert refused == []


def test_the_admin_and_the_api_docs_load_without_a_csp_violation(live_server, browser, network):
    page = browser.page
    sign_in(page, live_server)
    origin = live_server.url
    refused = refused_anything(browser, origin + "/admin/")
    changelists = sorted({urlsplit(href).path for href in links_on(page, origin) if href.endswith("/")})
    assert "/admin/oms/membership/" in changelists
    for path in changelists:
        refused += refused_anything(browser, origin + path)
    membership = f"/admin/oms/membership/{network.membership.id}/change/"
    # New members come by invitation (a page of OMS, crawled above), so the admin has no add form for them.
    for path in (membership, "/admin/password_change/"):
        refused += refused_anything(browser, origin + path)
        assert page.locator("#content-main form").count() == 1, path
    # The membership form's two-box store picker is built by the admin's scripts.
    visit(browser, origin + membership)
    assert page.locator(".selector-available").count() == 1

    refused += refused_anything(browser, origin + "/api/v1/docs/")
    page.wait_for_selector(".swagger-ui .info .title")
    assert page.locator(".opblock").count() > 10
    refused += [f"/api/v1/docs/: {v}" for v in page.evaluate("window.__cspViolations")]

    assert refused == []


def test_confirmations_still_ask_and_cancel_sends_nothing(live_server, browser):
    """Checked through the pages: the database is out of reach while Playwright's loop runs in this thread."""
    page = browser.page
    sign_in(page, live_server)
    questions = []

    def answer(dialog, accept):
        questions.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    visit(browser, live_server.url + "/settings/api-keys/")
    page.once("dialog", lambda dialog: answer(dialog, accept=False))
    page.get_by_role("button", name="Revoke", exact=True).click()
    page.wait_for_load_state("networkidle")
    visit(browser, live_server.url + "/settings/api-keys/")
    assert page.locator("table.grid .badge").all_inner_texts() == ["Active"]

    page.once("dialog", lambda dialog: answer(dialog, accept=True))
    with page.expect_navigation():
        page.get_by_role("button", name="Revoke", exact=True).click()
    assert page.locator("table.grid .badge").all_inner_texts() == ["Revoked"]

    visit(browser, live_server.url + "/settings/webhooks/")
    page.once("dialog", lambda dialog: answer(dialog, accept=False))
    page.get_by_role("button", name="Delete", exact=True).click()
    page.wait_for_load_state("networkidle")
    visit(browser, live_server.url + "/settings/webhooks/")
    assert page.get_by_text("https://hooks.example.com/oms").count() == 1

    assert questions == [
        "Revoke this key? Integrations using it stop working at once.",
        "Revoke this key? Integrations using it stop working at once.",
        "Delete this subscription? Its deliveries are deleted too.",
    ]
    assert page.evaluate("window.__cspViolations") == [] and browser.problems == []


def test_selects_switch_at_once_and_the_print_button_prints(live_server, browser, network):
    page = browser.page
    sign_in(page, live_server)

    visit(browser, live_server.url + "/fulfillment/board/")
    with page.expect_navigation():
        page.select_option("#location", network.shop.wh2.code)
    assert f"location={network.shop.wh2.code}" in page.url

    visit(browser, live_server.url + f"/fulfillment/{network.fulfillment.id}/pick-list/")
    page.get_by_role("button", name="Print", exact=True).click()
    assert page.evaluate("window.__printed") == 1

    visit(browser, live_server.url + "/")
    with page.expect_navigation():
        page.select_option("#tenant-select", label="Globex")
    page.wait_for_selector("h1:has-text('Welcome to Globex')")

    assert page.evaluate("window.__cspViolations") == [] and browser.problems == []
