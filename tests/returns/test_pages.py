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
