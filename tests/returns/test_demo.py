"""The demo's returns: one in every state, on the demo's delivered orders, and left alone on a second run."""

from io import StringIO

import pytest
from django.core.management import call_command

from inventory.ledger import ledger_discrepancies
from oms.models import Tenant
from returns.models import Refund, Return, StoreCredit

pytestmark = pytest.mark.django_db


def test_seed_demo_adds_returns_in_every_state_once():
    call_command("seed_demo", stdout=StringIO())
    tenant = Tenant.objects.get(slug="demo")
    first = sorted(Return.objects.for_tenant(tenant).values_list("number", "status"))
    call_command("seed_demo", stdout=StringIO())

    statuses = {status for _number, status in first}
    assert statuses >= {"requested", "approved", "received", "refunded", "exchanged", "rejected", "closed"}
    assert sorted(Return.objects.for_tenant(tenant).values_list("number", "status")) == first
    refunds = Refund.objects.for_tenant(tenant)
    assert {(refund.method, refund.status) for refund in refunds} >= {
        ("original_payment", "pending"),
        ("original_payment", "settled"),
        ("store_credit", "settled"),
    }
    assert StoreCredit.objects.for_tenant(tenant).count() == 1
    assert Return.objects.for_tenant(tenant).filter(method="store", status="approved").exists()
    assert ledger_discrepancies(tenant=tenant) == []
