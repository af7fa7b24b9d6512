"""The inventory app's raw SQL, each statement with why the ORM does not write it.

Two reasons recur: bulk stock sync works on thousands of rows per batch, which PostgreSQL takes as one array
parameter per column (the ORM would build a query with a placeholder per value, or one query per row); and
order intake, the hottest path, reads and reserves in single statements the ORM cannot express. Every
statement filters on the tenant explicitly, except the ledger check, which is operator work across tenants.
"""

from django.db import connection

from inventory.models import Location, MovementKind, Product, Reservation, StockLevel, StockMovement

# Sync batches are written in chunks of this many rows: bounded statements whatever the batch size.
CHUNK = 5_000


def _chunks(items: list):
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


# --- stock sync (inventory/sync.py) ----------------------------------------------------------------------


def ids_by(model, *, tenant_id: int, field_name: str, values) -> dict:
    """{value: id} of the tenant's rows of `model` whose `field_name` is one of `values` (SKUs, location codes).
    One array parameter: no query with 10,000 placeholders to build."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {field_name}, id FROM {model._meta.db_table} "
            f"WHERE tenant_id = %s AND {field_name} = ANY(%s::text[])",
            [tenant_id, sorted(values)],
        )
        return dict(cursor.fetchall())


def level_ids(*, tenant_id: int, pairs) -> dict:
    """{(product_id, location_id): level_id} for the pairs that have a stock row. LATERAL ... LIMIT 1 keeps one
    index probe per pair, where a plain join would scan the tenant's whole stock."""
    found = {}
    for chunk in _chunks(sorted(pairs)):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT v.product_id, v.location_id, s.id "
                "FROM unnest(%s::bigint[], %s::bigint[]) AS v(product_id, location_id) "
                f"CROSS JOIN LATERAL (SELECT id FROM {StockLevel._meta.db_table} WHERE tenant_id = %s "
                "AND location_id = v.location_id AND product_id = v.product_id LIMIT 1) AS s",
                [[p for p, _ in chunk], [loc for _, loc in chunk], tenant_id],
            )
            found.update({(p, loc): level_id for p, loc, level_id in cursor.fetchall()})
    return found


def lock_levels(*, tenant_id: int, ids: list) -> dict:
    """Lock the stock rows in (location, product) order, the order every stock writer uses, in one statement;
    {id: [on_hand, reserved]} as they are once locked."""
    if not ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, on_hand, reserved FROM {StockLevel._meta.db_table} "
            "WHERE tenant_id = %s AND id = ANY(%s::bigint[]) ORDER BY location_id, product_id FOR UPDATE",
            [tenant_id, ids],
        )
        return {level_id: [on_hand, reserved] for level_id, on_hand, reserved in cursor.fetchall()}


def add_to_on_hand(*, tenant_id: int, changes: dict, now) -> None:
    """Apply {level_id: delta} to on_hand, one statement per chunk from two arrays. The rows are locked and each
    delta was checked against them; the table's constraints (0 <= reserved <= on_hand) still guard the write."""
    for chunk in _chunks(sorted(changes.items())):
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {StockLevel._meta.db_table} AS s SET on_hand = s.on_hand + v.delta, updated_at = %s "
                "FROM unnest(%s::bigint[], %s::integer[]) AS v(id, delta) WHERE s.id = v.id AND s.tenant_id = %s",
                [now, [i for i, _ in chunk], [d for _, d in chunk], tenant_id],
            )


def insert_movements(*, tenant_id: int, rows: list, reference: str, actor_label: str, occurred_at, now) -> None:
    """Write the ledger rows [(level_id, kind, quantity, reason)]: one INSERT per chunk from arrays."""
    for chunk in _chunks(rows):
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {StockMovement._meta.db_table} (tenant_id, stock_level_id, kind, quantity, reason, "
                "reference, actor_label, occurred_at, created_at) "
                "SELECT %s, v.level_id, v.kind, v.quantity, v.reason, %s, %s, %s, %s "
                "FROM unnest(%s::bigint[], %s::text[], %s::integer[], %s::text[]) AS v(level_id, kind, quantity, "
                "reason)",
                [
                    tenant_id,
                    reference,
                    actor_label,
                    occurred_at,
                    now,
                    [r[0] for r in chunk],
                    [r[1] for r in chunk],
                    [r[2] for r in chunk],
                    [r[3] for r in chunk],
                ],
            )


def later_movements(*, tenant_id: int, ids: list, as_of) -> dict:
    """{level_id: (sum of sellable quantities after as_of, latest count after as_of or None)}: one aggregate over an
    array of rows, with a FILTER the ORM would spell as a second aggregate per row."""
    if not ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT stock_level_id, SUM(quantity), MAX(occurred_at) FILTER (WHERE kind = %s) "
            f"FROM {StockMovement._meta.db_table} WHERE tenant_id = %s "
            "AND stock_level_id = ANY(%s::bigint[]) AND occurred_at > %s AND sellable GROUP BY stock_level_id",
            [MovementKind.COUNT, tenant_id, sorted(ids), as_of],
        )
        return {level_id: (total or 0, newest) for level_id, total, newest in cursor.fetchall()}


# --- reservations (inventory/reservations.py) ------------------------------------------------------------

# Several rows in one statement: the MATERIALIZED CTE locks them sorted by (location, product), the order every
# writer uses, before the UPDATE touches any; the UPDATE then applies each row's conditional increment,
# re-checked on the row's latest version. The ORM has no UPDATE ... FROM a locked CTE.
_TAKE_ROWS = """
WITH wanted (id, quantity) AS (SELECT * FROM unnest(%s::bigint[], %s::integer[])),
locked AS MATERIALIZED (
    SELECT s.id FROM {table} s WHERE s.tenant_id = %s AND s.id = ANY(%s::bigint[])
    ORDER BY s.location_id, s.product_id FOR UPDATE)
UPDATE {table} s SET reserved = s.reserved + w.quantity, updated_at = %s
FROM wanted w, locked l
WHERE s.id = w.id AND l.id = s.id AND s.on_hand >= s.reserved + s.safety_stock + w.quantity
RETURNING s.id
"""


def reserve_rows(*, tenant_id: int, wanted: dict[int, int], now) -> bool:
    """Add `wanted[level_id]` to reserved on every row that can cover it; True when every row could."""
    ids = list(wanted)
    with connection.cursor() as cursor:
        cursor.execute(
            _TAKE_ROWS.format(table=StockLevel._meta.db_table), [ids, list(wanted.values()), tenant_id, ids, now]
        )
        return len(cursor.fetchall()) == len(ids)


_GIVE_BACK_ROWS = """
WITH given (id, quantity) AS (SELECT * FROM unnest(%s::bigint[], %s::integer[])),
locked AS MATERIALIZED (
    SELECT s.id FROM {table} s WHERE s.tenant_id = %s AND s.id = ANY(%s::bigint[])
    ORDER BY s.location_id, s.product_id FOR UPDATE)
UPDATE {table} s SET reserved = s.reserved - g.quantity, updated_at = %s
FROM given g, locked l
WHERE s.id = g.id AND l.id = s.id AND s.reserved >= g.quantity
RETURNING s.id
"""


def give_back_rows(*, tenant_id: int, given: dict[int, int], now) -> bool:
    """Take `given[level_id]` off reserved on every row, rows locked in (location, product) order like every stock
    write; True when every row held that many (the caller rolls back otherwise). One statement for a whole order's
    release, where a row at a time costs a round trip each."""
    ids = list(given)
    with connection.cursor() as cursor:
        cursor.execute(
            _GIVE_BACK_ROWS.format(table=StockLevel._meta.db_table), [ids, list(given.values()), tenant_id, ids, now]
        )
        return len(cursor.fetchall()) == len(ids)


def _columns(model) -> tuple[list[str], list[str], list]:
    fields = model._meta.concrete_fields
    return (
        [f.attname for f in fields],
        [f.column for f in fields],
        [f.from_db_value if hasattr(f, "from_db_value") else None for f in fields],
    )


_POOL = None


def _pool_statement() -> tuple[str, tuple]:
    global _POOL
    if _POOL is None:
        from django.apps import apps

        pool_model = apps.get_model("channels", "ChannelLocation")
        specs = (_columns(StockLevel), _columns(Location), _columns(Product))
        select = ", ".join(
            [f"s.{c}" for c in specs[0][1]] + [f"l.{c}" for c in specs[1][1]] + [f"p.{c}" for c in specs[2][1]]
        )
        statement = (
            f"SELECT {select}, cl.priority, cl.id FROM {StockLevel._meta.db_table} s "
            f"JOIN {Location._meta.db_table} l ON l.tenant_id = s.tenant_id AND l.id = s.location_id "
            f"JOIN {Product._meta.db_table} p ON p.tenant_id = s.tenant_id AND p.id = s.product_id "
            f"JOIN {pool_model._meta.db_table} cl ON cl.tenant_id = s.tenant_id AND cl.location_id = s.location_id "
            "AND cl.channel_id = %s "
            "WHERE s.tenant_id = %s AND s.product_id = ANY(%s::bigint[]) AND l.active"
        )
        _POOL = (statement, specs)
    return _POOL


def pool_rows(*, tenant_id: int, channel_id: int, product_ids: list) -> tuple[list, tuple]:
    """The stock rows of these products in the channel's active pool, each with its location, product and pool
    rank (priority, id), in one statement; with the column specs (attnames, columns, converters) of StockLevel,
    Location and Product to hydrate them. Compiling and hydrating the same join through the ORM cost four times
    the CPU, on the hottest path of intake."""
    statement, specs = _pool_statement()
    with connection.cursor() as cursor:
        cursor.execute(statement, [channel_id, tenant_id, product_ids])
        return cursor.fetchall(), specs


# --- the ledger check (inventory/ledger.py) --------------------------------------------------------------
# Operator work over every stock row of every tenant (or of one): aggregates joined back to the rows they
# check, read in one pass each, with the names an operator reads.

_LEVEL_CHECK = """
SELECT t.slug, p.sku, l.code, s.on_hand, s.reserved, COALESCE(m.total, 0), s.non_sellable,
       COALESCE(m.non_sellable, 0)
FROM inventory_stocklevel s
JOIN oms_tenant t ON t.id = s.tenant_id
JOIN inventory_product p ON p.id = s.product_id
JOIN inventory_location l ON l.id = s.location_id
LEFT JOIN (SELECT stock_level_id, SUM(quantity) FILTER (WHERE sellable) AS total,
                  SUM(quantity) FILTER (WHERE NOT sellable) AS non_sellable
           FROM inventory_stockmovement GROUP BY stock_level_id) m
  ON m.stock_level_id = s.id
WHERE (s.on_hand <> COALESCE(m.total, 0) OR s.reserved < 0 OR s.reserved > s.on_hand
       OR s.non_sellable <> COALESCE(m.non_sellable, 0)) {tenant_filter}
ORDER BY t.slug, p.sku, l.code
"""

_LOT_CHECK = """
SELECT t.slug, p.sku, l.code, lot.code, lot.on_hand, lot.reserved, COALESCE(m.total, 0)
FROM inventory_lot lot
JOIN inventory_stocklevel s ON s.id = lot.stock_level_id
JOIN oms_tenant t ON t.id = lot.tenant_id
JOIN inventory_product p ON p.id = s.product_id
JOIN inventory_location l ON l.id = s.location_id
LEFT JOIN (SELECT lot_id, SUM(quantity) AS total FROM inventory_stockmovement WHERE lot_id IS NOT NULL
           GROUP BY lot_id) m ON m.lot_id = lot.id
WHERE (lot.on_hand <> COALESCE(m.total, 0) OR lot.reserved < 0 OR lot.reserved > lot.on_hand) {tenant_filter}
ORDER BY t.slug, p.sku, l.code, lot.code
"""

# A lot-tracked product's stock row is the sum of its lots.
_LOT_SUM_CHECK = """
SELECT t.slug, p.sku, l.code, s.on_hand, s.reserved, COALESCE(x.on_hand, 0), COALESCE(x.reserved, 0)
FROM inventory_stocklevel s
JOIN oms_tenant t ON t.id = s.tenant_id
JOIN inventory_product p ON p.id = s.product_id
JOIN inventory_location l ON l.id = s.location_id
LEFT JOIN (SELECT stock_level_id, SUM(on_hand) AS on_hand, SUM(reserved) AS reserved FROM inventory_lot
           GROUP BY stock_level_id) x ON x.stock_level_id = s.id
WHERE p.tracks_lots AND (s.on_hand <> COALESCE(x.on_hand, 0) OR s.reserved <> COALESCE(x.reserved, 0))
  {tenant_filter}
ORDER BY t.slug, p.sku, l.code
"""

# Reserved equals the units of the row's active reservations.
_RESERVATION_CHECK = """
SELECT t.slug, p.sku, l.code, s.reserved, COALESCE(r.total, 0)
FROM inventory_stocklevel s
JOIN oms_tenant t ON t.id = s.tenant_id
JOIN inventory_product p ON p.id = s.product_id
JOIN inventory_location l ON l.id = s.location_id
LEFT JOIN (SELECT stock_level_id, SUM(quantity) AS total FROM inventory_reservation WHERE status = %s
           GROUP BY stock_level_id) r ON r.stock_level_id = s.id
WHERE s.reserved <> COALESCE(r.total, 0) {tenant_filter}
ORDER BY t.slug, p.sku, l.code
"""


def ledger_check_rows(*, tenant_id: int | None, check_reservations: bool) -> dict[str, list]:
    """The rows breaking each ledger rule, keyed by rule: "levels" (slug, sku, code, on_hand, reserved, sellable
    movements, non_sellable, non-sellable movements), "lots" (slug, sku, code, lot, on_hand, reserved, movements),
    "lot_sums" (slug, sku, code, on_hand, reserved, lots_on_hand, lots_reserved) and, when asked, "reservations"
    (slug, sku, code, reserved, held)."""
    level_filter, params = ("AND s.tenant_id = %s", [tenant_id]) if tenant_id is not None else ("", [])
    lot_filter = "AND lot.tenant_id = %s" if tenant_id is not None else ""
    checks = {
        "levels": _LEVEL_CHECK.format(tenant_filter=level_filter),
        "lots": _LOT_CHECK.format(tenant_filter=lot_filter),
        "lot_sums": _LOT_SUM_CHECK.format(tenant_filter=level_filter),
    }
    found = {}
    with connection.cursor() as cursor:
        for rule, statement in checks.items():
            cursor.execute(statement, params)
            found[rule] = cursor.fetchall()
        if check_reservations:
            cursor.execute(_RESERVATION_CHECK.format(tenant_filter=level_filter), [Reservation.Status.ACTIVE, *params])
            found["reservations"] = cursor.fetchall()
    return found
