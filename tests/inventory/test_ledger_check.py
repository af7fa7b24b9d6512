"""manage.py check_stock_ledger: passes on a clean ledger, names the rows that break it."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from inventory.models import Lot
from inventory.reservations import Hold, hold
from tests import factories
from tests.inventory.stock_helpers import receive

pytestmark = pytest.mark.django_db


@pytest.fixture
def stocked(tenant):
    wh = factories.LocationFactory(tenant=tenant, code="WH1")
    plain = receive(tenant, factories.ProductFactory(tenant=tenant, sku="PLAIN"), wh, 10)
    fresh = receive(
        tenant,
        factories.ProductFactory(tenant=tenant, sku="FRESH", tracks_lots=True),
        wh,
        4,
        lot="L1",
        expires_in_days=5,
    )
    hold(tenant=tenant, holds=[Hold(level=plain, quantity=3), Hold(level=fresh, quantity=1)])
    return plain, fresh


def _run(*args):
    out = StringIO()
    call_command("check_stock_ledger", *args, stdout=out)
    return out.getvalue()


def test_a_clean_ledger_passes(stocked):
    assert "Ledger OK: 2 stock rows and 1 lots checked." in _run("--reservations")


def test_on_hand_changed_without_a_movement_is_reported(stocked):
    plain, _ = stocked
    with connection.cursor() as cursor:
        cursor.execute("UPDATE inventory_stocklevel SET on_hand = on_hand + 5 WHERE id = %s", [plain.id])

    with pytest.raises(CommandError) as failed:
        _run()

    assert "1 ledger problem(s)" in str(failed.value)


def test_the_report_names_the_row_and_the_figures(stocked):
    plain, _ = stocked
    with connection.cursor() as cursor:
        cursor.execute("UPDATE inventory_stocklevel SET on_hand = 7 WHERE id = %s", [plain.id])
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("check_stock_ledger", "--tenant", "acme", stdout=out)

    assert "acme PLAIN at WH1: on hand 7 but movements sum to 10" in out.getvalue()


def test_a_lot_out_of_step_with_its_row_or_movements_is_reported(stocked):
    _, fresh = stocked
    Lot.all_tenants.filter(stock_level=fresh).update(on_hand=9)

    with pytest.raises(CommandError) as failed:
        _run()

    assert "2 ledger problem(s)" in str(failed.value)  # the lot vs its movements, the row vs its lots


def test_reserved_out_of_step_with_reservations_is_reported_on_request(stocked):
    plain, _ = stocked
    with connection.cursor() as cursor:
        cursor.execute("UPDATE inventory_stocklevel SET reserved = 1 WHERE id = %s", [plain.id])

    assert "Ledger OK" in _run()
    with pytest.raises(CommandError):
        _run("--reservations")


def test_another_tenant_is_checked_apart(stocked, other_tenant):
    plain, _ = stocked
    with connection.cursor() as cursor:
        cursor.execute("UPDATE inventory_stocklevel SET on_hand = 99 WHERE id = %s", [plain.id])

    assert "Ledger OK: 0 stock rows" in _run("--tenant", "globex")
