"""The routing page in a real browser: an admin edits the policy and saves it as a new version, a bad policy is
refused with its problem named and saves nothing, the dry run of a placed order shows the chosen location and a
reason for every location, a viewer reads the policy without an editor, and the page speaks French. Debian's
Chromium, headless, through Playwright against pytest-django's live server (as tests/browser/test_smoke_browser.py,
whose launch settings it shares)."""

import json
from types import SimpleNamespace

import pytest

from oms.actors import Actor
from oms.services import set_membership
from tests import factories
from tests.browser.test_smoke_browser import CHROMIUM, CHROMIUM_ARGS, PASSWORD
from tests.conftest import make_api_client
from tests.orders.support import build_shop, order_body

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROUTING = "/fulfillment/routing/"
ADMIN, VIEWER = "admin@acme.test", "viewer@acme.test"


@pytest.fixture
def network(db):
    """Acme with an admin and a viewer, a web channel over two warehouses and a store, and one placed order
    (A x 2, B x 1: the first warehouse holds both whole)."""
    tenant = factories.TenantFactory(slug="acme", name="Acme")
    for email, role in ((ADMIN, "admin"), (VIEWER, "viewer")):
        user = factories.UserFactory(email=email)
        set_membership(tenant=tenant, user=user, role=role, actor=Actor.system("tests"))
    shop = build_shop(tenant)
    placed = make_api_client(tenant).post("/api/v1/orders/", order_body(shop), format="json")
    assert placed.status_code == 201, placed.json()
    return SimpleNamespace(shop=shop, number=placed.json()["number"])


@pytest.fixture
def page(network, tmp_path):
    """A Chromium page. The data (`network`) is created before Playwright starts: its sync API runs an event loop
    in this thread, and Django would refuse (and lose track of) database connections opened while that loop runs.
    So everything below is checked through the pages, as a user would see it."""
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
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()


def sign_in_and_open_routing(page, live_server, email, *, routing_label="Routing"):
    page.goto(live_server.url + "/")
    page.fill("#id_username", email)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_selector("h1:has-text('Welcome to Acme')")
    page.locator("nav.mainnav").get_by_role("link", name=routing_label, exact=True).click()
    page.wait_for_selector("h1:has-text('Routing')")
    assert page.url == live_server.url + ROUTING


def save_policy(page, text: str, note: str = ""):
    """Type the rules into the editor and save; the HTTP status of the answer."""
    page.fill("#policy-text", text)
    if note:
        page.fill("#policy-note", note)
    with page.expect_navigation() as answered:
        page.get_by_role("button", name="Save as a new version", exact=True).click()
    return answered.value.status


def version_rows(page) -> list[str]:
    return page.locator("#versions tbody tr td:first-child").all_inner_texts()


def test_an_admin_saves_a_new_version_and_bad_policies_save_nothing(live_server, page):
    sign_in_and_open_routing(page, live_server, ADMIN)
    assert page.locator("text=Orders are routed by version 1 of the policy.").count() == 1
    assert version_rows(page) == ["v1"]
    rules = json.loads(page.input_value("#policy-text"))
    assert rules["max_splits"] == 2 and rules["objectives"][0] == "fewest_shipments"

    rules["objectives"] = ["nearest", *[o for o in rules["objectives"] if o != "nearest"]]
    rules["max_splits"] = 3
    assert save_policy(page, json.dumps(rules, indent=2), note="closest first") == 200

    assert page.locator("ul.messages li").inner_text() == "Version 2 is now active."
    assert page.locator("text=Orders are routed by version 2 of the policy.").count() == 1
    assert version_rows(page) == ["v2", "v1"]
    assert "closest first" in page.locator("#versions tbody tr").first.inner_text()
    saved = json.loads(page.input_value("#policy-text"))
    assert saved["objectives"][0] == "nearest" and saved["max_splits"] == 3

    assert save_policy(page, '{"max_splits": 3,') == 400
    problems = page.locator("#policy ul.error li").all_inner_texts()
    assert len(problems) == 1 and problems[0].startswith("policy: Not valid JSON:"), problems
    assert page.input_value("#policy-text") == '{"max_splits": 3,'  # the text is kept for correcting

    assert save_policy(page, json.dumps({**saved, "eligibility": {"capability": True, "open_sundays": True}})) == 400
    problems = page.locator("#policy ul.error li").all_inner_texts()
    assert len(problems) == 1 and problems[0].startswith("eligibility.open_sundays: Unknown key 'open_sundays'")
    assert page.locator("ul.messages").count() == 0

    page.locator("nav.mainnav").get_by_role("link", name="Routing", exact=True).click()
    page.wait_for_selector("#versions")
    assert version_rows(page) == ["v2", "v1"]
    assert page.locator("text=Orders are routed by version 2 of the policy.").count() == 1
    assert json.loads(page.input_value("#policy-text")) == saved


def test_the_dry_run_of_a_placed_order_shows_the_chosen_location_and_why(live_server, page, network):
    shop = network.shop
    sign_in_and_open_routing(page, live_server, ADMIN)

    page.fill("#order-number", network.number)
    page.get_by_role("button", name="Dry run", exact=True).click()
    page.wait_for_selector("#dry-run h3:has-text('Why each location')")

    assert f"order={network.number}" in page.url
    assert page.locator(f"text={network.number}: 1 shipment under version 1.").count() == 1
    plan = page.locator("#dry-run table").nth(0).locator("tbody tr").all_inner_texts()
    assert len(plan) == 1 and plan[0].startswith(shop.wh1.code), plan
    assert f"{shop.a.sku} × 2" in plan[0] and f"{shop.b.sku} × 1" in plan[0]
    rows = page.locator("#dry-run table").nth(1).locator("tbody tr")
    reasons = {
        rows.nth(i).locator("td").nth(0).inner_text(): (
            rows.nth(i).locator("td").nth(1).inner_text(),
            rows.nth(i).locator("td").nth(2).inner_text(),
        )
        for i in range(rows.count())
    }
    assert set(reasons) == {shop.wh1.code, shop.wh2.code, shop.store.code}
    assert [code for code, (chosen, _) in reasons.items() if chosen == "yes"] == [shop.wh1.code]
    assert reasons[shop.wh1.code][1] == f"serves all 2 lines; before {shop.wh2.code} in the channel's pool"
    assert reasons[shop.wh2.code][1].startswith(f"outranked by {shop.wh1.code}")
    assert reasons[shop.store.code][1] == f"outranked by {shop.wh1.code}: warehouses first"

    page.fill("#order-number", "NOPE-1")
    page.get_by_role("button", name="Dry run", exact=True).click()
    page.wait_for_selector("#dry-run p.error")
    assert page.locator("#dry-run p.error").inner_text() == "No order NOPE-1."


def test_a_viewer_reads_the_policy_without_an_editor(live_server, page):
    sign_in_and_open_routing(page, live_server, VIEWER)

    policy = page.locator("#policy")
    assert policy.locator("textarea").count() == 0
    assert policy.get_by_role("button").count() == 0
    assert json.loads(policy.locator("pre").inner_text())["max_splits"] == 2
    assert version_rows(page) == ["v1"]
    # The dry run is a read, open to viewers too.
    assert page.get_by_role("button", name="Dry run", exact=True).count() == 1


def test_the_routing_page_speaks_french(live_server, page, network):
    sign_in_and_open_routing(page, live_server, ADMIN)

    page.locator("#language-switcher button[value='fr']").click()
    page.wait_for_selector("h1:has-text('Orientation')")
    assert page.get_attribute("html", "lang") == "fr"
    assert page.url == live_server.url + ROUTING
    assert page.locator("text=Les commandes sont orientées selon la version 1 de la politique.").count() == 1
    for heading in ("Où irait une commande maintenant ?", "Politique", "Versions"):
        assert page.get_by_role("heading", name=heading, exact=True).count() == 1, heading
    assert page.locator("label[for='order-number']").inner_text() == "Numéro de commande"
    assert page.locator("label[for='policy-text']").inner_text() == "Règles (JSON)"
    assert page.locator("#versions thead th").all_inner_texts() == [
        "Version",
        "Enregistrée le",
        "Enregistrée par",
        "Note",
    ]

    page.fill("#order-number", network.number)
    page.get_by_role("button", name="Simuler", exact=True).click()
    page.wait_for_selector("#dry-run h3:has-text('Pourquoi chaque site')")
    assert page.locator(f"text={network.number} : 1 expédition selon la version 1.").count() == 1
    assert page.locator("#dry-run table").nth(1).locator("thead th").all_inner_texts() == ["Site", "Choisi", "Motif"]
    chosen = page.locator("#dry-run table").nth(1).locator("tbody td:nth-child(2)").all_inner_texts()
    assert sorted(chosen) == ["non", "non", "oui"]

    page.fill("#policy-text", "{")
    with page.expect_navigation() as answered:
        page.get_by_role("button", name="Enregistrer comme nouvelle version", exact=True).click()
    assert answered.value.status == 400
    assert page.locator("#policy ul.error li").inner_text().startswith("policy: JSON non valide :")

    page.fill("#policy-text", json.dumps({"max_splits": 1}))
    with page.expect_navigation():
        page.get_by_role("button", name="Enregistrer comme nouvelle version", exact=True).click()
    assert page.locator("ul.messages li").inner_text() == "La version 2 est désormais active."
    assert version_rows(page) == ["v2", "v1"]
