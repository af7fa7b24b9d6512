"""Inserts for hot paths: one prepared INSERT per (model, row count), values prepared by the model's own fields.

Order intake writes five kinds of rows per order. Through the ORM each write compiles its INSERT again, and on
PostgreSQL `bulk_create` sends every column as an array whose element type psycopg infers by scanning it: that
cost more CPU than PostgreSQL spent running the statements. `insert_rows` writes the same rows with the same
field conversions (`pre_save`, `get_db_prep_save`), from a statement text built once, so that PostgreSQL can
also keep it prepared. No model signal is sent: use it only for models that connect none.
"""
from functools import lru_cache

from django.db import IntegrityError, connection


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
    params = []
    for obj in objs:
        if type(obj) is not model or (obj.pk is not None) != given_pk:
            raise ValueError("insert_rows takes instances of one model, all with or all without a primary key")
        params.extend(field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = [row[0] for row in cursor.fetchall()]
    pk_name = model._meta.pk.attname
    for obj, pk in zip(objs, ids):
        setattr(obj, pk_name, pk)
        obj._state.adding = False
        obj._state.db = connection.alias
    return ids


@lru_cache(maxsize=256)
def _statement(model, rows: int, given_pk: bool) -> tuple[tuple, str]:
    meta = model._meta
    quote = connection.ops.quote_name
    fields = tuple(field for field in meta.concrete_fields
                   if not getattr(field, "generated", False) and (given_pk or field is not meta.pk))
    one_row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sql = (f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(field.column) for field in fields)}) "
           f"VALUES {', '.join([one_row] * rows)} RETURNING {quote(meta.pk.column)}")
    return fields, sql


# select_for_update(**LOCK_ROW): lock only the rows of the queried model (not those select_related joins), and in
# FOR NO KEY UPDATE mode, which lets other transactions insert rows referring to them (their foreign-key checks take
# FOR KEY SHARE). A plain FOR UPDATE on a parent row (a location, a product, the tenant) makes every insert that
# refers to it wait, and deadlocks transactions that lock in another order.
LOCK_ROW = {"no_key": True, "of": ("self",)}


def violated_constraint(exc: IntegrityError) -> str | None:
    """The name of the constraint an IntegrityError broke, from PostgreSQL's diagnostics; None when it names none."""
    return getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None)
