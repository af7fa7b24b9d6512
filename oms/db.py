"""The platform's raw SQL, each statement with why the ORM does not write it: hot-path inserts, per-tenant
sequences, idempotency claims, the readiness probe; batch updates; and the row-lock mode every stock writer uses.

Inserts for hot paths: one prepared INSERT per (model, row count), values prepared by the model's own fields.
Order intake writes five kinds of rows per order. Through the ORM each write compiles its INSERT again, and on
PostgreSQL `bulk_create` sends every column as an array whose element type psycopg infers by scanning it: that
cost more CPU than PostgreSQL spent running the statements. `insert_rows` writes the same rows with the same
field conversions (`pre_save`, `get_db_prep_save`), from a statement text built once, so that PostgreSQL can
also keep it prepared. No model signal is sent: use it only for models that connect none.
"""

from contextlib import contextmanager
from functools import lru_cache

import psycopg
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections

from oms import rls
from oms.models import IdempotencyKey, TenantSequence


def insert_rows(objs: list) -> list:
    """INSERT unsaved instances of one model in one statement; sets and returns their primary keys.

    Instances whose primary key is already set keep it (the column is then written); otherwise the database
    assigns it, read back with RETURNING in row order (as the ORM's bulk_create relies on too).
    """
    if not objs:
        return []
    model = type(objs[0])
    given_pk = objs[0].pk is not None
    fields, sql = _statement(model, len(objs), given_pk)
    db = _wrapper()
    params = []
    for obj in objs:
        if type(obj) is not model or (obj.pk is not None) != given_pk:
            raise ValueError("insert_rows takes instances of one model, all with or all without a primary key")
        params.extend(field.get_db_prep_save(field.pre_save(obj, True), db) for field in fields)
    with _numbered_cursor() as cursor:
        cursor.execute(sql, params)
        ids = [row[0] for row in cursor.fetchall()]
    pk_name = model._meta.pk.attname
    for obj, pk in zip(objs, ids, strict=True):
        setattr(obj, pk_name, pk)
        obj._state.adding = False
        obj._state.db = connection.alias
    return ids


@lru_cache(maxsize=256)
def _statement(model, rows: int, given_pk: bool) -> tuple[tuple, str]:
    meta = model._meta
    quote = connection.ops.quote_name
    fields = tuple(
        field
        for field in meta.concrete_fields
        if not getattr(field, "generated", False) and (given_pk or field is not meta.pk)
    )
    width = len(fields)
    values = ", ".join(
        "(" + ", ".join(f"${row * width + column + 1}" for column in range(width)) + ")" for row in range(rows)
    )
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(field.column) for field in fields)}) "
        f"VALUES {values} RETURNING {quote(meta.pk.column)}"
    )
    return fields, sql


def update_rows(objs: list, field_names: list[str]) -> int:
    """UPDATE saved instances of one model, each with its own values of these fields, in one statement
    (UPDATE ... FROM (VALUES ...)); returns the rows updated.

    The ORM's bulk_update says the same with one CASE WHEN per field and row: for a batch of allocations (hundreds
    of lines, seven figures each) building and running that cost more than the rest of the apply."""
    if not objs:
        return 0
    model = type(objs[0])
    fields, sql = _update_statement(model, tuple(field_names), len(objs))
    db = _wrapper()
    params = []
    for obj in objs:
        if type(obj) is not model or obj.pk is None:
            raise ValueError("update_rows takes saved instances of one model")
        params.append(obj.pk)
        params.extend(field.get_db_prep_save(getattr(obj, field.attname), db) for field in fields)
    with _numbered_cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


@lru_cache(maxsize=256)
def _update_statement(model, field_names: tuple, rows: int) -> tuple[tuple, str]:
    meta = model._meta
    quote = connection.ops.quote_name
    fields = tuple(meta.get_field(name) for name in field_names)
    columns = [meta.pk, *fields]
    types = [meta.pk.rel_db_type(connection), *(field.db_type(connection) for field in fields)]
    width = len(types)
    values = ", ".join(
        "(" + ", ".join(f"${row * width + column + 1}::{kind}" for column, kind in enumerate(types)) + ")"
        for row in range(rows)
    )
    sql = (
        f"UPDATE {quote(meta.db_table)} AS t SET "
        + ", ".join(f"{quote(field.column)} = v.{quote(field.column)}" for field in fields)
        + f" FROM (VALUES {values}) AS v({', '.join(quote(c.column) for c in columns)})"
        + f" WHERE t.{quote(meta.pk.column)} = v.{quote(meta.pk.column)}"
    )
    return fields, sql


def _wrapper():
    """The connection itself rather than django.db.connection, a proxy that looks the thread's connection up again on
    every attribute read: the field conversions read it for every value of a batch."""
    return connections[DEFAULT_DB_ALIAS]


@contextmanager
def _numbered_cursor():
    """A cursor for statements written with PostgreSQL's own numbered placeholders ($1, $2...), their values sent
    apart from the text. Django's cursor binds on the client: psycopg parses the text for %s on every call, and it
    caches that parse only for statements of at most 50 values, so a batch of a hundred rows was parsed again each
    time (a quarter of a routing batch's time). Django's wrapper keeps its error translation, query log and
    execute wrappers; the connection's prepare_threshold still decides whether PostgreSQL keeps it prepared."""
    connection.ensure_connection()
    raw = psycopg.RawCursor(connection.connection)
    wrapped = connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)
    try:
        yield wrapped
    finally:
        raw.close()


# select_for_update(**LOCK_ROW): lock only the rows of the queried model (not those select_related joins), and in
# FOR NO KEY UPDATE mode, which lets other transactions insert rows referring to them (their foreign-key checks take
# FOR KEY SHARE). A plain FOR UPDATE on a parent row (a location, a product, the tenant) makes every insert that
# refers to it wait, and deadlocks transactions that lock in another order.
LOCK_ROW = {"no_key": True, "of": ("self",)}


def violated_constraint(exc: IntegrityError) -> str | None:
    """The name of the constraint an IntegrityError broke, from PostgreSQL's diagnostics; None when it names none."""
    return getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None)


# --- per-tenant sequences (oms/sequences.py) -------------------------------------------------------------


def increment_tenant_sequence(*, tenant_id: int, name: str) -> int | None:
    """The TenantSequence row's next value, incremented and read in one statement (UPDATE ... RETURNING, which
    the ORM cannot say); the row stays locked until the caller's transaction ends. None when the row is
    missing."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {TenantSequence._meta.db_table} SET value = value + 1 "
            "WHERE tenant_id = %s AND name = %s RETURNING value",
            [tenant_id, name],
        )
        row = cursor.fetchone()
    return row[0] if row is not None else None


def next_in_sequence_if_any(sequence: str) -> int | None:
    """nextval() of a database sequence, None while it does not exist: to_regclass() is NULL then, and so is
    nextval(NULL), so one round trip tells both. Database sequences have no ORM counterpart."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(to_regclass(%s))", [sequence])
        return cursor.fetchone()[0]


def next_in_sequence(sequence: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(%s::regclass)", [sequence])
        return cursor.fetchone()[0]


def create_sequence(sequence: str, *, start: int) -> None:
    """CREATE SEQUENCE: DDL the ORM does not issue. The name is the caller's checked identifier. Created by the
    schema's owner (the application's roles create nothing, oms.rls) and granted to them at once."""
    roles = ", ".join(connection.ops.quote_name(role) for role in (rls.app_role(), rls.cross_tenant_role()))
    with rls.as_owner("a new per-tenant sequence"), connection.cursor() as cursor:
        cursor.execute(f'CREATE SEQUENCE IF NOT EXISTS "{sequence}" AS bigint START WITH {int(start)}')
        if rls.enabled():
            cursor.execute(f'GRANT USAGE, SELECT, UPDATE ON SEQUENCE "{sequence}" TO {roles}')


# --- idempotency keys (oms/api/idempotency.py) -----------------------------------------------------------

# INSERT ... ON CONFLICT DO NOTHING RETURNING: exactly one request wins the claim, the others learn it without
# an error to roll back (no savepoint). The CTE sets synchronous_commit for the statement's own transaction.
_CLAIM = """
WITH claim_settings AS (SELECT set_config('synchronous_commit', %s, true))
INSERT INTO {table} (tenant_id, owner, key, method, path, request_hash, state, response_headers, created_at)
SELECT %s, %s, %s, %s, %s, %s, %s, '{{}}'::jsonb, %s FROM claim_settings
ON CONFLICT (tenant_id, owner, key) DO NOTHING
RETURNING id
"""


def claim_idempotency_key(record: IdempotencyKey, *, synchronous_commit: bool) -> int | None:
    """Insert the unsaved in-flight `record`; its new id, or None when the (tenant, owner, key) is claimed."""
    with connection.cursor() as cursor:
        cursor.execute(
            _CLAIM.format(table=IdempotencyKey._meta.db_table),
            [
                "on" if synchronous_commit else "off",
                record.tenant_id,
                record.owner,
                record.key,
                record.method,
                record.path,
                record.request_hash,
                record.state,
                record.created_at,
            ],
        )
        row = cursor.fetchone()
    return row[0] if row is not None else None


def store_idempotency_answer(
    *, tenant_id: int, record_id: int, status: int, body_json: str, headers_json: str, completed_at
) -> None:
    """Record the answer to replay, its body already encoded once: the ORM's update (compiling it, and a JSON
    round trip to make the body JSON-safe before encoding it again) cost three times as much, on every
    idempotent POST."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {IdempotencyKey._meta.db_table} SET state = %s, response_status = %s, "
            "response_body = %s, response_headers = %s, completed_at = %s WHERE tenant_id = %s AND id = %s",
            [IdempotencyKey.State.DONE, status, body_json, headers_json, completed_at, tenant_id, record_id],
        )


# --- readiness ---------------------------------------------------------------------------------------------


def ping() -> None:
    """A round trip to the database (the readiness probe); raises when it does not answer."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def commit_without_waiting_for_the_disk() -> None:
    """For the current transaction only: its COMMIT returns before the WAL reaches the disk (PostgreSQL's
    `synchronous_commit = off`; a crash may lose the last fraction of a second of such commits, never corrupt
    anything). Only for work that is safe to lose and is redone by a sweep: the routing of an order, whose sweep
    routes any order still placed. Where each commit waits for a disk flush, that wait bounds a worker at a few
    hundred transactions a second."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO OFF")
