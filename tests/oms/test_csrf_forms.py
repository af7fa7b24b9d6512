"""CSRF on every form: an administrator's crawl of the pages (following their links from the home page) finds no
form that changes something without its token, and a change posted without the token is refused."""

import re
from collections import deque
from html import unescape

import pytest
from django.test import Client

from oms.models import Role
from tests.conftest import make_api_client
from tests.orders.support import build_shop, order_body

pytestmark = pytest.mark.django_db

LINK = re.compile(r'href="(/[^"#]*)"')
FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S | re.I)
SKIPPED = ("/api/", "/static/", "/admin/", "/accounts/logout", "/signout", "/logout")
FILES = (".csv", ".pdf", ".json")


def _crawl(client, start="/", limit=200) -> dict[str, str]:
    seen, pages, queue = {start}, {}, deque([start])
    while queue and len(pages) < limit:
        url = queue.popleft()
        response = client.get(url)
        if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
            continue
        html = response.content.decode()
        pages[url] = html
        for link in LINK.findall(html):
            link = unescape(link)
            if link.startswith(SKIPPED) or link.split("?")[0].endswith(FILES) or link in seen:
                continue
            seen.add(link)
            queue.append(link)
    return pages


def _post_forms(html: str) -> list[tuple[str, str]]:
    return [
        (attributes, body) for attributes, body in FORM.findall(html) if re.search(r'method="post"', attributes, re.I)
    ]


def test_every_form_that_posts_carries_its_csrf_token(tenant, user_client):
    shop = build_shop(tenant)
    make_api_client(tenant).post("/api/v1/orders/", order_body(shop), format="json")
    pages = _crawl(user_client(Role.ADMIN))

    forms = [(url, attributes) for url, html in pages.items() for attributes, body in _post_forms(html)]
    without = [
        (url, attributes)
        for url, html in pages.items()
        for attributes, body in _post_forms(html)
        if 'name="csrfmiddlewaretoken"' not in body
    ]
    assert len(pages) >= 25 and len(forms) >= 10, (len(pages), len(forms))
    assert without == []


def test_a_change_posted_without_the_token_is_refused(tenant, user_client):
    build_shop(tenant)
    admin = user_client(Role.ADMIN)
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = admin.cookies  # the same signed-in session, but no token sent

    targets = []
    for url, html in _crawl(admin, limit=60).items():
        for attributes, _body in _post_forms(html):
            action = re.search(r'action="([^"]*)"', attributes)
            targets.append(unescape(action.group(1)) if action and action.group(1) else url)
    assert targets
    answers = {target: strict.post(target, {}).status_code for target in dict.fromkeys(targets)}
    assert set(answers.values()) == {403}, answers
