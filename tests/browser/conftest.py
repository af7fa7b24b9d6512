"""The browser tests' shared fixture: a clerk's tablet."""

from types import SimpleNamespace

import pytest

from tests.browser.test_csp_browser import WATCH
from tests.browser.test_smoke_browser import CHROMIUM, CHROMIUM_ARGS


@pytest.fixture(params=[(800, 1280), (1280, 800)], ids=["portrait", "landscape"])
def tablet(request, store_network, tmp_path):
    """A Chromium page the size of a 10-inch tablet held upright, then sideways, with touch; CSP violations and
    script errors recorded. `store_network` (each test module's own) is built before Playwright starts."""
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
            locale="en-US",
            viewport={"width": width, "height": height},
            has_touch=True,
        )
        context.set_default_timeout(20_000)
        context.add_init_script(WATCH)
        page = context.pages[0] if context.pages else context.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        try:
            yield SimpleNamespace(page=page, errors=errors)
        finally:
            context.close()
