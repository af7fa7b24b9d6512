"""The schema is ready to be distributed by tenant (Citus, by `tenant_id`), read from PostgreSQL's own catalog:
every table of the project's models holds one tenant's rows under a non-null `tenant_id`, and every unique
constraint and every index of such a table leads with `tenant_id`. The exceptions are listed below, each with
its reason; anything else added to the schema must follow the rule.
"""

import pytest
from django.apps import apps
from django.db import connection

from oms import rls

pytestmark = pytest.mark.django_db

PROJECT_APPS = {"oms", "channels", "inventory", "orders", "fulfillment", "returns", "reporting"}

# Tables that hold no single tenant's rows, so have no tenant_id.
NOT_TENANT_OWNED = {
    "oms_tenant": "the tenants themselves",
    "oms_user": "a person signs in once, by e-mail, and may belong to several tenants",
    "oms_user_groups": "Django's permission groups of a user, who belongs to no one tenant",
    "oms_user_user_permissions": "Django's permissions of a user, who belongs to no one tenant",
}

# Indexes of tenant-owned tables that do not lead with tenant_id, by (table, columns): each serves a lookup that
# runs before the tenant is known, or that works across every tenant on purpose (a background sweep).
NOT_TENANT_LED = {
    ("oms_apikey", ("prefix",)): "a request's API key is found by its prefix: the key is what tells the tenant",
    ("oms_apikey", ("hashed_secret",)): "a request's API key is found by its hash: the key is what tells the tenant",
    ("oms_invitation", ("token_hash",)): "an invitation is found by its link's token: the token tells the tenant",
    ("oms_outboxevent", ("created_at",)): "the relay sweeps every tenant's unprocessed events, oldest first",
    ("oms_webhookdelivery", ("status", "next_attempt_at")): "the retry sweep finds every tenant's due deliveries",
    ("oms_idempotencykey", ("created_at",)): "the purge deletes every tenant's expired keys",
    ("oms_auditentry", ("at",)): "an operator reads every tenant's audit trail in the admin, newest first",
    ("inventory_reservation", ("expires_at",)): "the expiry sweep releases every tenant's lapsed holds",
}

_INDEXES = """
SELECT t.relname, i.relname, ix.indisprimary, ix.indisunique,
       ARRAY(SELECT a.attname FROM unnest(ix.indkey) WITH ORDINALITY AS k(attnum, n)
             JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum ORDER BY k.n)
FROM pg_index ix
JOIN pg_class t ON t.oid = ix.indrelid
JOIN pg_class i ON i.oid = ix.indexrelid
JOIN pg_namespace s ON s.oid = t.relnamespace
WHERE s.nspname = current_schema() AND t.relname = ANY(%s)
ORDER BY t.relname, i.relname
"""

_TENANT_COLUMNS = """
SELECT table_name, is_nullable FROM information_schema.columns
WHERE table_schema = current_schema() AND column_name = 'tenant_id' AND table_name = ANY(%s)
"""


def _project_tables() -> dict[str, object]:
    """{table: model} for every model of the project's apps, the tables Django makes for many-to-many included."""
    return {
        model._meta.db_table: model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.app_label in PROJECT_APPS and model._meta.managed and not model._meta.proxy
    }


def _tenant_owned_tables() -> list[str]:
    return sorted(table for table in _project_tables() if table not in NOT_TENANT_OWNED)


def _foreign_key_columns(model) -> set[str]:
    return {field.column for field in model._meta.concrete_fields if field.is_relation and field.many_to_one}


def _indexes(tables) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(_INDEXES, [list(tables)])
        return cursor.fetchall()


def _offending_indexes(tables) -> list[str]:
    """The indexes that break the rule: not the primary key, not led by tenant_id, not an exception. A plain
    index on one foreign-key column (the one Django keeps for a relation) is the exception by rule: it serves
    the parent's own lookups (an order's lines, a stock row's movements) and the checks PostgreSQL makes when a
    parent row is deleted, which go by the parent's id alone, so an index led by tenant_id could not serve
    them."""
    models = _project_tables()
    found = []
    for table, index, primary, unique, columns in _indexes(tables):
        if primary or (columns and columns[0] == "tenant_id"):
            continue
        if (table, tuple(columns)) in NOT_TENANT_LED:
            continue
        if not unique and len(columns) == 1 and columns[0] in _foreign_key_columns(models[table]):
            continue
        found.append(f"{table}.{index} ({'unique ' if unique else ''}on {', '.join(columns) or 'an expression'})")
    return found


def test_every_table_of_the_project_belongs_to_a_tenant_or_is_named_as_shared():
    tables = _tenant_owned_tables()
    with connection.cursor() as cursor:
        cursor.execute(_TENANT_COLUMNS, [tables])
        tenant_columns = dict(cursor.fetchall())

    assert [table for table in tables if table not in tenant_columns] == []
    assert [table for table, nullable in tenant_columns.items() if nullable != "NO"] == []


def test_every_unique_constraint_and_index_of_a_tenants_table_leads_with_the_tenant():
    assert _offending_indexes(_tenant_owned_tables()) == []


def test_every_exception_names_an_index_that_exists():
    """An exception left behind when its index goes would silently allow the next one on those columns."""
    present = {
        (table, tuple(columns))
        for table, _index, _primary, _unique, columns in _indexes({table for table, _columns in NOT_TENANT_LED})
    }

    assert set(NOT_TENANT_LED) - present == set()
    assert set(NOT_TENANT_OWNED) <= set(_project_tables())


def test_a_unique_constraint_or_an_index_without_the_tenant_is_caught():
    # Rolled back with the test's transaction (PostgreSQL's DDL is); made by the tables' owner, as migrations are.
    with rls.as_owner("a test index"), connection.cursor() as cursor:
        cursor.execute("CREATE UNIQUE INDEX schema_test_unique_sku ON inventory_product (sku)")
        cursor.execute("CREATE INDEX schema_test_updated ON orders_order (updated_at)")

    assert _offending_indexes(["inventory_product", "orders_order"]) == [
        "inventory_product.schema_test_unique_sku (unique on sku)",
        "orders_order.schema_test_updated (on updated_at)",
    ]
