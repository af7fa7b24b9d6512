"""factory-boy factories for every model. Apps add theirs below their heading."""
import itertools
from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

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


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "oms.Membership"

    tenant = factory.SubFactory(TenantFactory)
    user = factory.SubFactory(UserFactory)
    role = "back_office"


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


class StockLevelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "inventory.StockLevel"

    tenant = factory.SelfAttribute("product.tenant")
    product = factory.SubFactory(ProductFactory)
    location = factory.SubFactory(LocationFactory, tenant=factory.SelfAttribute("..tenant"))
    on_hand = 0
    reserved = 0


class LotFactory(factory.django.DjangoModelFactory):
    """An empty lot: give it stock with inventory.ledger.post_movement(lot=...) so that the ledger holds."""

    class Meta:
        model = "inventory.Lot"

    stock_level = factory.SubFactory(StockLevelFactory, product__tracks_lots=True)
    tenant = factory.SelfAttribute("stock_level.tenant")
    code = factory.Sequence(lambda n: f"LOT{n:05d}")
    expires_on = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=30))


class TransferFactory(factory.django.DjangoModelFactory):
    """A draft transfer without lines; ship and receive it with inventory.transfers so that the ledger holds."""

    class Meta:
        model = "inventory.Transfer"

    tenant = factory.SubFactory(TenantFactory)
    number = factory.Sequence(lambda n: f"TR-{n:06d}")
    source = factory.SubFactory(LocationFactory, tenant=factory.SelfAttribute("..tenant"))
    destination = factory.SubFactory(LocationFactory, tenant=factory.SelfAttribute("..tenant"))


class CycleCountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "inventory.CycleCount"

    tenant = factory.SubFactory(TenantFactory)
    number = factory.Sequence(lambda n: f"CC-{n:06d}")
    location = factory.SubFactory(LocationFactory, tenant=factory.SelfAttribute("..tenant"))


class CycleCountLineFactory(factory.django.DjangoModelFactory):
    """A posted count line, as reporting reads them for stock accuracy."""

    class Meta:
        model = "inventory.CycleCountLine"

    count = factory.SubFactory(CycleCountFactory, status="completed")
    tenant = factory.SelfAttribute("count.tenant")
    location = factory.SelfAttribute("count.location")
    product = factory.SubFactory(ProductFactory, tenant=factory.SelfAttribute("..tenant"))
    counted = 10
    expected = 10
    variance = factory.LazyAttribute(lambda o: o.counted - o.expected)
    counted_at = factory.LazyFunction(timezone.now)
    posted_at = factory.LazyFunction(timezone.now)


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
    class Meta:
        model = "orders.OrderLine"

    order = factory.SubFactory(OrderFactory)
    tenant = factory.SelfAttribute("order.tenant")
    product = factory.SubFactory(ProductFactory, tenant=factory.SelfAttribute("..tenant"))
    sku = factory.SelfAttribute("product.sku")
    line_number = factory.Sequence(lambda n: n + 1)
    quantity = 1
    unit_price = Decimal("10.00")


class OrderEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "orders.OrderEvent"

    order = factory.SubFactory(OrderFactory)
    tenant = factory.SelfAttribute("order.tenant")
    actor_label = "tests"
    kind = "note"


class InvoiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "orders.Invoice"

    order = factory.SubFactory(OrderFactory)
    tenant = factory.SelfAttribute("order.tenant")
    sequence = factory.Sequence(lambda n: n + 1)
    number = factory.LazyAttribute(lambda o: f"INV-{o.sequence:06d}")
    currency = "EUR"


class InvoiceLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "orders.InvoiceLine"

    invoice = factory.SubFactory(InvoiceFactory)
    tenant = factory.SelfAttribute("invoice.tenant")
    sku = "SKU-1"
    quantity = 1
    unit_price = Decimal("10.00")
    total = Decimal("10.00")
