"""factory-boy factories for the rows tests build directly, each consistent with its model's rules (a line's
units accounted for, an order's totals the sum of its lines). Stock is never built here: it moves through
the ledger (tests/inventory/stock_helpers.receive, tests/orders/support.stock). Apps add theirs below their
heading."""

import itertools
from decimal import Decimal

import factory
from django.db.models import F
from django.utils import timezone

from orders.models import LineStatus

_ids = itertools.count(1)


def next_id() -> int:
    return next(_ids)


# --- oms -----------------------------------------------------------------------------------------------


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "oms.Tenant"
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"tenant-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.title())
    default_currency = "EUR"
    timezone = "Europe/Paris"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "oms.User"
        django_get_or_create = ("email",)

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Faker("name")
    password = factory.django.Password("correct-horse-battery")


class WebhookSubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "oms.WebhookSubscription"

    tenant = factory.SubFactory(TenantFactory)
    url = "https://hooks.example.com/oms"
    events = factory.LazyFunction(lambda: ["order.placed"])
    secret = factory.Sequence(lambda n: f"whsec_test_{n}")


class AuditEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "oms.AuditEntry"

    tenant = factory.SubFactory(TenantFactory)
    actor_label = "tests"
    action = "thing.done"
    at = factory.LazyFunction(timezone.now)


# --- inventory -----------------------------------------------------------------------------------------


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "inventory.Product"

    tenant = factory.SubFactory(TenantFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    barcode = factory.Sequence(lambda n: _ean13(f"{300000000000 + n}"))


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "inventory.Location"

    tenant = factory.SubFactory(TenantFactory)
    code = factory.Sequence(lambda n: f"LOC{n:03d}")
    name = factory.LazyAttribute(lambda o: f"Location {o.code}")
    kind = "warehouse"


class StockAlertRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "inventory.StockAlertRule"

    tenant = factory.SubFactory(TenantFactory)
    product = factory.SubFactory(ProductFactory, tenant=factory.SelfAttribute("..tenant"))
    location = factory.SubFactory(LocationFactory, tenant=factory.SelfAttribute("..tenant"))
    threshold = 5


class StockImportJobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "inventory.StockImportJob"

    tenant = factory.SubFactory(TenantFactory)
    mode = "adjustments"
    file_name = "stock.csv"
    content = "sku,location,quantity\n"


class StockImportRejectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "inventory.StockImportRejection"

    job = factory.SubFactory(StockImportJobFactory)
    tenant = factory.SelfAttribute("job.tenant")
    line = factory.Sequence(lambda n: n + 2)
    sku = "UNKNOWN"
    location = "WH1"
    quantity = "1"
    reason = "Unknown SKU UNKNOWN."


def _ean13(body: str) -> str:
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return body + str((10 - total % 10) % 10)


# --- channels ------------------------------------------------------------------------------------------


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "channels.Channel"

    tenant = factory.SubFactory(TenantFactory)
    code = factory.Sequence(lambda n: f"CH{n:03d}")
    name = factory.LazyAttribute(lambda o: f"Channel {o.code}")
    kind = "web"


class ChannelLocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "channels.ChannelLocation"

    tenant = factory.SelfAttribute("channel.tenant")
    channel = factory.SubFactory(ChannelFactory)
    location = factory.SubFactory(LocationFactory, tenant=factory.SelfAttribute("..tenant"))
    priority = 0


# --- orders --------------------------------------------------------------------------------------------


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "orders.Customer"

    tenant = factory.SubFactory(TenantFactory)
    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    name = factory.Faker("name")


class OrderFactory(factory.django.DjangoModelFactory):
    """A placed order; OrderLineFactory adds lines and their amounts to its totals."""

    class Meta:
        model = "orders.Order"

    tenant = factory.SubFactory(TenantFactory)
    channel = factory.SubFactory(ChannelFactory, tenant=factory.SelfAttribute("..tenant"))
    customer = factory.SubFactory(CustomerFactory, tenant=factory.SelfAttribute("..tenant"))
    number = factory.Sequence(lambda n: f"O-{n:06d}")
    external_ref = factory.Sequence(lambda n: f"EXT-{n}")
    currency = "EUR"
    delivery_method = "ship"
    total = Decimal("0")


class OrderLineFactory(factory.django.DjangoModelFactory):
    """A line as intake leaves it: every unit allocated, so reserve them (reserve_demands with `order_lines`)
    for its reservations to cover them; its amount is added to the order's totals."""

    class Meta:
        model = "orders.OrderLine"
        skip_postgeneration_save = True

    order = factory.SubFactory(OrderFactory)
    tenant = factory.SelfAttribute("order.tenant")
    product = factory.SubFactory(ProductFactory, tenant=factory.SelfAttribute("..tenant"))
    sku = factory.SelfAttribute("product.sku")
    name = factory.SelfAttribute("product.name")
    line_number = factory.Sequence(lambda n: n + 1)
    quantity = 1
    quantity_allocated = factory.SelfAttribute("quantity")
    status = LineStatus.ALLOCATED
    unit_price = Decimal("10.00")
    total = factory.LazyAttribute(lambda o: o.unit_price * o.quantity)

    @factory.post_generation
    def order_totals(line, create, extracted, **kwargs):
        if create:
            type(line.order).all_tenants.filter(id=line.order_id).update(
                subtotal=F("subtotal") + line.total, total=F("total") + line.total
            )
