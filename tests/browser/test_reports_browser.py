"""The dashboards in a real browser: a manager opens the overview over the hand-built data set (its KPI tables
rebuilt), and plotly.js, served from this server, draws every chart as SVG with its bars, lines and axes, without
the Content-Security-Policy refusing anything or a script failing; a screenshot of the page is a real picture.
Then the French page writes its figures the French way. Debian's Chromium, headless, through Playwright against
the live server."""

from datetime import timedelta

import pytest

from oms.actors import Actor
from oms.services import set_membership
from reporting import aggregation
from tests import factories
from tests.browser.test_csp_browser import WATCH
from tests.browser.test_smoke_browser import CHROMIUM, CHROMIUM_ARGS, PASSWORD
from tests.reporting.builder import D, build

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MANAGER = "manager@acme.test"
RANGE = f"from={(D - timedelta(days=2)).isoformat()}&to={(D + timedelta(days=2)).isoformat()}"
# The screenshot of a page with three charts drawn: a blank page of that size compresses to a few kilobytes.
PICTURE_BYTES = 40_000


@pytest.fixture
def figures(db):
    tenant = factories.TenantFactory(slug="acme", name="Acme")
    build(tenant)
    aggregation.rebuild(tenant=tenant, first=D - timedelta(days=3), last=D + timedelta(days=3))
    manager = factories.UserFactory(email=MANAGER)
    set_membership(tenant=tenant, user=manager, role="manager", actor=Actor.system("tests"))
    return tenant


@pytest.fixture
def browser(figures, tmp_path):
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
        context.set_default_timeout(20_000)
        context.add_init_script(WATCH)
        page = context.pages[0] if context.pages else context.new_page()
        problems = []
        page.on(
            "console", lambda m: m.type == "error" and "Content Security Policy" in m.text and problems.append(m.text)
        )
        page.on("response", lambda r: r.status >= 400 and problems.append(f"{r.status} {r.url}"))
        page.on("pageerror", lambda error: problems.append(f"script error {error}"))
        try:
            yield page, problems
        finally:
            context.close()


def sign_in(page, live_server):
    page.goto(live_server.url + "/login/")
    page.fill("#id_username", MANAGER)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(live_server.url + "/")


def test_a_manager_sees_every_chart_drawn_from_the_kpi_tables(live_server, browser, tmp_path):
    page, problems = browser
    sign_in(page, live_server)
    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Reports", exact=True).click()
    page.wait_for_selector("#tiles")
    page.goto(f"{live_server.url}/reports/?{RANGE}")
    for name in ("orders", "lead_times", "rates"):
        page.wait_for_selector(f"#chart-{name} .main-svg")
    page.wait_for_load_state("networkidle")

    for name in ("orders", "lead_times", "rates"):
        chart = f"#chart-{name}"
        assert page.locator(f"{chart} svg.main-svg").count() >= 1
        drawn = page.locator(f"{chart} .cartesianlayer path").count()
        assert drawn > 0, f"{name}: nothing drawn"
        assert page.locator(f"{chart} .xtick").count() == 5  # a tick per day of the range
        box = page.locator(chart).bounding_box()
        assert box["width"] > 300 and box["height"] > 200
    assert page.locator("#chart-orders .bars .point path").count() == 5  # a bar per day
    assert page.locator("#chart-rates .scatterlayer .trace").count() == 3  # fill, on-time, return
    assert page.inner_text("#tile-orders_placed .kpi-value") == "5"
    assert page.inner_text("#tile-order_value .kpi-value") == "€100.00"

    picture = tmp_path / "reports.png"
    page.screenshot(path=str(picture), full_page=True)
    data = picture.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > PICTURE_BYTES

    assert page.evaluate("window.__cspViolations") == []
    assert problems == []


def test_the_french_overview_writes_its_figures_the_french_way(live_server, browser):
    page, problems = browser
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/reports/?from={D.isoformat()}&to={D.isoformat()}")
    page.get_by_role("button", name="FR", exact=True).click()
    page.wait_for_selector("#chart-orders .main-svg")
    assert page.inner_text("#tile-order_value .kpi-value") == "90,00\xa0€"
    assert page.inner_text("#tile-fill_rate .kpi-value") == "85,7\xa0%"
    assert page.evaluate("window.__cspViolations") == []
    assert problems == []
