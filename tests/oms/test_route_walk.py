"""The walk: every route of the URL configuration that names an object, called by one tenant with another tenant's
ids, answers 404, before any body is read, for every method it offers: the API as an integration key and as a
signed-in admin, the pages as a signed-in admin. Generated from the URL configuration: a new route that names an
object fails here until it says where its ids come from (FOREIGN_IDS), so no route is left unwalked."""

from datetime import date

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from fulfillment.models import FulfillmentOrder, Shipment
from fulfillment.services.allocation import allocate_order
from fulfillment.services.promises import add_closure
from fulfillment.services.simulation import start_simulation
from inventory import counts, transfers
from oms.actors import Actor
from oms.api.scope import Scope
from oms.invitations import invite
from oms.models import Role
from orders.models import Order
from tests import factories
from tests.conftest import make_api_client
from tests.orders.support import build_shop, order_body

pytestmark = pytest.mark.django_db

ACTOR = Actor.system("tests")
# A body that every serializer refuses, so that a route validating it before the lookup answers 400, not 404.
HOSTILE_BODY = {
    "lines": "not a list",
    "quantity": -1,
    "reason": 42,
    "status": "lost",
    "carrier": ["?"],
    "sku": {"a": 1},
    "exclude": "x",
    "policy": [],
    "version": "x",
}
# URL name → {URL keyword: what of the other tenant it names}. Every route with a keyword must be listed.
FOREIGN_IDS = {
    # API
    "api-webhook": {"pk": "webhook"},
    "api-webhook-deliveries": {"pk": "webhook"},
    "api-product": {"sku": "sku"},
    "api-location": {"code": "location_code"},
    "api-reservation": {"pk": "reservation"},
    "api-transfer": {"pk": "transfer"},
    "api-transfer-ship": {"pk": "transfer"},
    "api-transfer-receive": {"pk": "transfer"},
    "api-transfer-cancel": {"pk": "transfer"},
    "api-count": {"pk": "count"},
    "api-alert-rule": {"pk": "alert_rule"},
    "api-channel": {"code": "channel_code"},
    "api-order": {"pk": "order"},
    "api-order-cancel": {"pk": "order"},
    "api-order-hold": {"pk": "order"},
    "api-order-release": {"pk": "order"},
    "api-order-feedback": {"pk": "order"},
    "api-order-feedback-link": {"pk": "order"},
    "api-order-reroute": {"pk": "order"},
    "api-customer-orders": {"pk": "customer"},
    "api-customer-export": {"pk": "customer"},
    "api-customer-erase": {"pk": "customer"},
    "api-invoice": {"pk": "invoice"},
    "api-invoice-pdf": {"pk": "invoice"},
    "api-fulfillment": {"pk": "fulfillment"},
    "api-fulfillment-accept": {"pk": "fulfillment"},
    "api-fulfillment-pick": {"pk": "fulfillment"},
    "api-fulfillment-pack": {"pk": "fulfillment"},
    "api-fulfillment-ship": {"pk": "fulfillment"},
    "api-fulfillment-reject": {"pk": "fulfillment"},
    "api-fulfillment-ready": {"pk": "fulfillment"},
    "api-fulfillment-collect": {"pk": "fulfillment"},
    "api-fulfillment-unlock": {"pk": "fulfillment"},
    "api-shipment": {"pk": "shipment"},
    "api-shipment-events": {"pk": "shipment"},
    "api-routing-simulation": {"pk": "simulation"},
    "api-return": {"pk": "return"},
    "api-return-approve": {"pk": "return"},
    "api-return-reject": {"pk": "return"},
    "api-return-cancel": {"pk": "return"},
    "api-return-slip": {"pk": "return"},
    "api-return-receive": {"pk": "return"},
    "api-return-close": {"pk": "return"},
    "api-refund": {"pk": "refund"},
    "api-refund-settle": {"pk": "refund"},
    "api-return-reason": {"code": "return_reason"},
    # pages
    "inventory:transfer": {"pk": "transfer"},
    "inventory:count": {"pk": "count"},
    "inventory:import": {"pk": "import_job"},
    "inventory:import-progress": {"pk": "import_job"},
    "inventory:import-errors": {"pk": "import_job"},
    "inventory:alert-delete": {"pk": "alert_rule"},
    "order-detail": {"pk": "order"},
    "order-cancel": {"pk": "order"},
    "order-hold": {"pk": "order"},
    "order-release": {"pk": "order"},
    "order-address": {"pk": "order"},
    "order-pickup": {"pk": "order"},
    "customer-detail": {"pk": "customer"},
    "customer-export": {"pk": "customer"},
    "customer-erase": {"pk": "customer"},
    "invoice-html": {"pk": "invoice"},
    "invoice-pdf": {"pk": "invoice"},
    "fulfillment-detail": {"pk": "fulfillment"},
    "fulfillment-pick-list": {"pk": "fulfillment"},
    "fulfillment-packing-slip": {"pk": "fulfillment"},
    "fulfillment-step": {"pk": "fulfillment", "step": "accept"},
    "shipment-detail": {"pk": "shipment"},
    "order-reroute": {"pk": "order"},
    "store-queue": {"code": "store_code"},
    "store-sale": {"code": "store_code"},
    "store-accept": {"pk": "fulfillment"},
    "store-pick": {"pk": "fulfillment"},
    "store-scan": {"pk": "fulfillment"},
    "store-pack": {"pk": "fulfillment"},
    "store-label": {"pk": "fulfillment"},
    "store-ship": {"pk": "fulfillment"},
    "store-reject": {"pk": "fulfillment"},
    "store-handover": {"code": "store_code"},
    "store-ready": {"pk": "fulfillment"},
    "store-collect": {"pk": "fulfillment"},
    "store-unlock": {"pk": "fulfillment"},
    "store-returns": {"code": "store_code"},
    "store-return-new": {"code": "store_code", "pk": "order"},
    "store-return": {"code": "store_code", "pk": "return"},
    "return-detail": {"pk": "return"},
    "return-approve": {"pk": "return"},
    "return-reject": {"pk": "return"},
    "return-cancel": {"pk": "return"},
    "return-close": {"pk": "return"},
    "return-settle": {"pk": "return"},
    "routing-simulation": {"pk": "simulation"},
    "routing-simulation-progress": {"pk": "simulation"},
    "closure-delete": {"pk": "closure"},
    "reports-store": {"code": "location_code"},
    "invitation-resend": {"pk": "invitation"},
    "invitation-revoke": {"pk": "invitation"},
    # A link's token names an invitation of any tenant (it is what tells the tenant): one that names nothing is a 404.
    "invitation-accept": {"token": "no-such-invitation-token"},
    # A feedback link's token is signed and names its tenant and order: one not signed here is a 404.
    "feedback-page": {"token": "no-such-feedback-token"},
}
# Routes that name something other than a tenant's object, and why they are not walked here.
NOT_WALKED = {
    "demo-webhooks-receive": "the demo's own webhook receiver, addressed by tenant slug and authenticated by signature",
}
API_METHODS = ("get", "post", "put", "patch", "delete")


def _walk(patterns, prefix="", namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), f"{namespace}{entry.name}" if entry.name else "", entry


def _keywords(route: str) -> list[str]:
    """The keywords of a route written with converters (`<int:pk>`)."""
    names = []
    for part in route.split("<")[1:]:
        names.append(part.split(">")[0].split(":")[-1])
    return names


def _object_routes():
    """(route, name, view) of every route outside the Django admin whose URL names something."""
    for route, name, pattern in _walk(get_resolver().url_patterns):
        if route.startswith("admin/") or not _keywords(route):
            continue
        yield route, name, pattern.callback


def _url(route: str, name: str, objects: dict) -> str:
    url = "/" + route
    for keyword, source in FOREIGN_IDS[name].items():
        value = objects.get(source, source)  # a source that is not an object is the value itself (a step)
        url = url.replace(f"<int:{keyword}>", str(value)).replace(f"<str:{keyword}>", str(value))
        url = url.replace(f"<slug:{keyword}>", str(value)).replace(f"<path:{keyword}>", str(value))
    return url


def _api_methods(view) -> list[str]:
    view_class = getattr(view, "view_class", None) or getattr(view, "cls", None)
    return [method for method in API_METHODS if view_class is not None and hasattr(view_class, method)]


@pytest.fixture
def foreign(other_tenant):
    """One of everything in the other tenant, made the way its users make them."""
    return _objects(other_tenant, code="ZZ")


def _objects(tenant, code="WEB") -> dict:
    shop = build_shop(tenant, code=code)
    api = make_api_client(tenant)
    order_id = api.post("/api/v1/orders/", order_body(shop), format="json").json()["id"]
    allocate_order(tenant=tenant, order_id=order_id)
    fulfillment = FulfillmentOrder.objects.for_tenant(tenant).get(order_id=order_id)
    for step in ("accept", "pick", "pack"):
        api.post(f"/api/v1/fulfillments/{fulfillment.id}/{step}/", {}, format="json")
    api.post(f"/api/v1/fulfillments/{fulfillment.id}/ship/", {"carrier": "dpd"}, format="json")
    order = Order.all_tenants.get(id=order_id)
    line = order.lines.order_by("id").first()
    rma = api.post(
        "/api/v1/returns/",
        {"order": order_id, "method": "mail", "lines": [{"order_line": line.id, "quantity": 1, "reason": "damaged"}]},
        format="json",
    )
    assert rma.status_code == 201, rma.json()
    shop.wh1.accepts_returns = True
    shop.wh1.save(update_fields=["accepts_returns"])
    refunded = api.post(
        "/api/v1/returns/",
        {"order": order_id, "method": "mail", "lines": [{"order_line": line.id, "quantity": 1, "reason": "defective"}]},
        format="json",
    ).json()
    api.post(f"/api/v1/returns/{refunded['id']}/approve/", {}, format="json")
    received = api.post(
        f"/api/v1/returns/{refunded['id']}/receive/",
        {"location": shop.wh1.code, "lines": [{"order_line": line.id, "quantity": 1, "disposition": "restock"}]},
        format="json",
    )
    assert received.status_code == 200, received.json()
    reason_body = {"code": f"own-{code.lower()}", "label_en": "Own", "label_fr": "Propre"}
    reason = api.post("/api/v1/return-reasons/", reason_body, format="json")
    assert reason.status_code == 201, reason.json()
    reservation = api.post(
        "/api/v1/reservations/", {"sku": shop.c.sku, "quantity": 1, "channel": shop.channel.code}, format="json"
    )
    assert reservation.status_code == 201, reservation.json()
    transfer = transfers.create_transfer(
        tenant=tenant, actor=ACTOR, source=shop.wh1.code, destination=shop.store.code, lines=[(shop.a.sku, 1)]
    )
    count = counts.start_count(tenant=tenant, actor=ACTOR, location=shop.wh2.code)
    simulation = start_simulation(
        scope=Scope(tenant=tenant, actor=ACTOR, role=Role.MANAGER),
        draft={},
        date_from=date.today(),
        date_to=date.today(),
    )
    return {
        "order": order_id,
        "customer": order.customer_id,
        "fulfillment": fulfillment.id,
        "shipment": Shipment.objects.for_tenant(tenant).get().id,
        "reservation": reservation.json()["id"],
        "transfer": transfer.id,
        "count": count.id,
        "simulation": simulation.id,
        "return": rma.json()["id"],
        "refund": received.json()["refunds"][0]["id"],
        "return_reason": reason.json()["code"],
        "closure": add_closure(
            tenant=tenant, location=shop.wh1, starts_on=date.today(), ends_on=date.today(), reason="inventory"
        ).id,
        "invitation": invite(
            tenant=tenant, email=f"invited@{tenant.slug}.test", role=Role.VIEWER, stores=[], actor=ACTOR
        ).invitation.id,
        "webhook": factories.WebhookSubscriptionFactory(tenant=tenant).id,
        "alert_rule": factories.StockAlertRuleFactory(tenant=tenant, product=shop.a, location=shop.wh1).id,
        "import_job": factories.StockImportJobFactory(tenant=tenant).id,
        "sku": shop.a.sku,
        "location_code": shop.wh1.code,
        "store_code": shop.store.code,
        "channel_code": shop.channel.code,
        "invoice": _invoice(tenant, order),
        "channel": shop.channel,
        "store": shop.store,
    }


def _invoice(tenant, order) -> int:
    """The order's invoice: issued at shipment, or issued here for what shipped."""
    from django.db import transaction

    from orders.invoicing import issue_invoice
    from orders.models import Invoice

    issued = Invoice.objects.for_tenant(tenant).filter(order=order).first()
    if issued is not None:
        return issued.id
    with transaction.atomic():
        lines = {line: line.quantity_shipped for line in order.lines.all() if line.quantity_shipped}
        return issue_invoice(tenant=tenant, order=order, quantities=lines, actor=ACTOR).id


def test_every_route_that_names_something_is_walked():
    missing = sorted(
        name or route for route, name, _view in _object_routes() if name not in FOREIGN_IDS and name not in NOT_WALKED
    )
    assert missing == [], f"say in FOREIGN_IDS what these routes name: {missing}"
    stale = sorted(set(FOREIGN_IDS) - {name for _route, name, _view in _object_routes()})
    assert stale == [], f"no such routes any more: {stale}"


def test_another_tenants_ids_are_404_on_every_api_route_for_a_key_and_a_signed_in_admin(foreign, tenant, user_client):
    callers = {"integration key": make_api_client(tenant), "admin session": user_client(Role.ADMIN)}
    walked, wrong = 0, []
    for route, name, view in _object_routes():
        if not route.startswith("api/") or name in NOT_WALKED:
            continue
        url = _url(route, name, foreign)
        for method in _api_methods(view):
            for who, client in callers.items():
                call = getattr(client, method)
                answer = call(url) if method == "get" else call(url, HOSTILE_BODY, content_type="application/json")
                walked += 1
                if answer.status_code != 404:
                    wrong.append((who, method.upper(), url, answer.status_code))
    assert walked > 50
    assert wrong == [], "\n".join(map(str, wrong))


def test_another_tenants_ids_are_404_on_every_page_for_a_signed_in_admin(foreign, tenant, user_client):
    admin = user_client(Role.ADMIN)
    walked, wrong = 0, []
    for route, name, _view in _object_routes():
        if route.startswith("api/") or name in NOT_WALKED:
            continue
        url = _url(route, name, foreign)
        answers = {"GET": admin.get(url), "POST": admin.post(url, {"action": "ship", "reason": "x"})}
        offered = {method: answer for method, answer in answers.items() if answer.status_code != 405}
        walked += 1
        if not offered or any(answer.status_code != 404 for answer in offered.values()):
            wrong.append((url, {method: answer.status_code for method, answer in answers.items()}))
    assert walked > 15
    assert wrong == [], "\n".join(map(str, wrong))


# --- the role matrix ----------------------------------------------------------------------------------------


@pytest.fixture
def own(tenant):
    """One of everything in the caller's own tenant (the same kit as `foreign`)."""
    return _objects(tenant)


def _members(tenant, store):
    from django.test import Client

    from oms.services import set_membership

    clients = {}
    for role in (Role.ADMIN, Role.BACK_OFFICE, Role.MANAGER, Role.STORE_CLERK, Role.VIEWER):
        user = factories.UserFactory()
        stores = [store] if role == Role.STORE_CLERK else []
        set_membership(tenant=tenant, user=user, role=role, locations=stores, actor=ACTOR)
        client = Client()
        client.force_login(user)
        clients[role.value] = client
    return clients


def test_every_api_view_names_its_part_of_the_role_matrix():
    from oms.access import MATRIX

    unnamed = []
    for route, name, pattern in _walk(get_resolver().url_patterns):
        view_class = getattr(pattern.callback, "view_class", None) or getattr(pattern.callback, "cls", None)
        if not route.startswith("api/") or view_class is None or name in ("api-schema", "api-docs"):
            continue
        if getattr(view_class, "access", None) not in MATRIX:
            unnamed.append(name)
    assert unnamed == []


def test_every_api_route_answers_every_caller_as_the_role_matrix_says(own, tenant):
    from rest_framework.test import APIClient

    from oms.access import ANONYMOUS, CHANNEL, INTEGRATION, MATRIX

    callers = {
        **_members(tenant, own["store"]),
        INTEGRATION: make_api_client(tenant),
        CHANNEL: make_api_client(tenant, channel=own["channel"]),
        ANONYMOUS: APIClient(),
    }
    walked, wrong = 0, []
    for route, name, pattern in _walk(get_resolver().url_patterns):
        view_class = getattr(pattern.callback, "view_class", None) or getattr(pattern.callback, "cls", None)
        if not route.startswith("api/v1/") or name in ("api-schema", "api-docs") or view_class is None:
            continue
        rule = MATRIX[view_class.access]
        url = _url(route, name, own) if _keywords(route) else "/" + route
        for method in _api_methods(pattern.callback):
            for caller, client in callers.items():
                call = getattr(client, method)
                answer = call(url) if method == "get" else call(url, HOSTILE_BODY, content_type="application/json")
                walked += 1
                allowed = rule.allows(caller, reading=method == "get")
                expected = "not 401/403" if allowed else (401 if caller == ANONYMOUS else 403)
                ok = answer.status_code not in (401, 403) if allowed else answer.status_code == expected
                if not ok or answer.status_code >= 500:
                    wrong.append((caller, method.upper(), url, answer.status_code, expected))
    assert walked > 400
    assert wrong == [], "\n".join(map(str, wrong))


def test_docs_roles_shows_the_matrix_the_code_enforces():
    from pathlib import Path

    from oms.access import matrix_table

    page = (Path(__file__).resolve().parents[2] / "docs" / "roles.md").read_text()
    assert matrix_table() in page


# Pages anyone may open, and why they name no part of the matrix.
PUBLIC_PAGES = {
    "healthz": "liveness probe",
    "readyz": "readiness probe",
    "login": "signing in",
    "logout": "signing out",
    "switch-tenant": "a member choosing among their own tenants (checked against their memberships)",
    "set_language": "choosing English or French",
    "javascript-catalog": "the French catalogue for the pages' scripts",
    "demo-webhooks-receive": "the demo's webhook receiver, authenticated by signature",
    "invitation-accept": "accepting an invitation, reached from its e-mail: the token in the link is the key",
    "feedback-page": "a customer rating their order, reached from the link the shop sent them: the signed token is "
    "the key",
    "": "the API's catch-all 404",
}


# Pages that exist only while the demo runs (`make demo`): a 404 for everyone here.
DEMO_PAGES = {"demo-webhooks"}


def _pages():
    for route, name, pattern in _walk(get_resolver().url_patterns):
        if route.startswith(("admin/", "api/", "^api/")):
            continue
        yield route, name, pattern.callback


def test_every_page_names_its_part_of_the_role_matrix_or_is_public():
    from oms.access import MATRIX

    unnamed = [
        name or route
        for route, name, view in _pages()
        if name not in PUBLIC_PAGES and getattr(view, "access", (None,))[0] not in MATRIX
    ]
    assert unnamed == []


def test_every_page_answers_every_role_as_the_role_matrix_says(own, tenant):
    from django.test import Client

    from oms.permissions import page_roles

    members = _members(tenant, own["store"])
    walked, wrong = 0, []
    for route, name, view in _pages():
        if name in PUBLIC_PAGES:
            continue
        part, write = view.access
        allowed = page_roles(part, write=write)
        url = _url(route, name, own) if _keywords(route) else "/" + route
        for role, client in [*members.items(), ("anonymous", Client())]:
            answer = client.get(url)
            if answer.status_code == 405:  # a page that only acts: ask it to act, with nothing filled in
                answer = client.post(url, {})
            walked += 1
            if name in DEMO_PAGES:
                ok = answer.status_code == 404
            elif role == "anonymous":
                ok = answer.status_code == 302 and "/login/" in answer["Location"]
            elif role in allowed:
                ok = answer.status_code not in (401, 403) and answer.status_code < 500
            else:
                ok = answer.status_code == 403
            if not ok:
                wrong.append((role, url, answer.status_code, sorted(allowed)))
    assert walked > 150
    assert wrong == [], "\n".join(map(str, wrong))
