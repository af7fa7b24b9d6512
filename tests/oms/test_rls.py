"""Row-level security, the database's own wall between tenants (oms.rls): every tenant-owned table is behind it,
and a query that forgets its tenant filter, in a request, a task, a command or a thread, answers nothing of
another tenant. The queries below forget their filter on purpose (`all_tenants` managers, plain SQL)."""

import threading

import pytest
from celery import shared_task
from django.core.management import call_command
from django.db import DataError, ProgrammingError, connection, transaction

from oms import rls
from oms.management.commands._base import OmsCommand
from orders import selectors
from orders.models import Order
from tests import factories
from tests.oms.test_schema_tenancy import NOT_TENANT_OWNED

pytestmark = pytest.mark.django_db

# Django's own tables, and django-axes' record of sign-in attempts (made before any tenant is known), which hold
# no tenant's rows either.
DJANGO_TABLES = {
    "axes_accessattempt",
    "axes_accessattemptexpiration",
    "axes_accessfailurelog",
    "axes_accesslog",
    "auth_group",
    "auth_group_permissions",
    "auth_permission",
    "django_admin_log",
    "django_content_type",
    "django_migrations",
    "django_session",
}


def _count(sql: str, params=()) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


@pytest.fixture
def two_shops(tenant, other_tenant):
    orders = {}
    for owner in (tenant, other_tenant):
        orders[owner.id] = [factories.OrderFactory(tenant=owner) for _ in range(2)]
    return orders


# --- the schema -------------------------------------------------------------------------------------------


def test_every_table_is_either_behind_the_wall_or_holds_no_tenants_rows():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, "
            "EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' "
            "        AND NOT a.attisdropped), "
            "ARRAY(SELECT p.polname || ':' || r.rolname FROM pg_policy p "
            "      CROSS JOIN LATERAL unnest(p.polroles) AS pr(oid) JOIN pg_roles r ON r.oid = pr.oid "
            "      WHERE p.polrelid = c.oid ORDER BY 1) "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')"
        )
        tables = cursor.fetchall()
    expected_policies = sorted([f"all_tenants:{rls.cross_tenant_role()}", f"tenant_isolation:{rls.app_role()}"])
    unguarded = []
    for name, secured, _forced, has_tenant, policies in tables:
        if has_tenant:
            assert secured, f"{name} holds tenants' rows but row-level security is off"
            assert sorted(policies) == expected_policies, name
        elif name not in NOT_TENANT_OWNED and name not in DJANGO_TABLES:
            unguarded.append(name)
    assert unguarded == [], "tables with no tenant column: give them one, or list them with the reason"
    assert len([t for t in tables if t[3]]) >= 40


def test_the_application_roles_cannot_bypass_the_wall_nor_own_the_tables():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rolname, rolsuper, rolbypassrls, rolinherit FROM pg_roles WHERE rolname = ANY(%s) ORDER BY 1",
            [[rls.app_role(), rls.cross_tenant_role()]],
        )
        roles = {name: (superuser, bypass, inherit) for name, superuser, bypass, inherit in cursor.fetchall()}
        cursor.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tableowner = ANY(%s)",
            [[rls.app_role(), rls.cross_tenant_role()]],
        )
        owned = cursor.fetchone()[0]
    assert roles[rls.app_role()] == (False, False, False)  # NOINHERIT: the cross-tenant policy is not its own
    assert roles[rls.cross_tenant_role()][:2] == (False, False)
    assert owned == 0


def test_install_runs_again_without_changing_anything():
    before = _count("SELECT count(*) FROM pg_policy")
    assert set(rls.install()) == set(rls.tenant_tables())
    assert _count("SELECT count(*) FROM pg_policy") == before


# --- unscoped queries in each frame -----------------------------------------------------------------------


def test_a_tenant_frame_answers_only_that_tenants_rows_to_an_unfiltered_query(two_shops, tenant, other_tenant):
    with rls.tenant(tenant.id):
        assert set(Order.all_tenants.values_list("id", flat=True)) == {o.id for o in two_shops[tenant.id]}
        assert _count("SELECT count(*) FROM orders_order") == 2
        assert _count("SELECT count(*) FROM orders_order WHERE tenant_id = %s", [other_tenant.id]) == 0
        # Writes cannot reach another tenant's rows either.
        assert Order.all_tenants.filter(tenant=other_tenant).update(external_ref="touched") == 0
        assert Order.all_tenants.filter(tenant=other_tenant).delete()[0] == 0
    assert Order.all_tenants.filter(tenant=other_tenant, external_ref="touched").count() == 0
    assert Order.all_tenants.filter(tenant=other_tenant).count() == 2


def test_a_row_of_another_tenant_cannot_be_written_from_a_tenant_frame(tenant, other_tenant):
    customer = factories.CustomerFactory(tenant=other_tenant)
    with rls.tenant(tenant.id), pytest.raises(ProgrammingError, match="row-level security"):
        with transaction.atomic():
            factories.CustomerFactory(tenant=other_tenant)
    with rls.tenant(tenant.id), pytest.raises(ProgrammingError, match="row-level security"):
        with transaction.atomic(), connection.cursor() as cursor:
            # Moving a row of one's own tenant to another is refused too (WITH CHECK).
            own = factories.CustomerFactory(tenant=tenant)
            cursor.execute("UPDATE orders_customer SET tenant_id = %s WHERE id = %s", [other_tenant.id, own.id])
    assert customer.pk is not None


def test_a_frame_set_to_no_tenant_sees_nothing(two_shops):
    with rls.unscoped():
        assert Order.all_tenants.count() == 0
        assert _count("SELECT count(*) FROM orders_order") == 0
        assert _count("SELECT count(*) FROM oms_apikey") == 0


def test_the_named_cross_tenant_path_sees_every_tenant(two_shops):
    with rls.unscoped(), rls.all_tenants("a test of the cross-tenant path"):
        assert Order.all_tenants.count() == 4


def test_the_connection_runs_as_the_application_role_not_the_owner(tenant):
    with rls.tenant(tenant.id):
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user, current_setting('oms.tenant_id')")
            assert cursor.fetchone() == (rls.app_role(), str(tenant.id))
    with rls.as_owner("a test"), connection.cursor() as cursor:
        cursor.execute("SELECT current_user = session_user")
        assert cursor.fetchone()[0] is True


def test_frames_nest_and_a_rolled_back_transaction_lands_on_the_frame_current_there(two_shops, tenant, other_tenant):
    with rls.tenant(tenant.id):
        with pytest.raises(DataError), transaction.atomic():
            with rls.tenant(other_tenant.id):
                assert Order.all_tenants.count() == 2
                assert set(Order.all_tenants.values_list("tenant_id", flat=True)) == {other_tenant.id}
                with connection.cursor() as cursor:
                    cursor.execute("SELECT 1 / 0")  # the transaction fails: leaving the frame cannot set anything
        assert _count("SELECT count(*) FROM orders_order WHERE tenant_id = %s", [tenant.id]) == 2
        assert set(Order.all_tenants.values_list("tenant_id", flat=True)) == {tenant.id}
        with rls.all_tenants("nested"):
            assert Order.all_tenants.count() == 4
        assert Order.all_tenants.count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_new_connection_starts_in_the_current_frame(two_shops, tenant):
    with rls.tenant(tenant.id):
        connection.close()
        assert Order.all_tenants.count() == 2


def test_outside_any_frame_production_connections_see_no_tenant(two_shops, settings, transactional_db):
    settings.OMS_RLS_DEFAULT = "tenant"
    seen = []

    def count():
        try:
            seen.append(Order.all_tenants.count())
        finally:
            connection.close()

    thread = threading.Thread(target=count)
    thread.start()
    thread.join()
    assert seen == [0]


@pytest.mark.django_db(transaction=True)
def test_threads_of_different_tenants_never_see_each_others_rows(settings):
    shops = [factories.TenantFactory() for _ in range(2)]
    for shop in shops:
        for _ in range(3):
            factories.OrderFactory(tenant=shop)
    settings.OMS_RLS_DEFAULT = "tenant"
    barrier = threading.Barrier(len(shops))
    seen = {}

    def read(shop):
        try:
            with rls.tenant(shop.id):
                for _ in range(20):
                    barrier.wait(timeout=10)
                    ids = set(Order.all_tenants.values_list("tenant_id", flat=True))
                    seen.setdefault(shop.id, set()).update(ids)
        finally:
            connection.close()

    threads = [threading.Thread(target=read, args=(shop,)) for shop in shops]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == {shop.id: {shop.id} for shop in shops}


# --- requests, tasks and commands open their own frames ------------------------------------------------------


def test_an_api_request_that_forgets_its_filter_still_answers_only_its_tenants_rows(
    two_shops, api, tenant, monkeypatch
):
    def forgetful_order_list(*, scope, search=""):
        return Order.all_tenants.select_related("channel", "customer", "pickup_location").order_by("-id")

    monkeypatch.setattr(selectors, "order_list", forgetful_order_list)
    response = api.get("/api/v1/orders/?limit=50")
    assert response.status_code == 200
    assert {row["id"] for row in response.json()["results"]} == {o.id for o in two_shops[tenant.id]}


def test_a_page_that_forgets_its_filter_still_shows_only_its_tenants_rows(two_shops, user_client, other_tenant):
    def forgetful_order_list(*, scope, search=""):
        return Order.all_tenants.select_related("channel", "customer", "pickup_location").order_by("-id")

    client = user_client("admin")
    original = selectors.order_list
    selectors.order_list = forgetful_order_list
    try:
        page = client.get("/orders/").content.decode()
    finally:
        selectors.order_list = original
    for order in two_shops[other_tenant.id]:
        assert order.number not in page


@shared_task(name="tests.count_orders_unfiltered")
def count_orders_unfiltered(tenant_id=None):
    before = Order.all_tenants.count()
    if tenant_id is not None:
        rls.bind(tenant_id)
    return before, Order.all_tenants.count()


def test_a_task_starts_behind_the_wall_and_sees_the_tenant_it_names(two_shops, tenant):
    assert count_orders_unfiltered.apply(args=(tenant.id,)).get() == (0, 2)
    assert count_orders_unfiltered.apply().get() == (0, 0)


class CountingCommand(OmsCommand):
    def add_arguments(self, parser):
        parser.add_argument("--tenant")

    def handle(self, *args, tenant=None, **options):
        before = Order.all_tenants.count()
        if tenant:
            self.tenant(tenant)
        self.stdout.write(f"{before} {Order.all_tenants.count()}")


class CrossTenantCommand(CountingCommand):
    across_tenants = "a test that counts every tenant's orders"


def test_a_command_starts_behind_the_wall_and_crosses_tenants_only_when_it_says_so(two_shops, tenant, capsys):
    call_command(CountingCommand(), "--tenant", tenant.slug)
    call_command(CountingCommand())
    call_command(CrossTenantCommand())
    assert capsys.readouterr().out.split("\n")[:3] == ["0 2", "0 0", "4 4"]


def test_the_ledger_check_of_every_tenant_takes_the_cross_tenant_path(two_shops, capsys):
    call_command("check_stock_ledger")
    assert "Ledger OK" in capsys.readouterr().out
