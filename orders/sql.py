"""The orders app's raw SQL, each statement with why the ORM does not write it.

All of it is on order intake, the hottest write path: compiling the same ORM query for every order cost more
CPU than PostgreSQL spent running it. Every statement filters on the tenant explicitly.
"""

from django.db import connection
from django.utils import timezone

from inventory.models import Product
from orders.models import Customer, Order

# Model.raw(): the same model instances as the ORM's, without compiling the query each time (that compilation
# cost three times the read itself, on every order).
_PRODUCTS_BY_SKU = "SELECT * FROM {table} WHERE tenant_id = %s AND sku IN ({placeholders})"
# An erased customer is never found by e-mail. FOR KEY SHARE (which the order's foreign key takes anyway): an
# erasure running meanwhile (orders.services.privacy, FOR UPDATE) makes this wait, then find no row, so the order
# gets a new customer rather than the erased one.
_CUSTOMER_BY_EMAIL = (
    "SELECT * FROM {table} WHERE tenant_id = %s AND email = %s AND erased_at IS NULL FOR KEY SHARE OF {table}"
)

# ON CONFLICT DO NOTHING: a concurrent first order of the same customer loses without failing, and without a
# savepoint around the insert (which the ORM's get_or_create needs).
_INSERT_CUSTOMER = """
INSERT INTO {table} (tenant_id, email, name, phone, created_at) VALUES (%s, %s, %s, %s, %s)
ON CONFLICT (tenant_id, email) DO NOTHING RETURNING id
"""

# What save(update_fields=["number", "status"]) writes, without compiling it per order.
_SET_NUMBER_AND_STATUS = (
    "UPDATE {table} SET number = %s, status = %s, promised_delivery_earliest = %s, promised_delivery_latest = %s"
    " WHERE tenant_id = %s AND id = %s"
)


def products_by_sku(*, tenant_id: int, skus) -> dict:
    """{sku: Product} of the tenant's products with these SKUs."""
    if not skus:
        return {}
    skus = sorted(skus)
    statement = _PRODUCTS_BY_SKU.format(table=Product._meta.db_table, placeholders=", ".join(["%s"] * len(skus)))
    rows = Product.all_tenants.raw(statement, [tenant_id, *skus])
    return {product.sku: product for product in rows}


def customer_by_email(*, tenant_id: int, email: str) -> Customer | None:
    rows = Customer.all_tenants.raw(_CUSTOMER_BY_EMAIL.format(table=Customer._meta.db_table), [tenant_id, email])
    return next(iter(rows), None)


def insert_customer(*, tenant, email: str, name: str, phone: str) -> Customer | None:
    """The new customer, or None when the tenant has a customer with this e-mail already."""
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_CUSTOMER.format(table=Customer._meta.db_table), [tenant.id, email, name, phone, now])
        row = cursor.fetchone()
    if row is None:
        return None
    customer = Customer(id=row[0], tenant=tenant, email=email, name=name, phone=phone, created_at=now)
    customer._state.adding = False
    return customer


def set_number_and_status(order: Order) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            _SET_NUMBER_AND_STATUS.format(table=Order._meta.db_table),
            [
                order.number,
                order.status,
                order.promised_delivery_earliest,
                order.promised_delivery_latest,
                order.tenant_id,
                order.id,
            ],
        )
