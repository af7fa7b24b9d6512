"""The returns pages through the Django test client: the store's returns desk (finding the order or the return,
taking units back with reason and disposition, approval and receipt at once, the policy's refusals in the page's
language, receiving an approved return at the counter), the back office's queue (filters, sorting, pages) and a
return's page with its decisions and refunds, an order's returns on its page; who may do what, and other tenants'
and other stores' ids answering 404."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from inventory.ledger import ledger_discrepancies
from oms.actors import Actor
from oms.models import Role
from oms.services import set_membership
from returns.models import Refund, Return, ReturnReason
from returns.tenant_settings import update_auto_approval
from tests import factories
from tests.conftest import make_api_client
from tests.orders.support import build_shop, level
from tests.returns.support import deliver, lines_of, return_body, shipped_order

pytestmark = pytest.mark.django_db

ACTOR = Actor.system("tests")


@pytest.fixture
def shop(tenant):
    shop = build_shop(tenant)
    shop.store.accepts_returns = True
    shop.store.save(update_fields=["accepts_returns"])
    return shop


@pytest.fixture
def auto_approval(tenant):
    update_auto_approval(tenant=tenant, actor=ACTOR, values={"enabled": True})


def member(tenant, role, stores=()) -> Client:
    """A client signed in as a new member of the tenant (each test may hold several at once)."""
    user = factories.UserFactory()
    set_membership(tenant=tenant, user=user, role=role, locations=list(stores), actor=ACTOR)
    client = Client()
    client.force_login(user)
    return client


def desk_url(shop, rest="") -> str:
    return f"/store/{shop.store.code}/returns/{rest}"


def line_fields(order, *items) -> dict:
    """`items`: (sku, units, reason, disposition): the desk form's fields for those lines."""
    lines = lines_of(order)
    fields = {"outcome": "refund"}
    for sku, units, reason, disposition in items:
        key = lines[sku].id
        fields |= {f"quantity_{key}": units, f"reason_{key}": reason, f"disposition_{key}": disposition}
    return fields


def attribute(html: str, name: str, attr: str) -> str | None:
    """An attribute of the form field named `name` in the page."""
    tag = re.search(rf'<(?:input|select)[^>]*\bname="{name}"[^>]*>', html)
    if tag is None:
        return None
    value = re.search(rf'\b{attr}="([^"]*)"', tag.group(0))
    return value.group(1) if value else None


def request_api(api, order, *items, **extra):
    answer = api.post("/api/v1/returns/", return_body(order, *items, **extra), format="json")
    assert answer.status_code == 201, answer.json()
    return Return.all_tenants.get(id=answer.json()["id"])


# --- the desk: finding what the customer brings -------------------------------------------------------------


def test_the_store_screens_lead_to_the_returns_desk(tenant, shop):
    page = member(tenant, Role.STORE_CLERK, [shop.store]).get(f"/store/{shop.store.code}/").content.decode()

    assert f'href="{desk_url(shop)}" id="returns-link"' in page


def test_an_order_number_typed_or_scanned_from_the_receipt_opens_its_return_form(tenant, shop):
    order = shipped_order(tenant, shop)
    clerk = member(tenant, Role.STORE_CLERK, [shop.store])

    answer = clerk.get(desk_url(shop), {"q": f"  {order.number.lower()} "})

    assert answer.status_code == 302 and answer["Location"] == desk_url(shop, f"orders/{order.id}/")


def test_the_customers_email_lists_their_orders(tenant, shop):
    first, second = shipped_order(tenant, shop), shipped_order(tenant, shop)
    clerk = member(tenant, Role.STORE_CLERK, [shop.store])

    page = clerk.get(desk_url(shop), {"q": "JANE.DOE@example.com"}).content.decode()

    assert "2 orders found." in page
    for order in (first, second):
        assert f'href="{desk_url(shop, f"orders/{order.id}/")}"' in page


def test_a_scanned_rma_number_opens_that_return_and_nothing_found_is_said(tenant, shop, api):
    rma = request_api(api, shipped_order(tenant, shop), (shop.a.sku, 1, "too_small"))
    clerk = member(tenant, Role.STORE_CLERK, [shop.store])

    found = clerk.get(desk_url(shop), {"q": rma.number})
    nothing = clerk.get(desk_url(shop), {"q": "NOPE-1"})

    assert found.status_code == 302 and found["Location"] == desk_url(shop, f"{rma.id}/")
    assert nothing.status_code == 200 and "No order or return matches “NOPE-1”." in nothing.content.decode()


def test_the_form_offers_what_is_left_to_return_with_the_active_reasons_in_the_page_language(tenant, shop, api):
    order = shipped_order(tenant, shop)
    request_api(api, order, (shop.a.sku, 1, "too_small"))
    ReturnReason.objects.for_tenant(tenant).filter(code="late_delivery").update(active=False)
    clerk = member(tenant, Role.STORE_CLERK, [shop.store])
    lines = lines_of(order)

    english = clerk.get(desk_url(shop, f"orders/{order.id}/")).content.decode()
    clerk.post("/i18n/setlang/", {"language": "fr", "next": "/"})
    french = clerk.get(desk_url(shop, f"orders/{order.id}/")).content.decode()

    a, b = lines[shop.a.sku].id, lines[shop.b.sku].id
    assert attribute(english, f"quantity_{a}", "max") == "1"  # 2 shipped, 1 asked back already
    assert attribute(english, f"quantity_{b}", "max") == "1"
    assert ">Too small</option>" in english and "Arrived too late" not in english
    assert ">Trop petit</option>" in french and "Retours" in french


def test_a_line_fully_asked_back_is_not_offered_again(tenant, shop, api):
    order = shipped_order(tenant, shop)
    request_api(api, order, (shop.a.sku, 2, "too_small"), (shop.b.sku, 1, "defective"))

    page = member(tenant, Role.STORE_CLERK, [shop.store]).get(desk_url(shop, f"orders/{order.id}/"))

    assert 'id="nothing-returnable"' in page.content.decode() and 'id="return-form"' not in page.content.decode()


# --- the desk: taking units back ----------------------------------------------------------------------------


def test_a_clerk_takes_a_line_back_approved_by_the_policy_and_restocked_at_the_store(tenant, shop, auto_approval):
    order = shipped_order(tenant, shop)  # bought online, shipped from a warehouse
    before = level(tenant, shop.a, shop.store).on_hand
    clerk = member(tenant, Role.STORE_CLERK, [shop.store])

    answer = clerk.post(
        desk_url(shop, f"orders/{order.id}/"), line_fields(order, (shop.a.sku, 1, "too_small", "restock"))
    )

    rma = Return.objects.for_tenant(tenant).get()
    assert answer.status_code == 302 and answer["Location"] == desk_url(shop, f"{rma.id}/")
    assert (rma.method, rma.location, rma.outcome) == ("store", shop.store, "refund")
    assert rma.auto_approved and rma.status == "refunded"  # every unit asked back came: concluded at once
    assert level(tenant, shop.a, shop.store).on_hand == before + 1
    assert ledger_discrepancies(tenant=tenant) == []
    page = clerk.get(answer["Location"]).content.decode()
    assert f'<span id="rma-number">{rma.number}</span>' in page
    assert f'href="/api/v1/returns/{rma.id}/slip.pdf"' in page
    assert f"Return {rma.number} recorded." in page and "The units are received at" in page
    assert clerk.get(f"/api/v1/returns/{rma.id}/slip.pdf").status_code == 200


def test_damaged_units_stay_out_of_sellable_stock(tenant, shop, auto_approval):
    order = shipped_order(tenant, shop)
    before = level(tenant, shop.b, shop.store)
    clerk = member(tenant, Role.STORE_CLERK, [shop.store])

    clerk.post(desk_url(shop, f"orders/{order.id}/"), line_fields(order, (shop.b.sku, 1, "defective", "damaged")))

    after = level(tenant, shop.b, shop.store)
    assert (after.on_hand, after.non_sellable) == (before.on_hand, before.non_sellable + 1)
    assert ledger_discrepancies(tenant=tenant) == []


def test_without_approval_a_clerks_return_waits_for_a_decision_and_moves_no_stock(tenant, shop):
    order = shipped_order(tenant, shop)
    before = level(tenant, shop.a, shop.store).on_hand
    clerk = member(tenant, Role.STORE_CLERK, [shop.store])

    answer = clerk.post(
        desk_url(shop, f"orders/{order.id}/"),
        line_fields(order, (shop.a.sku, 2, "changed_mind", "restock")),
        follow=True,
    )

    rma = Return.objects.for_tenant(tenant).get()
    assert rma.status == "requested" and level(tenant, shop.a, shop.store).on_hand == before
    page = answer.content.decode()
    assert "It waits for a decision" in page and 'id="awaiting-decision"' in page and 'id="receive-form"' not in page


def test_the_office_at_the_desk_approves_and_receives_at_once(tenant, shop):
    order = shipped_order(tenant, shop)
    office = member(tenant, Role.BACK_OFFICE)

    office.post(desk_url(shop, f"orders/{order.id}/"), line_fields(order, (shop.a.sku, 1, "changed_mind", "restock")))

    rma = Return.objects.for_tenant(tenant).get()
    assert not rma.auto_approved and rma.status == "refunded"
    assert [(r.quantity, r.disposition, r.location) for r in rma.receipts.all()] == [(1, "restock", shop.store)]


def test_an_approved_return_is_received_at_the_counter_when_the_customer_brings_it(tenant, shop, auto_approval):
    order = shipped_order(tenant, shop)
    clerk = member(tenant, Role.STORE_CLERK, [shop.store])
    clerk.post(desk_url(shop, f"orders/{order.id}/"), line_fields(order, (shop.a.sku, 1, "too_small", "restock")))
    manager = member(tenant, Role.MANAGER)
    waiting = Return.objects.for_tenant(tenant).get()
    update_auto_approval(tenant=tenant, actor=ACTOR, values={"enabled": False})
    second = clerk.post(
        desk_url(shop, f"orders/{order.id}/"), line_fields(order, (shop.b.sku, 1, "defective", "restock"))
    )
    rma = Return.objects.for_tenant(tenant).exclude(id=waiting.id).get()
    assert second["Location"] == desk_url(shop, f"{rma.id}/") and rma.status == "requested"
    assert manager.post(f"/returns/{rma.id}/approve/").status_code == 302

    found = clerk.get(desk_url(shop), {"q": rma.number})
    form = clerk.get(found["Location"]).content.decode()
    line = rma.lines.get()
    received = clerk.post(found["Location"], {f"quantity_{line.id}": 1, f"disposition_{line.id}": "to_vendor"})

    assert 'id="receive-form"' in form and attribute(form, f"quantity_{line.id}", "value") == "1"
    assert received.status_code == 302
    rma.refresh_from_db()
    assert rma.status == "refunded" and [r.disposition for r in rma.receipts.all()] == ["to_vendor"]
    assert level(tenant, shop.b, shop.store).non_sellable == 1


def test_an_approved_mail_return_brought_to_the_counter_is_found_by_its_number_and_received_there(tenant, shop, api):
    rma = request_api(api, shipped_order(tenant, shop), (shop.a.sku, 1, "too_small"))
    api.post(f"/api/v1/returns/{rma.id}/approve/", {}, format="json")
    before = level(tenant, shop.a, shop.store).on_hand
    office = member(tenant, Role.BACK_OFFICE)
    line = rma.lines.get()

    found = office.get(desk_url(shop), {"q": rma.number})
    received = office.post(found["Location"], {f"quantity_{line.id}": 1, f"disposition_{line.id}": "restock"})

    assert found["Location"] == desk_url(shop, f"{rma.id}/") and received.status_code == 302
    rma.refresh_from_db()
    assert rma.status == "refunded" and [r.location for r in rma.receipts.all()] == [shop.store]
    assert level(tenant, shop.a, shop.store).on_hand == before + 1


def test_a_clerk_receives_a_mail_return_brought_to_the_counter_and_it_becomes_the_stores(tenant, shop, api):
    rma = request_api(api, shipped_order(tenant, shop), (shop.a.sku, 1, "too_small"))
    api.post(f"/api/v1/returns/{rma.id}/approve/", {}, format="json")
    clerk = member(tenant, Role.STORE_CLERK, [shop.store])
    line = rma.lines.get()
    before = level(tenant, shop.a, shop.store).on_hand

    page = clerk.get(desk_url(shop, f"{rma.id}/")).content.decode()
    posted = clerk.post(desk_url(shop, f"{rma.id}/"), {f"quantity_{line.id}": 1, f"disposition_{line.id}": "restock"})

    assert rma.number in page and 'id="receive-form"' in page and "slip.pdf" in page
    assert posted.status_code == 302
    rma.refresh_from_db()
    assert rma.status == "refunded" and rma.location == shop.store
    assert level(tenant, shop.a, shop.store).on_hand == before + 1


def test_a_clerk_receives_a_mail_return_at_their_store_only(tenant, shop, api, user_client):
    other = factories.LocationFactory(tenant=tenant, code="LYO", kind="store", accepts_returns=True)
    rma = request_api(api, shipped_order(tenant, shop), (shop.a.sku, 1, "too_small"))
    api.post(f"/api/v1/returns/{rma.id}/approve/", {}, format="json")
    clerk = user_client(Role.STORE_CLERK, locations=[shop.store])
    body = {
        "location": other.code,
        "lines": [{"order_line": rma.lines.get().order_line_id, "quantity": 1, "disposition": "restock"}],
    }

    elsewhere = clerk.post(f"/api/v1/returns/{rma.id}/receive/", body, content_type="application/json")

    assert elsewhere.status_code == 404
    rma.refresh_from_db()
    assert rma.location is None and rma.status == "approved"


def test_receiving_more_than_awaited_is_refused_on_the_page(tenant, shop):
    order = shipped_order(tenant, shop)
    office = member(tenant, Role.BACK_OFFICE)
    rma = request_api(
        make_api_client(tenant), order, (shop.a.sku, 2, "too_small"), method="store", location=shop.store.code
    )
    office.post(f"/returns/{rma.id}/approve/")
    line = rma.lines.get()

    too_many = office.post(
        desk_url(shop, f"{rma.id}/"), {f"quantity_{line.id}": 3, f"disposition_{line.id}": "restock"}
    )

    assert too_many.status_code == 400 and "Ensure this value is less than or equal to 2." in too_many.content.decode()
    assert rma.receipts.count() == 0


def test_the_policy_refusal_is_said_in_the_page_language_and_nothing_is_recorded(tenant, shop):
    order = shipped_order(tenant, shop)
    deliver(tenant, order, at=timezone.now() - timedelta(days=45))
    clerk = member(tenant, Role.STORE_CLERK, [shop.store])
    fields = line_fields(order, (shop.a.sku, 1, "too_small", "restock"))

    english = clerk.post(desk_url(shop, f"orders/{order.id}/"), fields)
    clerk.post("/i18n/setlang/", {"language": "fr", "next": "/"})
    french = clerk.post(desk_url(shop, f"orders/{order.id}/"), fields)

    assert english.status_code == 409 and french.status_code == 409
    assert "The return window of 30 days has passed for this order." in english.content.decode()
    assert "Le délai de retour de 30 jours est dépassé pour cette commande." in french.content.decode()
    assert Return.objects.for_tenant(tenant).count() == 0


def test_a_product_that_cannot_be_returned_is_named(tenant, shop):
    order = shipped_order(tenant, shop)
    shop.b.returnable = False
    shop.b.save(update_fields=["returnable"])

    answer = member(tenant, Role.STORE_CLERK, [shop.store]).post(
        desk_url(shop, f"orders/{order.id}/"), line_fields(order, (shop.b.sku, 1, "defective", "restock"))
    )

    assert answer.status_code == 409
    assert f"These products cannot be returned: {shop.b.sku}." in answer.content.decode()


def test_the_form_asks_for_units_and_an_exchange_for_its_replacement(tenant, shop):
    order = shipped_order(tenant, shop)
    clerk = member(tenant, Role.STORE_CLERK, [shop.store])

    empty = clerk.post(desk_url(shop, f"orders/{order.id}/"), {"outcome": "refund"})
    exchange = clerk.post(
        desk_url(shop, f"orders/{order.id}/"),
        line_fields(order, (shop.a.sku, 1, "too_small", "restock")) | {"outcome": "exchange"},
    )

    assert empty.status_code == 400 and "Give the units the customer brings back" in empty.content.decode()
    assert (
        exchange.status_code == 400
        and "An exchange names what the customer takes instead." in exchange.content.decode()
    )
    assert Return.objects.for_tenant(tenant).count() == 0


def test_an_exchange_at_the_desk_places_its_replacement_order(tenant, shop, auto_approval):
    order = shipped_order(tenant, shop)
    clerk = member(tenant, Role.STORE_CLERK, [shop.store])
    fields = line_fields(order, (shop.a.sku, 1, "too_small", "restock"))

    answer = clerk.post(
        desk_url(shop, f"orders/{order.id}/"),
        fields | {"outcome": "exchange", "exchange_sku": shop.c.sku, "exchange_quantity": 1},
        follow=True,
    )

    rma = Return.objects.for_tenant(tenant).get()
    assert rma.exchange_order is not None and rma.status == "exchanged"
    assert f"Replacement order {rma.exchange_order.number}" in answer.content.decode()


def test_readers_see_the_desk_without_its_buttons_and_cannot_post(tenant, shop):
    order = shipped_order(tenant, shop)
    manager = member(tenant, Role.MANAGER)

    page = manager.get(desk_url(shop, f"orders/{order.id}/"))
    posted = manager.post(
        desk_url(shop, f"orders/{order.id}/"), line_fields(order, (shop.a.sku, 1, "too_small", "restock"))
    )

    assert page.status_code == 200 and 'id="return-form"' in page.content.decode()
    assert 'id="return-submit"' not in page.content.decode()
    assert posted.status_code == 403 and Return.objects.for_tenant(tenant).count() == 0


def test_a_store_that_takes_no_returns_shows_its_desk_and_takes_nothing(tenant, shop):
    order = shipped_order(tenant, shop)
    shop.store.accepts_returns = False
    shop.store.save(update_fields=["accepts_returns"])
    clerk = member(tenant, Role.STORE_CLERK, [shop.store])

    page = clerk.get(desk_url(shop)).content.decode()
    posted = clerk.post(
        desk_url(shop, f"orders/{order.id}/"), line_fields(order, (shop.a.sku, 1, "too_small", "restock"))
    )

    assert 'id="no-returns-here"' in page
    assert posted.status_code == 404 and Return.objects.for_tenant(tenant).count() == 0


def test_the_desk_lists_the_returns_made_at_this_store_only(tenant, shop, api):
    order = shipped_order(tenant, shop)
    here = request_api(api, order, (shop.a.sku, 1, "too_small"), method="store", location=shop.store.code)
    by_mail = request_api(api, order, (shop.b.sku, 1, "defective"))

    page = member(tenant, Role.STORE_CLERK, [shop.store]).get(desk_url(shop)).content.decode()

    assert f'id="recent-{here.id}"' in page and f'id="recent-{by_mail.id}"' not in page


# --- the desk: whose ids --------------------------------------------------------------------------------------


def test_a_clerk_opens_only_their_stores_desk(tenant, shop):
    other = factories.LocationFactory(tenant=tenant, code="LYO", kind="store", accepts_returns=True)
    order = shipped_order(tenant, shop)
    clerk = member(tenant, Role.STORE_CLERK, [shop.store])

    assert clerk.get(f"/store/{other.code}/returns/").status_code == 404
    assert clerk.get(f"/store/{other.code}/returns/orders/{order.id}/").status_code == 404
    assert clerk.post(f"/store/{other.code}/returns/orders/{order.id}/", {}).status_code == 404


def test_a_return_made_at_another_store_is_not_found_at_this_desk(tenant, shop, api):
    other = factories.LocationFactory(tenant=tenant, code="LYO", kind="store", accepts_returns=True)
    rma = request_api(api, shipped_order(tenant, shop), (shop.a.sku, 1, "too_small"), method="store", location="LYO")
    office = member(tenant, Role.BACK_OFFICE)

    assert office.get(desk_url(shop), {"q": rma.number}).status_code == 200  # not a redirect: not here
    assert office.get(desk_url(shop, f"{rma.id}/")).status_code == 404
    assert office.get(f"/store/{other.code}/returns/{rma.id}/").status_code == 200


def test_another_tenants_order_and_return_are_not_found_at_the_desk(tenant, shop, other_tenant):
    theirs = build_shop(other_tenant, code="ZZ")
    their_order = shipped_order(other_tenant, theirs)
    their_return = request_api(make_api_client(other_tenant), their_order, (theirs.a.sku, 1, "too_small"))
    clerk = member(tenant, Role.STORE_CLERK, [shop.store])

    assert clerk.get(desk_url(shop, f"orders/{their_order.id}/")).status_code == 404
    assert clerk.post(desk_url(shop, f"orders/{their_order.id}/"), {"outcome": "refund"}).status_code == 404
    assert clerk.get(desk_url(shop, f"{their_return.id}/")).status_code == 404
    assert "No order or return matches" in clerk.get(desk_url(shop), {"q": their_order.number}).content.decode()
    assert "No order or return matches" in clerk.get(desk_url(shop), {"q": their_return.number}).content.decode()


# --- the back office's queue ----------------------------------------------------------------------------------


def rows(page: str) -> list[int]:
    """The ids of the returns listed, in order."""
    return [int(found) for found in re.findall(r'<tr id="row-(\d+)">', page)]


@pytest.fixture
def returns_kit(tenant, shop, api):
    """Three returns: a mail one (too small), one at the store (defective, approved), an old one of another channel
    (changed mind, rejected)."""
    other = build_shop(tenant, code="MKT")
    by_mail = request_api(api, shipped_order(tenant, shop), (shop.a.sku, 1, "too_small"))
    at_store = request_api(
        api, shipped_order(tenant, shop), (shop.b.sku, 1, "defective"), method="store", location=shop.store.code
    )
    api.post(f"/api/v1/returns/{at_store.id}/approve/", {}, format="json")
    old = request_api(api, shipped_order(tenant, other), (other.a.sku, 2, "changed_mind"))
    api.post(f"/api/v1/returns/{old.id}/reject/", {"reason": "worn"}, format="json")
    Return.objects.for_tenant(tenant).filter(id=old.id).update(requested_at=timezone.now() - timedelta(days=20))
    return by_mail, at_store, old


def test_the_queue_lists_every_return_newest_first_with_its_units_and_status(tenant, returns_kit):
    by_mail, at_store, old = returns_kit

    page = member(tenant, Role.BACK_OFFICE).get("/returns/").content.decode()

    assert rows(page) == [old.id, at_store.id, by_mail.id]
    assert f'<a href="/returns/{old.id}/">{old.number}</a>' in page
    assert f'id="return-status-{old.id}">Rejected</span>' in page
    assert re.search(rf'<tr id="row-{old.id}">.*?<td class="num">2</td>', page, re.S)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "approved"}, ["at_store"]),
        ({"reason": "too_small"}, ["by_mail"]),
        ({"channel": "MKT"}, ["old"]),
        ({"location": "WEB-PAR"}, ["at_store"]),
        ({"location": "-"}, ["old", "by_mail"]),
        ({"older_than": "10"}, ["old"]),
        ({"status": "requested", "channel": "WEB"}, ["by_mail"]),
    ],
)
def test_the_queue_filters_by_status_reason_channel_location_and_age(tenant, returns_kit, query, expected):
    kit = dict(zip(("by_mail", "at_store", "old"), returns_kit, strict=True))

    page = member(tenant, Role.BACK_OFFICE).get("/returns/", query).content.decode()

    assert rows(page) == [kit[name].id for name in expected]


def test_the_queue_finds_a_return_by_its_number_or_its_orders(tenant, returns_kit):
    by_mail, _at_store, _old = returns_kit
    client = member(tenant, Role.BACK_OFFICE)

    assert rows(client.get("/returns/", {"q": by_mail.number.lower()}).content.decode()) == [by_mail.id]
    assert rows(client.get("/returns/", {"q": by_mail.order.number}).content.decode()) == [by_mail.id]


def test_the_queue_sorts_by_a_column_both_ways_and_keeps_the_filters(tenant, returns_kit):
    by_mail, at_store, old = returns_kit
    client = member(tenant, Role.BACK_OFFICE)

    oldest_first = client.get("/returns/", {"sort": "requested"}).content.decode()
    by_units = client.get("/returns/", {"sort": "-units", "channel": "WEB"}).content.decode()
    unknown = client.get("/returns/", {"sort": "tenant"}).content.decode()

    assert rows(oldest_first) == [old.id, by_mail.id, at_store.id]
    assert 'href="?sort=-requested" id="sort-requested">Requested ↑</a>' in oldest_first
    assert rows(by_units) == [at_store.id, by_mail.id]  # one unit each: the newest first
    assert 'href="?sort=units&amp;channel=WEB" id="sort-units">Units ↓</a>' in by_units
    assert rows(unknown) == [old.id, at_store.id, by_mail.id]


def test_the_queue_has_pages_of_fifty(tenant, shop, api):
    order = shipped_order(tenant, shop, lines=[{"sku": shop.a.sku, "quantity": 9, "unit_price": "1.00"}])
    for _ in range(51):
        request = request_api(api, order, (shop.a.sku, 1, "too_small"))
        api.post(f"/api/v1/returns/{request.id}/cancel/", {}, format="json")  # its unit may be asked back again
    client = member(tenant, Role.BACK_OFFICE)

    first = client.get("/returns/", {"status": "cancelled"}).content.decode()
    second = client.get("/returns/", {"status": "cancelled", "page": 2}).content.decode()

    assert len(rows(first)) == 50 and len(rows(second)) == 1
    assert "Page 1 of 2" in first and 'href="?status=cancelled&amp;page=2"' in first


def test_a_clerk_sees_the_returns_of_their_stores_only_in_the_queue(tenant, shop, returns_kit):
    _by_mail, at_store, _old = returns_kit

    page = member(tenant, Role.STORE_CLERK, [shop.store]).get("/returns/").content.decode()

    assert rows(page) == [at_store.id]


def test_the_main_navigation_offers_the_returns_to_every_member(tenant):
    for role in Role.values:
        assert 'href="/returns/"' in member(tenant, role).get("/").content.decode(), role


def test_deciders_see_the_returns_awaiting_a_decision_on_the_home_page(tenant, returns_kit):
    home = member(tenant, Role.MANAGER).get("/").content.decode()

    assert re.search(
        r'href="/returns/\?status=requested".*?<span class="tile-value">1</span>'
        r'<span class="tile-title">Returns awaiting a decision',
        home,
        re.S,
    )
    assert "Returns awaiting a decision" not in member(tenant, Role.VIEWER).get("/").content.decode()


# --- a return's page and the decisions on it -------------------------------------------------------------------


def test_a_manager_approves_a_return_from_the_queue(tenant, returns_kit):
    by_mail, _at_store, _old = returns_kit
    manager = member(tenant, Role.MANAGER)

    queue = manager.get("/returns/").content.decode()
    answer = manager.post(f"/returns/{by_mail.id}/approve/", follow=True)

    assert f'action="/returns/{by_mail.id}/approve/"' in queue
    assert f"Return {by_mail.number} approved." in answer.content.decode()
    by_mail.refresh_from_db()
    assert by_mail.status == "approved" and by_mail.decided_at is not None


def test_rejecting_needs_a_reason_and_records_it(tenant, returns_kit):
    by_mail, _at_store, _old = returns_kit
    manager = member(tenant, Role.MANAGER)

    blank = manager.post(f"/returns/{by_mail.id}/reject/", {"reason": ""}, follow=True)
    by_mail.refresh_from_db()
    assert by_mail.status == "requested" and "This field is required." in blank.content.decode()

    manager.post(f"/returns/{by_mail.id}/reject/", {"reason": "Outside the policy"})
    by_mail.refresh_from_db()
    assert (by_mail.status, by_mail.decision_reason) == ("rejected", "Outside the policy")


def test_a_step_the_status_does_not_allow_is_said_not_raised(tenant, returns_kit):
    _by_mail, _at_store, old = returns_kit

    answer = member(tenant, Role.ADMIN).post(f"/returns/{old.id}/approve/", follow=True)

    assert answer.status_code == 200 and "Not possible while the return is rejected." in answer.content.decode()


def test_the_office_cancels_and_closes_returns(tenant, returns_kit):
    by_mail, at_store, _old = returns_kit
    office = member(tenant, Role.BACK_OFFICE)

    office.post(f"/returns/{by_mail.id}/cancel/", {"reason": "customer kept it"})
    office.post(f"/returns/{at_store.id}/close/", {"reason": "never came"})

    by_mail.refresh_from_db()
    at_store.refresh_from_db()
    assert (by_mail.status, at_store.status) == ("cancelled", "closed")


@pytest.mark.parametrize(
    ("role", "step", "allowed"),
    [
        (Role.VIEWER, "approve", False),
        (Role.STORE_CLERK, "approve", False),
        (Role.MANAGER, "cancel", False),
        (Role.MANAGER, "close", False),
        (Role.VIEWER, "settle", False),
        (Role.MANAGER, "settle", False),
        (Role.BACK_OFFICE, "approve", True),
    ],
)
def test_each_step_is_refused_to_the_roles_the_matrix_does_not_let_take_it(tenant, returns_kit, role, step, allowed):
    by_mail, _at_store, _old = returns_kit

    answer = member(tenant, role).post(f"/returns/{by_mail.id}/{step}/", {"reason": "x", "refund": 1, "reference": "r"})

    assert (answer.status_code != 403) is allowed


def test_the_return_page_shows_lines_receipts_refunds_and_timeline_and_settles_a_refund(tenant, shop, auto_approval):
    order = shipped_order(tenant, shop)
    member(tenant, Role.STORE_CLERK, [shop.store]).post(
        desk_url(shop, f"orders/{order.id}/"),
        line_fields(order, (shop.a.sku, 2, "too_small", "restock")),
    )
    rma = Return.objects.for_tenant(tenant).get()
    refund = Refund.objects.for_tenant(tenant).get()
    office = member(tenant, Role.BACK_OFFICE)

    page = office.get(f"/returns/{rma.id}/").content.decode()
    settled = office.post(f"/returns/{rma.id}/settle/", {"refund": refund.id, "reference": "PSP-991"}, follow=True)

    assert f"Return {rma.number}" in page and f'href="/orders/{order.id}/"' in page
    assert re.search(rf"<td>{shop.a.sku}</td>.*?<td>Too small</td>.*?2 × Back to sellable stock", page, re.S)
    assert re.search(r'id="receipts">.*?WEB-PAR.*?Back to sellable stock', page, re.S)
    assert f'id="settle-{refund.id}"' in page and f"{refund.amount} EUR" in page
    assert all(label in page for label in ("Requested", "Approved", "Received", "Inspected", "Refunded"))
    assert f'href="/api/v1/returns/{rma.id}/slip.pdf"' in page
    refund.refresh_from_db()
    assert (refund.status, refund.payment_reference) == ("settled", "PSP-991")
    assert "Refund settled." in settled.content.decode() and "Refund settled</td>" in settled.content.decode()


def test_a_refund_of_another_return_cannot_be_settled_through_this_one(tenant, shop, auto_approval, api):
    order = shipped_order(tenant, shop)
    desk = member(tenant, Role.STORE_CLERK, [shop.store])
    desk.post(desk_url(shop, f"orders/{order.id}/"), line_fields(order, (shop.a.sku, 1, "too_small", "restock")))
    refund = Refund.objects.for_tenant(tenant).get()
    other = request_api(api, order, (shop.b.sku, 1, "defective"))

    answer = member(tenant, Role.ADMIN).post(f"/returns/{other.id}/settle/", {"refund": refund.id, "reference": "X"})

    assert answer.status_code == 404
    refund.refresh_from_db()
    assert refund.status == "pending"


def test_an_exchange_links_its_replacement_order(tenant, shop, api):
    rma = request_api(
        api,
        shipped_order(tenant, shop),
        (shop.a.sku, 1, "too_small"),
        outcome="exchange",
        exchange_lines=[{"sku": shop.c.sku, "quantity": 1}],
    )

    page = member(tenant, Role.BACK_OFFICE).get(f"/returns/{rma.id}/").content.decode()

    assert f'<a href="/orders/{rma.exchange_order_id}/" id="exchange-order">{rma.exchange_order.number}</a>' in page


def test_another_tenants_return_is_not_found_on_any_back_office_page(tenant, other_tenant, shop):
    theirs = build_shop(other_tenant, code="ZZ")
    rma = request_api(make_api_client(other_tenant), shipped_order(other_tenant, theirs), (theirs.a.sku, 1, "damaged"))
    admin = member(tenant, Role.ADMIN)

    assert admin.get(f"/returns/{rma.id}/").status_code == 404
    for step in ("approve", "reject", "cancel", "close", "settle"):
        assert (
            admin.post(f"/returns/{rma.id}/{step}/", {"reason": "x", "refund": 1, "reference": "r"}).status_code == 404
        )
    assert rows(admin.get("/returns/").content.decode()) == []
    rma.refresh_from_db()
    assert rma.status == "requested"


# --- the order's page ------------------------------------------------------------------------------------------


def test_the_order_page_lists_its_returns(tenant, shop, api):
    order = shipped_order(tenant, shop)
    first = request_api(api, order, (shop.a.sku, 2, "too_small"), (shop.b.sku, 1, "defective"))
    api.post(f"/api/v1/returns/{first.id}/cancel/", {}, format="json")
    second = request_api(api, order, (shop.a.sku, 1, "too_small"))

    page = member(tenant, Role.BACK_OFFICE).get(f"/orders/{order.id}/").content.decode()

    listed = re.findall(
        r'<tr id="order-return-(\d+)"><td><a href="/returns/\d+/">([^<]+)</a>'
        r'.*?<td class="num">(\d+)</td><td>.*?>([^<]+)</span>',
        page,
        re.S,
    )
    assert listed == [
        (str(first.id), first.number, "3", "Cancelled"),
        (str(second.id), second.number, "1", "Requested"),
    ]


def test_an_order_without_returns_says_so(tenant, shop):
    page = member(tenant, Role.BACK_OFFICE).get(f"/orders/{shipped_order(tenant, shop).id}/").content.decode()

    assert re.search(r'id="returns">.*?No return\.', page, re.S)
