"""Demo data: the demo orders (orders.demo) are routed and worked through the fulfilment services, so that the
board, the shipments and the order pages show every step: pending, accepted, picking, packed, shipped in part or
in full, in transit, delivered, completed. Safe to run again: an order that moved on is left alone.

The demo clerk's store (the first store by code, where seed_demo seats clerk@demo.test) gets work of its own:
pickup orders to accept, to pick, packed, ready for pickup, one whose hold ends within the day and one overdue
(the pickup beat cancels it on its next run), and delivery orders routed to the store (ship-from-store), one to
accept and one packed, to hand to the carrier. Routing leaves out a store closed today: on such a day the
ship-from-store orders are not placed, and pickups wait for the store to open."""

from datetime import timedelta
from decimal import Decimal

from django.db.models import F
from django.utils import timezone

from channels.models import ChannelLocation
from fulfillment.models import FulfillmentOrder, FulfillmentStatus
from fulfillment.services import execution, pickup, tracking
from fulfillment.services.allocation import allocate_order, waits_for_routing
from inventory.models import Location, StockLevel
from oms.actors import Actor
from oms.api.scope import Scope
from oms.errors import DomainError
from orders import services as order_services
from orders.demo import scenario_of
from orders.models import DeliveryMethod, Order, OrderStatus

# How far each scenario goes: the steps every fulfilment order of the order takes.
STEPS = {
    "allocated": (),
    "lines_cancelled": ("accept",),
    "pickup": ("accept", "pick"),
    "partially_fulfilled": ("accept", "pick", "pack", "ship_some"),
    "fulfilled": ("accept", "pick", "pack", "ship"),
    "delivered": ("accept", "pick", "pack", "ship", "in_transit", "delivered"),
    "completed": ("accept", "pick", "pack", "ship", "in_transit", "delivered", "complete"),
}
CARRIERS = ("colissimo", "chronopost", "dpd")


def seed_demo(tenant, stdout) -> None:
    scope = Scope.system(tenant, "demo")
    advanced = 0
    demo_orders = Order.objects.for_tenant(tenant).filter(external_ref__startswith="DEMO-").order_by("id")
    for order in demo_orders:
        scenario = scenario_of(order.external_ref)
        if scenario not in STEPS or order.status not in (OrderStatus.PLACED, OrderStatus.BACKORDERED):
            continue
        if not waits_for_routing(order):
            continue
        try:
            if allocate_order(tenant=tenant, order_id=order.id) is None:
                continue
            _work(scope, order, STEPS[scenario])
        except DomainError as exc:
            stdout.write(f"  {order.external_ref}: {exc.detail}")
            continue
        advanced += 1
    stdout.write(f"  {advanced} demo order(s) routed and worked.")
    seed_clerk_store(tenant, stdout)


def _work(scope: Scope, order, steps: tuple) -> None:
    fulfillments = list(FulfillmentOrder.objects.for_tenant(scope.tenant).filter(order=order).order_by("id"))
    for index, fulfillment in enumerate(fulfillments):
        carrier = CARRIERS[(order.id + index) % len(CARRIERS)]
        for step in steps:
            if step == "accept":
                execution.accept(scope=scope, fulfillment_id=fulfillment.id)
            elif step == "pick":
                execution.start_picking(scope=scope, fulfillment_id=fulfillment.id)
            elif step == "pack":
                execution.pack(scope=scope, fulfillment_id=fulfillment.id, parcels=[{"weight_kg": "1.250"}])
            elif step in ("ship", "ship_some"):
                some = None
                if step == "ship_some" and index == 0:
                    first = fulfillment.lines.order_by("id").first()
                    some = [execution.Units(first.order_line_id, 1)]
                shipment = execution.ship(
                    scope=scope,
                    fulfillment_id=fulfillment.id,
                    carrier=carrier,
                    service="standard",
                    tracking_numbers=[f"DEMO{order.id:06d}{index}FR"],
                    lines=some,
                )
                fulfillment.shipment = shipment
            elif step in ("in_transit", "delivered"):
                hours = 20 if step == "in_transit" else 40
                tracking.record_tracking(
                    scope=scope,
                    shipment_id=fulfillment.shipment.id,
                    status=step,
                    occurred_at=fulfillment.shipment.shipped_at + timedelta(hours=hours),
                    detail="Lyon hub" if step == "in_transit" else "Left with the customer",
                )
    if "complete" in steps:
        order_services.complete_order(tenant=scope.tenant, order_id=order.id, actor=scope.actor)


# --- the demo clerk's store ---------------------------------------------------------------------------------

STORE_PREFIX = "STORE-DEMO-"
# (reference, delivery method, steps): the clerk's queue, one order per column at least.
STORE_WORK = (
    ("P1", DeliveryMethod.PICKUP, ()),
    ("P2", DeliveryMethod.PICKUP, ("accept",)),
    ("P3", DeliveryMethod.PICKUP, ("accept", "pick")),
    ("P4", DeliveryMethod.PICKUP, ("accept", "pick", "pack")),
    ("P5", DeliveryMethod.PICKUP, ("accept", "pick", "pack", "ready")),
    ("P6", DeliveryMethod.PICKUP, ("accept", "pick", "pack", "ready", "ends_today")),
    ("P7", DeliveryMethod.PICKUP, ("accept", "pick", "pack", "ready", "overdue")),
    ("S1", DeliveryMethod.SHIP, ()),
    ("S2", DeliveryMethod.SHIP, ("accept", "pick", "pack")),
)
STORE_CUSTOMERS = ("Inès Marchand", "Paul Lefebvre", "Zoé Garnier", "Arthur Chevalier", "Alice Perrin")
DEMO = Actor.system("demo")
PRICE = Decimal("24.90")


def clerk_store(tenant):
    """The store the demo clerk works at: the first active store by code (oms seed_demo seats the clerk there)."""
    return Location.objects.for_tenant(tenant).filter(kind="store", active=True).order_by("code").first()


def seed_clerk_store(tenant, stdout) -> None:
    store = clerk_store(tenant)
    channel = _selling_channel(tenant, store) if store is not None else None
    if channel is None:
        stdout.write("  no store in a selling channel's pool: no store work for the demo clerk.")
        return
    scope = Scope.system(tenant, "demo")
    existing = set(
        Order.objects.for_tenant(tenant)
        .filter(external_ref__startswith=STORE_PREFIX)
        .values_list("external_ref", flat=True)
    )
    products = list(
        StockLevel.objects.for_tenant(tenant)
        .filter(location=store, product__active=True, on_hand__gte=F("reserved") + 4)
        .select_related("product")
        .order_by("product__sku")[:5]
    )
    done = 0
    for index, (suffix, method, steps) in enumerate(STORE_WORK):
        reference = f"{STORE_PREFIX}{suffix}"
        if reference in existing or not products:
            continue
        product = products[index % len(products)].product
        try:
            order = _place_at(tenant, channel, store, reference, method, product, STORE_CUSTOMERS[index % 5])
            allocate_order(tenant=tenant, order_id=order.id)
            if method == DeliveryMethod.SHIP:
                others = list(channel.pool.exclude(location=store).values_list("location__code", flat=True))
                execution.reroute(scope=scope, order_id=order.id, exclude=others)
            fulfillment = FulfillmentOrder.objects.for_tenant(tenant).get(order=order, location=store, closed_at=None)
            _work_store(scope, fulfillment, steps)
        except DomainError as exc:
            stdout.write(f"  {reference}: {exc.detail}")
            continue
        done += 1
    stdout.write(f"  {done} order(s) of work for the demo clerk at {store.code}.")


def _selling_channel(tenant, store):
    """The web shop whose pool holds the store (it offers pickup there), else any channel selling at a distance."""
    pools = (
        ChannelLocation.objects.for_tenant(tenant)
        .filter(location=store, channel__active=True)
        .exclude(channel__kind="store")
        .select_related("channel")
        .order_by("channel__code")
    )
    channels = [pool.channel for pool in pools]
    return next((c for c in channels if c.kind == "web"), channels[0] if channels else None)


def _place_at(tenant, channel, store, reference, method, product, name):
    email = name.split()[0].lower().replace("è", "e").replace("é", "e") + ".demo@example.fr"
    data = order_services.OrderInput(
        channel=channel,
        external_ref=reference,
        currency=tenant.default_currency,
        lines=[order_services.LineInput(sku=product.sku, quantity=1, unit_price=PRICE)],
        delivery_method=method,
        customer={"email": email, "name": name},
        service_level="standard",
        payment_status="paid",
        metadata={"demo": True},
    )
    if method == DeliveryMethod.PICKUP:
        data.location_code = store.code
    else:
        data.address = {"name": name, "line1": "8 cours de l'Intendance", "postal_code": "33000", "city": "Bordeaux",
                        "country": "FR"}  # fmt: skip
    return order_services.place_order(tenant=tenant, actor=DEMO, data=data)


def _work_store(scope: Scope, fulfillment, steps: tuple) -> None:
    for step in steps:
        if step == "accept":
            execution.accept(scope=scope, fulfillment_id=fulfillment.id)
        elif step == "pick":
            execution.start_picking(scope=scope, fulfillment_id=fulfillment.id)
        elif step == "pack":
            execution.pack(scope=scope, fulfillment_id=fulfillment.id, parcels=[{"weight_kg": "0.800"}])
        elif step == "ready":
            pickup.mark_ready(scope=scope, fulfillment_id=fulfillment.id)
        elif step in ("ends_today", "overdue"):
            # Demo data only: the hold is moved back in time, as if the order had waited days already.
            ends = timezone.now() + (timedelta(hours=5) if step == "ends_today" else -timedelta(hours=2))
            FulfillmentOrder.objects.for_tenant(scope.tenant).filter(
                id=fulfillment.id, status=FulfillmentStatus.READY_FOR_PICKUP
            ).update(ready_at=ends - timedelta(days=7), pickup_expires_at=ends)
