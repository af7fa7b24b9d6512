"""Smoke test in a real browser: sign in through the form, find the home page and its navigation, switch to
French, sign out. Drives Debian's Chromium headless through Playwright against pytest-django's live server."""

from pathlib import Path

import pytest

from oms.actors import Actor
from oms.services import set_membership
from tests import factories

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PASSWORD = "correct-horse-battery"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def admin_user(db):
    tenant = factories.TenantFactory(slug="acme", name="Acme")
    user = factories.UserFactory(email="admin@acme.test")
    set_membership(tenant=tenant, user=user, role="admin", actor=Actor.system("tests"))
    return user


@pytest.fixture
def page(admin_user, tmp_path):
    """A Chromium page. The data is created before Playwright starts: its sync API runs an event loop in this
    thread, and Django would refuse (and lose track of) database connections opened while that loop runs."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium); the browser smoke test needs it")
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            locale="en-US",
            viewport={"width": 1280, "height": 800},
        )
        context.set_default_timeout(15_000)
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()


def test_sign_in_navigate_switch_to_french_and_sign_out(live_server, page):
    page.goto(live_server.url + "/")
    assert "/login/" in page.url
    page.fill("#id_username", "admin@acme.test")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()

    page.wait_for_selector("h1:has-text('Welcome to Acme')")
    assert page.url == live_server.url + "/"
    nav = page.locator("nav.mainnav")
    for label in ("Home", "Audit trail", "API keys", "Webhooks", "Administration"):
        assert nav.get_by_role("link", name=label, exact=True).count() == 1, label
    stylesheet_loaded = page.evaluate("getComputedStyle(document.querySelector('.topbar .bar')).display")
    assert stylesheet_loaded == "flex"

    nav.get_by_role("link", name="Audit trail", exact=True).click()
    page.wait_for_selector("h1:has-text('Audit trail')")
    assert page.url == live_server.url + "/audit/"

    page.locator("#language-switcher button[value='fr']").click()
    page.wait_for_selector("h1:has-text('Journal d’audit')")
    assert page.get_attribute("html", "lang") == "fr"
    page.locator("nav.mainnav").get_by_role("link", name="Accueil", exact=True).click()
    page.wait_for_selector("h1:has-text('Bienvenue chez Acme')")

    page.get_by_role("button", name="Se déconnecter", exact=True).click()
    page.wait_for_selector("h1:has-text('Se connecter')")
    assert "/login/" in page.url
    page.goto(live_server.url + "/audit/")
    assert "/login/" in page.url
