"""The money of a return, to the cent: what was paid for the units (discount and tax prorated), the shipping
charge per the tenant's rule and the reason, the return shipping fee, the credit note, refunds and store credit,
and settling a refund."""

from decimal import Decimal

import pytest

from oms.models import OutboxEvent
from orders.models import Invoice, InvoiceKind
from returns.models import Refund, StoreCredit
from tests.conftest import make_api_client
from tests.orders.support import build_shop
from tests.returns.support import lines_of, return_body, shipped_order

pytestmark = pytest.mark.django_db

ODD_LINE = [{"sku": "WEB-A", "quantity": 3, "unit_price": "19.99", "discount": "5.00", "tax": "11.00"}]


@pytest.fixture
def shop(tenant):
    shop = build_shop(tenant)
    shop.store.accepts_returns = True
    shop.store.save(update_fields=["accepts_returns"])
    return shop


def settings_of(tenant, **money):
    tenant.settings = {**(tenant.settings or {}), "return_money": money}
    tenant.save(update_fields=["settings"])


def returned(api, shop, order, sku, units, reason, disposition="restock", **extra):
    """Request, approve and receive units of one line at the store; the return as the API answers it."""
    line = lines_of(order)[sku]
    created = api.post("/api/v1/returns/", return_body(order, (sku, units, reason), **extra), format="json")
    assert created.status_code == 201, created.json()
    rma = created.json()
    if rma["status"] == "requested":
        assert api.post(f"/api/v1/returns/{rma['id']}/approve/", {}, format="json").status_code == 200
    answer = api.post(
        f"/api/v1/returns/{rma['id']}/receive/",
        {
            "location": shop.store.code,
            "lines": [{"order_line": line.id, "quantity": units, "disposition": disposition}],
        },
        format="json",
    )
    assert answer.status_code == 200, answer.json()
    return answer.json()


def test_each_unit_gives_back_what_was_paid_for_it_and_the_units_add_up_to_the_line(tenant, shop, api):
    order = shipped_order(tenant, shop, lines=ODD_LINE)

    amounts = [returned(api, shop, order, "WEB-A", 1, "too_small")["refunds"][0]["amount"] for _ in range(3)]

    # 19.99 less its third of 5.00, plus its third of 11.00; the last unit takes the rounding remainder.
    assert amounts == ["21.99", "21.99", "21.99"]
    assert sum(Decimal(amount) for amount in amounts) == Decimal("3") * Decimal("19.99") - 5 + 11


def test_the_refund_and_its_credit_note_agree_to_the_cent(tenant, shop, api):
    order = shipped_order(tenant, shop, lines=ODD_LINE)

    rma = returned(api, shop, order, "WEB-A", 2, "too_small")

    refund = Refund.objects.for_tenant(tenant).get(id=rma["refunds"][0]["id"])
    note = Invoice.objects.for_tenant(tenant).get(kind=InvoiceKind.CREDIT_NOTE)
    assert refund.credit_note_id == note.id and rma["refunds"][0]["credit_note"] == note.number
    assert note.total == refund.amount == Decimal("43.98")
    assert (refund.status, refund.method, refund.currency) == ("pending", "original_payment", "EUR")
    assert refund.breakdown["lines"] == [
        {"order_line": lines_of(order)["WEB-A"].id, "sku": "WEB-A", "quantity": 2, "amount": "43.98"}
    ]
    due = OutboxEvent.objects.for_tenant(tenant).get(topic="return.refund_due")
    assert due.payload | {"return_id": None, "order_id": None, "refund_id": None} == {
        "return_id": None,
        "number": rma["number"],
        "order_id": None,
        "order_number": order.number,
        "channel": shop.channel.code,
        "status": "inspected",
        "refund_id": None,
        "amount": "43.98",
        "currency": "EUR",
        "method": "original_payment",
        "refund_status": "pending",
        "credit_note": note.number,
    }


def test_shipping_comes_back_once_when_the_retailer_is_at_fault(tenant, shop, api):
    order = shipped_order(tenant, shop, lines=ODD_LINE, shipping={"amount": "4.90", "tax": "0.98"})

    damaged = returned(api, shop, order, "WEB-A", 1, "damaged", disposition="damaged")
    again = returned(api, shop, order, "WEB-A", 1, "defective", disposition="damaged")

    assert damaged["refunds"][0]["amount"] == "27.87"  # 21.99 + 4.90 + 0.98
    assert damaged["refunds"][0]["breakdown"]["shipping"] == "4.90"
    assert again["refunds"][0]["amount"] == "21.99"


def test_the_customer_pays_the_return_by_mail_when_the_reason_is_theirs(tenant, shop, api):
    settings_of(tenant, return_shipping_fee="3.50")
    order = shipped_order(tenant, shop, lines=ODD_LINE, shipping={"amount": "4.90", "tax": "0.98"})

    by_mail = returned(api, shop, order, "WEB-A", 1, "changed_mind")
    in_store = returned(api, shop, order, "WEB-A", 1, "changed_mind", method="store", location=shop.store.code)

    assert by_mail["refunds"][0]["amount"] == "18.49"  # 21.99 less the fee, no shipping back
    assert by_mail["refunds"][0]["breakdown"]["return_shipping_fee"] == "3.50"
    assert in_store["refunds"][0]["amount"] == "21.99"


def test_the_tenant_may_refund_shipping_always_or_never(tenant, shop, api):
    settings_of(tenant, refund_shipping="never")
    order = shipped_order(tenant, shop, lines=ODD_LINE, shipping={"amount": "4.90", "tax": "0.98"})
    assert returned(api, shop, order, "WEB-A", 1, "damaged")["refunds"][0]["amount"] == "21.99"

    settings_of(tenant, refund_shipping="always")
    assert returned(api, shop, order, "WEB-A", 1, "changed_mind")["refunds"][0]["amount"] == "27.87"


def test_store_credit_is_recorded_for_the_customer_and_settled_at_once(tenant, shop, api):
    order = shipped_order(tenant, shop, lines=ODD_LINE)

    rma = returned(api, shop, order, "WEB-A", 1, "too_small", outcome="store_credit")

    assert rma["status"] == "refunded"
    assert rma["refunds"][0] | {"id": None, "created_at": None, "settled_at": None} == rma["refunds"][0] | {
        "id": None,
        "created_at": None,
        "settled_at": None,
        "method": "store_credit",
        "status": "settled",
        "amount": "21.99",
    }
    credit = StoreCredit.objects.for_tenant(tenant).get()
    assert (credit.customer_id, credit.amount, credit.currency) == (order.customer_id, Decimal("21.99"), "EUR")


def test_store_credit_needs_a_customer(tenant, shop, api):
    order = shipped_order(tenant, shop)
    order.customer = None
    order.save(update_fields=["customer"])

    answer = api.post(
        "/api/v1/returns/",
        return_body(order, ("WEB-A", 1, "too_small"), outcome="store_credit"),
        format="json",
    )

    assert answer.status_code == 409 and answer.json()["code"] == "store_credit_needs_customer"


def test_the_payment_side_settles_a_refund_with_its_reference(tenant, shop, api, other_tenant):
    order = shipped_order(tenant, shop, lines=ODD_LINE)
    refund_id = returned(api, shop, order, "WEB-A", 1, "too_small")["refunds"][0]["id"]
    url = f"/api/v1/refunds/{refund_id}/settle/"

    assert api.get("/api/v1/refunds/", {"status": "pending"}).json()["results"][0]["id"] == refund_id
    assert make_api_client(other_tenant).post(url, {"oops": 1}, format="json").status_code == 404
    assert api.post(url, {}, format="json").status_code == 400
    settled = api.post(url, {"reference": "psp_re_123"}, format="json")
    again = api.post(url, {"reference": "psp_re_123"}, format="json")
    other = api.post(url, {"reference": "psp_re_999"}, format="json")

    assert settled.status_code == 200 and settled.json()["status"] == "settled"
    assert settled.json()["payment_reference"] == "psp_re_123" and settled.json()["settled_at"]
    assert again.status_code == 200
    assert other.status_code == 409
    assert api.get("/api/v1/refunds/", {"status": "pending"}).json()["results"] == []
    assert OutboxEvent.objects.for_tenant(tenant).filter(topic="refund.settled").count() == 1
    assert api.get(f"/api/v1/refunds/{refund_id}/").json()["status"] == "settled"


def test_the_return_policy_is_read_and_changed_through_the_api(tenant, api, user_client):
    from oms.models import Role

    assert api.get("/api/v1/return-policy/").json() == {
        "auto_approval": {"enabled": False, "max_amount": None, "within_days": None, "excluded_reasons": ["damaged"]},
        "money": {"refund_shipping": "at_fault", "return_shipping_fee": "0.00", "exchange_ships": "on_receipt"},
    }

    changed = api.put(
        "/api/v1/return-policy/",
        {"auto_approval": {"enabled": True, "max_amount": "50"}, "money": {"return_shipping_fee": "3.5"}},
        format="json",
    )
    refused = api.put("/api/v1/return-policy/", {"money": {"refund_shipping": "sometimes"}}, format="json")
    viewer = user_client(Role.VIEWER)

    assert changed.status_code == 200, changed.json()
    assert changed.json()["auto_approval"]["max_amount"] == "50.00"
    assert changed.json()["auto_approval"]["excluded_reasons"] == ["damaged"]
    assert changed.json()["money"] == {
        "refund_shipping": "at_fault",
        "return_shipping_fee": "3.50",
        "exchange_ships": "on_receipt",
    }
    assert refused.status_code == 400
    assert viewer.get("/api/v1/return-policy/").status_code == 200
    assert viewer.put("/api/v1/return-policy/", {}, content_type="application/json").status_code == 403
