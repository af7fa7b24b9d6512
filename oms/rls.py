"""Row-level security: PostgreSQL's own wall between tenants, behind the application's filters.

Every table with a `tenant_id` column has row-level security enabled and two policies (`install`, run after
every `migrate`):

- `tenant_isolation`, for the application's role (OMS_DB_ROLE, `oms_app`: no BYPASSRLS, not the tables' owner):
  a row is seen and written only when its tenant is the one the connection is set to (`oms.tenant_id`). A
  connection set to no tenant sees no tenant-owned row at all, and cannot write one.
- `all_tenants`, for the cross-tenant role (OMS_DB_CROSS_TENANT_ROLE, `oms_all_tenants`): every row. Work that
  spans tenants on purpose takes it by name, `all_tenants("why")`: operator commands, sweeps over every tenant,
  finding an API key or a user's memberships before the tenant is known.

The connection itself signs in as the tables' owner, which runs migrations and the test suite's flush
(`as_owner`) and is never used for anything else: each connection switches to the application's role as soon as
it opens.

Each connection keeps a stack of frames, (role, tenant). A request (middleware), a task (Celery signals) and a
command (`OmsCommand`) each open one, set to no tenant, and bind it to the tenant once the caller is known (API
authentication, the pages' tenant, the task's own rows). Entering or leaving a frame costs one statement when the
connection is open (session-level `set_config`, as Django runs in autocommit), none otherwise: a connection that
opens later starts in the current frame. Frames nest with transactions, so a rollback, which also undoes a
`set_config` made since its savepoint, always lands on the frame that was current there.

Outside any frame (a shell, a script), a connection is in the default frame: no tenant (`OMS_RLS_DEFAULT =
"tenant"`, production), or every tenant (`"all_tenants"`, which the test suite sets for the code it calls
directly; its requests, tasks and commands open their own frames as in production).
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.db.backends.signals import connection_created
from django.db.utils import DataError, NotSupportedError

log = logging.getLogger("oms.rls")

TENANT_SETTING = "oms.tenant_id"
OWNER = "none"  # the role setting that returns to the signed-in user, the tables' owner


def app_role() -> str:
    return getattr(settings, "OMS_DB_ROLE", "oms_app")


def cross_tenant_role() -> str:
    return getattr(settings, "OMS_DB_CROSS_TENANT_ROLE", "oms_all_tenants")


@dataclass(frozen=True)
class Frame:
    role: str
    tenant_id: int | None = None
    reason: str = ""

    def values(self) -> tuple[str, str]:
        return self.role, "" if self.tenant_id is None else str(int(self.tenant_id))


def _default_frame() -> Frame:
    if getattr(settings, "OMS_RLS_DEFAULT", "tenant") == "all_tenants":
        return Frame(cross_tenant_role(), reason="default")
    return Frame(app_role())


def enabled(conn=None) -> bool:
    conn = conn or connection
    return conn.vendor == "postgresql" and getattr(settings, "OMS_RLS", True)


def _stack(conn) -> list[Frame]:
    stack = getattr(conn, "oms_rls_frames", None)
    if stack is None:
        stack = conn.oms_rls_frames = []
    return stack


def current(conn=None) -> Frame:
    stack = _stack(conn or connection)
    return stack[-1] if stack else _default_frame()


def _apply(conn, frame: Frame) -> None:
    """Set the open connection to the frame. Skipped in a failed transaction: its rollback, which must come
    first, undoes the change made since its savepoint, which lands on the frame current there."""
    if not enabled(conn) or conn.connection is None:
        return
    if conn.needs_rollback or _in_failed_transaction(conn):
        return
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('role', %s, false), set_config(%s, %s, false)",
            [frame.role, TENANT_SETTING, frame.values()[1]],
        )


def _in_failed_transaction(conn) -> bool:
    from psycopg.pq import TransactionStatus

    return conn.connection.info.transaction_status == TransactionStatus.INERROR


@contextmanager
def _frame(frame: Frame, conn=None):
    conn = conn or connection
    stack = _stack(conn)
    stack.append(frame)
    _apply(conn, frame)
    try:
        yield frame
    finally:
        stack.pop()
        _apply(conn, current(conn))


def tenant(tenant_id: int | None):
    """Behind the wall, for one tenant: tenant-owned rows of other tenants do not exist."""
    return _frame(Frame(app_role(), tenant_id))


def all_tenants(reason: str):
    """The named cross-tenant path: every tenant's rows. Say why; it shows in the logs at debug level."""
    log.debug("cross-tenant access: %s", reason)
    return _frame(Frame(cross_tenant_role(), reason=reason))


def as_owner(reason: str):
    """The tables' owner, for schema changes and the test suite's flush only."""
    return _frame(Frame(OWNER, reason=reason))


def unscoped():
    """A frame set to no tenant: every tenant-owned table answers nothing until `bind` names the tenant. Opened
    by each request, task and command."""
    return _frame(Frame(app_role()))


def bind(tenant_id: int, conn=None) -> None:
    """The caller is now known: set the current frame (opened with `unscoped`) to its tenant."""
    conn = conn or connection
    stack = _stack(conn)
    if not stack:
        raise RuntimeError("bind() needs an open frame: a request, a task or a command opens one")
    frame = stack[-1]
    if frame.role != app_role():
        raise RuntimeError(f"bind() inside a {frame.role} frame: leave the cross-tenant path first")
    if frame.tenant_id == tenant_id:
        return
    stack[-1] = Frame(app_role(), tenant_id)
    _apply(conn, stack[-1])


def tenant_of(model, pk) -> int | None:
    """The tenant owning a row, found across tenants (a task handed an id learns its tenant this way); None when
    there is no such row."""
    with all_tenants(f"the tenant of a {model._meta.label}"):
        return model.all_tenants.filter(pk=pk).values_list("tenant_id", flat=True).first()


def tenants_of(model, pks) -> dict:
    """The tenant owning each of the rows, in one query across tenants; rows that do not exist are left out."""
    with all_tenants(f"the tenants of {model._meta.label} rows"):
        return dict(model.all_tenants.filter(pk__in=list(pks)).values_list("pk", "tenant_id"))


def bind_to_row(model, pk) -> int | None:
    """`bind` the current frame to the tenant owning the row; None (and the frame left as it is) if none does."""
    tenant_id = tenant_of(model, pk)
    if tenant_id is not None:
        bind(tenant_id)
    return tenant_id


def _on_connection_created(sender, connection, **kwargs):
    """A new connection starts in the current frame (the application's role, never the owner's)."""
    if connection.alias == "__no_db__" or not enabled(connection):
        return
    try:
        _apply(connection, current(connection))
    except DataError:
        # The roles are missing: tolerated only in a database never migrated, which has no tenant rows to guard
        # (a first `migrate` creates the roles; a command run before it must still connect).
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass('oms_tenant') IS NULL")
            if not cursor.fetchone()[0]:
                raise


connection_created.connect(_on_connection_created, dispatch_uid="oms-rls-connection-created")


# --- installation -------------------------------------------------------------------------------------------

_TENANT_TABLES = """
SELECT c.relname FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND a.attname = 'tenant_id' AND NOT a.attisdropped
ORDER BY c.relname
"""

_CREATE_ROLE = """
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {literal}) THEN
        CREATE ROLE {name} NOLOGIN NOINHERIT NOBYPASSRLS;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;  -- created meanwhile by a migration of another database of the same server
END $$
"""


def tenant_tables(conn=None) -> list[str]:
    with (conn or connection).cursor() as cursor:
        cursor.execute(_TENANT_TABLES)
        return [row[0] for row in cursor.fetchall()]


def install(conn=None) -> list[str]:
    """Create the roles if missing, grant them the schema, and put every tenant-owned table behind the policies.
    Idempotent; run as the owner after every migrate. Returns the tables it protects."""
    conn = conn or connection
    if not enabled(conn):
        return []
    quote = conn.ops.quote_name
    app, cross = app_role(), cross_tenant_role()
    with as_owner("install row-level security"), conn.cursor() as cursor:
        for role in (app, cross):
            cursor.execute(_CREATE_ROLE.format(literal=_literal(role), name=quote(role)))
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        if not cursor.fetchone()[0]:
            # A signed-in user that is not a superuser may only switch to roles it is a member of.
            cursor.execute(f"GRANT {quote(app)}, {quote(cross)} TO CURRENT_USER")
        cursor.execute("SELECT pg_has_role(%s, %s, 'MEMBER')", [app, cross])
        if not cursor.fetchone()[0]:
            # For a deployment whose application signs in as the app role itself: it may then take the named
            # cross-tenant path. NOINHERIT keeps the cross-tenant policy from applying to it otherwise.
            cursor.execute(f"GRANT {quote(cross)} TO {quote(app)}")
        roles = f"{quote(app)}, {quote(cross)}"
        cursor.execute(f"GRANT USAGE ON SCHEMA {_schema(cursor, quote)} TO {roles}")
        schema = _schema(cursor, quote)
        cursor.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {roles}")
        cursor.execute(f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {schema} TO {roles}")
        tables = tenant_tables(conn)
        current_tenant = f"(SELECT NULLIF(current_setting('{TENANT_SETTING}', true), '')::bigint)"
        for table in tables:
            name = quote(table)
            cursor.execute(f"ALTER TABLE {name} ENABLE ROW LEVEL SECURITY")
            cursor.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {name}")
            cursor.execute(
                f"CREATE POLICY tenant_isolation ON {name} TO {quote(app)} "
                f"USING (tenant_id = {current_tenant}) WITH CHECK (tenant_id = {current_tenant})"
            )
            cursor.execute(f"DROP POLICY IF EXISTS all_tenants ON {name}")
            cursor.execute(f"CREATE POLICY all_tenants ON {name} TO {quote(cross)} USING (true) WITH CHECK (true)")
    return tables


def _schema(cursor, quote) -> str:
    cursor.execute("SELECT current_schema()")
    return quote(cursor.fetchone()[0])


def _literal(value: str) -> str:
    if "'" in value or "\\" in value:
        raise NotSupportedError(f"unsupported role name {value!r}")
    return f"'{value}'"
