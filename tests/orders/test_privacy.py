"""A customer's personal data (GDPR): the export holds everything OMS keeps about them and nothing of anyone else;
the erasure leaves no copy of their name, e-mail, phone or addresses anywhere but on the issued invoices, and
changes nothing about the sales; both are the tenant admin's, audited without personal data."""

import json
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import Sum

from fulfillment.models import FulfillmentOrder, Shipment
from fulfillment.services.allocation import allocate_order
from inventory.models import StockLevel, StockMovement
from oms import audit
from oms.actors import Actor
from oms.models import AuditEntry, DemoReceivedWebhook, OutboxEvent, Role, WebhookAttempt, WebhookDelivery
from orders.models import Customer, Invoice, Order
from tests import factories
from tests.conftest import make_api_client
from tests.orders.support import build_shop, order_body

pytestmark = pytest.mark.django_db

JANE = {"email": "jane.doe@example.com", "name": "Jane Doe", "phone": "+33611223344"}
FIRST_STREET, NEW_STREET = "12 rue des Lilas", "8 avenue Foch"
# What must be gone after erasure, everywhere but on the invoices.
JANES_DATA = (JANE["email"], JANE["name"], JANE["phone"], FIRST_STREET, NEW_STREET)


def _address(line1: str) -> dict:
    return {"name": JANE["name"], "line1": line1, "postal_code": "75016", "city": "Paris", "country": "FR"}


def _place(api, shop, customer=None, address=None, **headers):
    body = order_body(shop, customer=customer or JANE)
    body["delivery"]["address"] = address or _address(FIRST_STREET)
    answer = api.post("/api/v1/orders/", body, format="json", **headers)
    assert answer.status_code == 201, answer.json()
    return answer.json()


def _ship_and_deliver(tenant, api, order_id: int, detail: str) -> None:
    allocate_order(tenant=tenant, order_id=order_id)
    for fulfillment in FulfillmentOrder.objects.for_tenant(tenant).filter(order_id=order_id):
        for step in ("accept", "pick", "pack"):
            assert api.post(f"/api/v1/fulfillments/{fulfillment.id}/{step}/", {}, format="json").status_code == 200
        shipped = api.post(f"/api/v1/fulfillments/{fulfillment.id}/ship/", {"carrier": "dpd"}, format="json")
        assert shipped.status_code == 201, shipped.json()
    for shipment in Shipment.objects.for_tenant(tenant).filter(order_id=order_id):
        tracked = api.post(
            f"/api/v1/shipments/{shipment.id}/events/", {"status": "delivered", "detail": detail}, format="json"
        )
        assert tracked.status_code == 201, tracked.json()


def _history(tenant, shop, api) -> SimpleNamespace:
    """Jane's life as a customer, leaving her data wherever OMS keeps copies: an order placed with an
    Idempotency-Key, held with a note naming her, its address changed, shipped, invoiced, delivered into her hands,
    rated with a comment signed with her name; a second order cancelled; a cart hold named after her; a webhook
    delivery and the demo inbox; an audit entry and an admin log entry about her record."""
    placed = _place(api, shop, HTTP_IDEMPOTENCY_KEY="jane-1")
    order_id = placed["id"]
    held = api.post(
        f"/api/v1/orders/{order_id}/hold/",
        {"reason": f"Call {JANE['name']} on {JANE['phone']}"},
        format="json",
    )
    assert held.status_code == 200, held.json()
    assert api.post(f"/api/v1/orders/{order_id}/release/", {"note": "Confirmed"}, format="json").status_code == 200
    edited = api.patch(
        f"/api/v1/orders/{order_id}/",
        {"delivery": {"address": _address(NEW_STREET)}, "reason": f"Moved from {FIRST_STREET}"},
        format="json",
        HTTP_IF_MATCH="*",
    )
    assert edited.status_code == 200, edited.json()
    _ship_and_deliver(tenant, api, order_id, detail=f"Handed to {JANE['name']}")
    rated = api.post(
        f"/api/v1/orders/{order_id}/feedback/", {"score": 4, "comment": f"{JANE['name']}: all good"}, format="json"
    )
    assert rated.status_code == 201, rated.json()
    cancelled = _place(api, shop)
    answer = api.post(f"/api/v1/orders/{cancelled['id']}/cancel/", {"reason": "Changed her mind"}, format="json")
    assert answer.status_code == 200, answer.json()
    hold = api.post(
        "/api/v1/reservations/",
        {"sku": shop.c.sku, "quantity": 1, "channel": shop.channel.code, "reference": f"cart of {JANE['email']}"},
        format="json",
    )
    assert hold.status_code == 201, hold.json()

    customer = Customer.objects.for_tenant(tenant).get(email=JANE["email"])
    on_hold = OutboxEvent.objects.for_tenant(tenant).get(topic="order.on_hold", payload__order_id=order_id)
    subscription = factories.WebhookSubscriptionFactory(tenant=tenant, events=["*"])
    delivery = WebhookDelivery.objects.create(tenant=tenant, subscription=subscription, event=on_hold, attempts=1)
    WebhookAttempt.objects.create(
        tenant=tenant, delivery=delivery, number=1, status_code=500, response_excerpt=f"no slot for {JANE['name']}"
    )
    DemoReceivedWebhook.objects.create(
        tenant=tenant,
        topic="order.on_hold",
        event_id=str(on_hold.event_id),
        answered=200,
        body=json.dumps({"data": on_hold.payload}),
    )
    actor = Actor.system("back office")
    audit.record(tenant=tenant, actor=actor, action="customer.changed", obj=customer, changes={"phone": JANE["phone"]})
    LogEntry.objects.create(
        user=factories.UserFactory(),
        content_type=ContentType.objects.get_for_model(Customer),
        object_id=str(customer.id),
        object_repr=str(customer),
        action_flag=CHANGE,
        change_message=json.dumps([{"changed": {"fields": ["Phone"]}}]),
    )
    return SimpleNamespace(customer=customer, order_id=order_id, cancelled_id=cancelled["id"])


@pytest.fixture
def jane(tenant, shop, api):
    return _history(tenant, shop, api)


@pytest.fixture
def bob(tenant, shop, api):
    """Another customer of the same tenant."""
    placed = _place(
        api,
        shop,
        customer={"email": "bob@example.net", "name": "Bob Martin", "phone": "+33700000000"},
        address={"line1": "3 quai Bob", "postal_code": "69001", "city": "Lyon", "country": "FR"},
    )
    return Order.objects.for_tenant(tenant).get(id=placed["id"])


@pytest.fixture
def jane_elsewhere(other_tenant):
    """The same person, customer of another merchant: none of it is theirs to export or erase here."""
    shop = build_shop(other_tenant, code="ZZ")
    placed = _place(make_api_client(other_tenant), shop)
    return Order.all_tenants.get(id=placed["id"])


@pytest.fixture
def admin(user_client):
    return user_client(Role.ADMIN)


def _rows_naming(value: str, tenant) -> list[str]:
    """Every row of the database (the tenant's, and those of the tables without a tenant) whose text holds `value`,
    as `table#id`, invoices excepted: the whole row is searched, every column and JSON value."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            if table in (Invoice._meta.db_table,):
                continue
            columns = {column.name for column in connection.introspection.get_table_description(cursor, table)}
            where = "t::text ILIKE %s" + (" AND t.tenant_id = %s" if "tenant_id" in columns else "")
            params = [f"%{value}%"] + ([tenant.id] if "tenant_id" in columns else [])
            key = "id" if "id" in columns else "1"
            cursor.execute(f'SELECT {key} FROM "{table}" AS t WHERE {where}', params)  # noqa: S608 - introspected
            found.extend(f"{table}#{row[0]}" for row in cursor.fetchall())
    return found


# --- export ------------------------------------------------------------------------------------------------------


def test_export_holds_every_kind_of_data_oms_keeps_about_the_customer(jane, admin):
    answer = admin.get(f"/api/v1/customers/{jane.customer.id}/export/")

    assert answer.status_code == 200
    assert answer["Content-Disposition"] == f'attachment; filename="customer-{jane.customer.id}-personal-data.json"'
    document = answer.json()
    assert document["customer"] | JANE == document["customer"]
    orders = {order["id"]: order for order in document["orders"]}
    assert set(orders) == {jane.order_id, jane.cancelled_id}
    delivered = orders[jane.order_id]
    assert delivered["status"] == "delivered"
    assert delivered["delivery"]["address"]["line1"] == NEW_STREET
    assert delivered["lines"][0]["unit_price"] == "10.00"
    kinds = [event["kind"] for event in delivered["timeline"]]
    assert {"placed", "hold", "hold_released", "edited", "shipped", "invoice_issued", "delivered"} <= set(kinds)
    edit = next(event for event in delivered["timeline"] if event["kind"] == "edited")
    assert edit["before"]["changes"]["address"]["line1"] == FIRST_STREET
    assert delivered["fulfillments"][0]["status"] == "shipped"
    assert orders[jane.cancelled_id]["status"] == "cancelled"
    [invoice] = document["invoices"]
    assert invoice["buyer"]["name"] == JANE["name"] and invoice["buyer"]["address"]["line1"] == NEW_STREET
    assert invoice["total"] == str(Invoice.objects.for_tenant(jane.customer.tenant).get(order_id=jane.order_id).total)
    [feedback] = document["feedback"]
    assert feedback | {"order_number": delivered["number"], "score": 4, "source": "api"} == feedback
    assert feedback["comment"] == f"{JANE['name']}: all good" and feedback["created_at"]
    [shipment] = document["shipments"]
    assert shipment["carrier"] == "dpd" and shipment["tracking"][0]["detail"] == f"Handed to {JANE['name']}"
    assert any(hold["reference"] == f"cart of {JANE['email']}" for hold in document["reservations"])
    assert any(hold["order_line"] for hold in document["reservations"])
    topics = {event["topic"] for event in document["events"]}
    assert {"order.placed", "order.on_hold", "order.cancelled", "invoice.issued"} <= topics
    on_hold = next(event for event in document["events"] if event["topic"] == "order.on_hold")
    assert JANE["phone"] in on_hold["payload"]["reason"] and on_hold["deliveries"][0]["attempts"] == 1
    # Audit entries about the customer and about their orders (held, released, cancelled by staff).
    actions = sorted(entry["action"] for entry in document["audit"])
    assert actions == ["customer.changed", "order.cancelled", "order.held", "order.hold_released"]
    assert document["admin_log"][0]["object"] == JANE["email"]
    assert [answer["path"] for answer in document["stored_answers"]] == ["/api/v1/orders/"]
    assert document["stored_answers"][0]["body"]["customer"]["email"] == JANE["email"]


def test_export_holds_nothing_of_another_customer_or_tenant(jane, bob, jane_elsewhere, admin):
    text = json.dumps(admin.get(f"/api/v1/customers/{jane.customer.id}/export/").json())

    for foreign in (
        "bob@example.net",
        "Bob Martin",
        "3 quai Bob",
        bob.number,
        bob.external_ref,
        jane_elsewhere.external_ref,
    ):
        assert foreign not in text


def test_export_is_audited_without_personal_data(jane, admin):
    admin.get(f"/api/v1/customers/{jane.customer.id}/export/")

    entry = AuditEntry.objects.for_tenant(jane.customer.tenant).get(action="customer.exported")
    assert (entry.object_type, entry.object_id, entry.user) == ("orders.customer", str(jane.customer.id), admin.user)
    recorded = json.dumps([entry.object_repr, entry.changes, entry.actor_label])
    assert not [value for value in JANES_DATA if value.lower() in recorded.lower()]
    assert entry.changes == {"orders": 2, "invoices": 1}


# --- erasure -----------------------------------------------------------------------------------------------------


def _sales(tenant) -> dict:
    orders = Order.objects.for_tenant(tenant)
    return {
        "orders": list(orders.order_by("id").values_list("id", "number", "status", "total", "customer_id")),
        "lines": list(
            orders.values_list("lines__id", "lines__status", "lines__quantity", "lines__total").order_by("lines__id")
        ),
        "invoices": list(Invoice.objects.for_tenant(tenant).values_list("id", "number", "total", "buyer")),
        "stock": list(StockLevel.objects.for_tenant(tenant).order_by("id").values_list("id", "on_hand", "reserved")),
        "movements": StockMovement.objects.for_tenant(tenant).aggregate(n=Sum("quantity"))["n"],
        "movement_count": StockMovement.objects.for_tenant(tenant).count(),
    }


def test_erasure_leaves_no_copy_of_the_personal_data_but_the_invoices(jane, bob, jane_elsewhere, admin, tenant):
    assert all(_rows_naming(value, tenant) for value in JANES_DATA)  # the search finds them before

    answer = admin.post(f"/api/v1/customers/{jane.customer.id}/erase/")

    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert body["name"].startswith("Erased customer ") and body["email"].startswith("erased-")
    assert body["email"].endswith("@invalid") and body["phone"] == ""
    assert body["erased_at"] and body["erased_by"] == admin.user.email
    left = {value: _rows_naming(value, tenant) for value in JANES_DATA}
    assert left == {value: [] for value in JANES_DATA}
    order = Order.objects.for_tenant(tenant).get(id=jane.order_id)
    assert order.shipping_address == {"country": "FR"}
    hold = OutboxEvent.objects.for_tenant(tenant).get(topic="order.on_hold", payload__order_id=jane.order_id)
    assert hold.payload["reason"] == "Call " + body["name"] + " on [erased]"
    # Another customer, and the same person at another merchant, keep theirs.
    assert _rows_naming("Bob Martin", tenant) and _rows_naming("3 quai Bob", tenant)
    assert Order.all_tenants.get(id=jane_elsewhere.id).shipping_address["line1"] == FIRST_STREET
    assert Customer.all_tenants.get(id=jane_elsewhere.customer_id).email == JANE["email"]


def test_erasure_keeps_the_invoices_legal_buyer_identity(jane, admin, tenant):
    admin.post(f"/api/v1/customers/{jane.customer.id}/erase/")

    invoice = Invoice.objects.for_tenant(tenant).get(order_id=jane.order_id)
    assert invoice.buyer["name"] == JANE["name"] and invoice.buyer["email"] == JANE["email"]
    assert invoice.buyer["address"]["line1"] == NEW_STREET
    assert admin.get(f"/orders/invoices/{invoice.id}/").content.decode().count(NEW_STREET) >= 1


def test_erasure_changes_nothing_about_the_sales_nor_the_stock(jane, bob, admin, tenant):
    before = _sales(tenant)

    assert admin.post(f"/api/v1/customers/{jane.customer.id}/erase/").status_code == 200

    assert _sales(tenant) == before
    assert Order.objects.for_tenant(tenant).filter(customer=jane.customer).count() == 2
    assert Order.objects.for_tenant(tenant).aggregate(t=Sum("total"))["t"] > Decimal("0")


def test_erasure_is_audited_without_personal_data(jane, admin, tenant):
    body = admin.post(f"/api/v1/customers/{jane.customer.id}/erase/").json()

    entry = AuditEntry.objects.for_tenant(tenant).get(action="customer.erased")
    assert (entry.object_type, entry.object_id, entry.object_repr) == ("orders.customer", str(body["id"]), body["name"])
    assert entry.user == admin.user and entry.changes["orders"] == 2
    recorded = json.dumps([entry.object_repr, entry.changes])
    assert not [value for value in JANES_DATA if value.lower() in recorded.lower()]
    earlier = AuditEntry.objects.for_tenant(tenant).get(action="customer.changed")
    assert earlier.object_repr == body["email"] and earlier.changes == {"phone": "[erased]"}


def test_erasing_twice_answers_the_same_state_and_changes_nothing(jane, admin, tenant):
    first = admin.post(f"/api/v1/customers/{jane.customer.id}/erase/")
    second = admin.post(f"/api/v1/customers/{jane.customer.id}/erase/")

    assert second.status_code == 200
    assert second.json() == first.json()
    assert AuditEntry.objects.for_tenant(tenant).filter(action="customer.erased").count() == 1


def test_a_customer_with_an_order_still_to_deliver_cannot_be_erased(tenant, shop, api, admin):
    placed = _place(api, shop)
    customer_id = Order.objects.for_tenant(tenant).get(id=placed["id"]).customer_id

    answer = admin.post(f"/api/v1/customers/{customer_id}/erase/")

    assert answer.status_code == 409
    assert answer.json()["code"] == "orders_in_progress" and answer.json()["orders"] == [placed["number"]]
    customer = Customer.objects.for_tenant(tenant).get(id=customer_id)
    assert (customer.email, customer.erased_at) == (JANE["email"], None)
    assert Order.objects.for_tenant(tenant).get(id=placed["id"]).shipping_address["line1"] == FIRST_STREET
    assert not AuditEntry.objects.for_tenant(tenant).filter(action="customer.erased").exists()


def test_a_new_order_with_the_erased_e_mail_makes_a_new_customer(jane, admin, api, shop, tenant):
    erased = admin.post(f"/api/v1/customers/{jane.customer.id}/erase/").json()

    placed = _place(api, shop)

    customer = Order.objects.for_tenant(tenant).get(id=placed["id"]).customer
    assert customer.id != jane.customer.id and customer.email == JANE["email"] and customer.erased_at is None
    again = Customer.objects.for_tenant(tenant).get(id=jane.customer.id)
    assert (again.name, again.email, again.phone) == (erased["name"], erased["email"], "")


def test_an_order_naming_the_pseudonym_is_refused(jane, admin, api, shop, tenant):
    from oms.errors import ValidationFailed
    from orders import services

    erased = admin.post(f"/api/v1/customers/{jane.customer.id}/erase/").json()

    with pytest.raises(ValidationFailed):
        services.match_customer(tenant=tenant, email=erased["email"], name="Somebody", phone="+33699999999")
    assert Customer.objects.for_tenant(tenant).get(id=jane.customer.id).phone == ""


def test_the_admin_site_gives_an_erased_customer_no_personal_data_back(jane, admin, tenant):
    erased = admin.post(f"/api/v1/customers/{jane.customer.id}/erase/").json()

    admin.post(f"/admin/orders/customer/{jane.customer.id}/change/", {"name": JANE["name"], "phone": JANE["phone"]})

    customer = Customer.objects.for_tenant(tenant).get(id=jane.customer.id)
    assert (customer.name, customer.phone, customer.erased_at is not None) == (erased["name"], "", True)


# --- who may ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.BACK_OFFICE, Role.MANAGER, Role.STORE_CLERK, Role.VIEWER])
def test_only_the_tenant_admin_may_export_or_erase(jane, user_client, role):
    client = user_client(role)

    assert client.get(f"/api/v1/customers/{jane.customer.id}/export/").status_code == 403
    assert client.post(f"/api/v1/customers/{jane.customer.id}/erase/").status_code == 403
    assert Customer.all_tenants.get(id=jane.customer.id).erased_at is None


def test_api_keys_may_neither_export_nor_erase(jane, tenant, shop, api):
    for client in (api, make_api_client(tenant, channel=shop.channel)):
        assert client.get(f"/api/v1/customers/{jane.customer.id}/export/").status_code == 403
        assert client.post(f"/api/v1/customers/{jane.customer.id}/erase/").status_code == 403
    assert Customer.all_tenants.get(id=jane.customer.id).erased_at is None


def test_another_tenants_customer_is_not_found_for_anyone(jane_elsewhere, admin, api):
    for client in (admin, api):
        for call in (client.get, client.post):
            for action in ("export", "erase"):
                answer = call(f"/api/v1/customers/{jane_elsewhere.customer_id}/{action}/")
                assert answer.status_code == 404, (action, answer.status_code)
    assert Customer.all_tenants.get(id=jane_elsewhere.customer_id).erased_at is None
    assert not AuditEntry.all_tenants.filter(action__startswith="customer.").exists()


# --- pages ---------------------------------------------------------------------------------------------------


def test_the_customer_page_offers_download_and_erasure_to_the_admin_only(jane, user_client):
    page = user_client(Role.ADMIN).get(f"/orders/customers/{jane.customer.id}/").content.decode()
    assert f'href="/orders/customers/{jane.customer.id}/export/"' in page
    assert f'href="/orders/customers/{jane.customer.id}/erase/"' in page

    page = user_client(Role.BACK_OFFICE).get(f"/orders/customers/{jane.customer.id}/").content.decode()
    assert "/export/" not in page and "/erase/" not in page


def test_the_page_downloads_the_same_document(jane, admin):
    answer = admin.get(f"/orders/customers/{jane.customer.id}/export/")

    assert answer.status_code == 200
    assert answer["Content-Disposition"].startswith("attachment;")
    document = json.loads(answer.content)
    assert document["customer"]["email"] == JANE["email"]
    assert {order["id"] for order in document["orders"]} == {jane.order_id, jane.cancelled_id}


def test_the_page_erases_only_once_confirmed(jane, admin, tenant):
    url = f"/orders/customers/{jane.customer.id}/erase/"
    confirm = admin.get(url).content.decode()
    assert "cannot be undone" in confirm and 'name="confirm"' in confirm
    assert "onsubmit" not in confirm and "onclick" not in confirm and "<script>" not in confirm

    unconfirmed = admin.post(url, {})
    assert unconfirmed.status_code == 200
    assert Customer.objects.for_tenant(tenant).get(id=jane.customer.id).erased_at is None

    done = admin.post(url, {"confirm": "on"}, follow=True)
    customer = Customer.objects.for_tenant(tenant).get(id=jane.customer.id)
    assert customer.erased_at is not None and customer.email.endswith("@invalid")
    assert done.redirect_chain[-1][0] == f"/orders/customers/{jane.customer.id}/"
    page = done.content.decode()
    assert 'id="erased-badge"' in page and JANE["email"] not in page
    assert f'href="{url}"' not in page


def test_the_page_refuses_a_customer_with_orders_to_deliver(tenant, shop, api, admin):
    placed = _place(api, shop)
    customer_id = Order.objects.for_tenant(tenant).get(id=placed["id"]).customer_id

    done = admin.post(f"/orders/customers/{customer_id}/erase/", {"confirm": "on"}, follow=True)

    assert placed["number"] in done.content.decode()
    assert Customer.objects.for_tenant(tenant).get(id=customer_id).erased_at is None


# --- schema ---------------------------------------------------------------------------------------------------


def test_the_schema_documents_both_operations():
    from rest_framework.test import APIClient

    paths = APIClient().get("/api/v1/schema/", {"format": "json"}).json()["paths"]

    exported = paths["/api/v1/customers/{id}/export/"]["get"]["responses"]["200"]["content"]["application/json"]
    erased = paths["/api/v1/customers/{id}/erase/"]["post"]["responses"]["200"]["content"]["application/json"]
    assert exported["schema"]["$ref"].endswith("/CustomerExportOut")
    assert erased["schema"]["$ref"].endswith("/CustomerErasureOut")
