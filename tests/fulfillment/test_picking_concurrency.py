"""Scans from several tablets at once on PostgreSQL, with real threads: an order never gets more units confirmed
than it needs, and each scan beyond them is refused as an over-scan."""

import pytest

from fulfillment.services import picking
from oms.actors import Actor
from oms.api.scope import Scope
from oms.models import Role
from tests.fulfillment.store_support import build_store, store_order
from tests.race import race

pytestmark = pytest.mark.django_db(transaction=True)


def test_simultaneous_scans_confirm_exactly_the_units_needed(tenant, api):
    shop = build_store(tenant)
    fulfillment = store_order(api, tenant, shop, lines=[{"sku": shop.a.sku, "quantity": 2, "unit_price": "5.00"}])
    api.post(f"/api/v1/fulfillments/{fulfillment.id}/accept/", {}, format="json")
    scope = Scope(tenant=tenant, actor=Actor.system("tablet"), role=Role.STORE_CLERK)

    outcomes = race(6, lambda _i: picking.scan(scope=scope, fulfillment_id=fulfillment.id, code=shop.a.barcode))

    assert len(outcomes.values) == 2
    assert sorted(scanned.picked for scanned in outcomes.values) == [1, 2]
    assert len(outcomes.errors) == 4 and all(isinstance(error, picking.OverScan) for error in outcomes.errors)
    assert fulfillment.lines.get().quantity_picked == 2
