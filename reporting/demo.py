"""Demo history for the dashboards: 90 days of orders that went their whole way (placed, routed, shipped or
collected, delivered, sometimes rejected by a store, backordered, cancelled, returned and refunded), satisfaction
responses and weekly cycle counts, so that every chart shows something on first open. Then the KPI tables are
built for those days.

History is written as the rows the services leave behind, stamped at past instants (the services stamp now), in
bulk: it moves no stock (those units left long ago) and takes no invoice numbers. Return numbers come from the
tenant's gap-free sequence like any return. Deterministic (a fixed seed) and safe to run again: a tenant that has
history (orders `HIST-…`) only gets its KPI tables brought up to date."""

import random
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from channels.models import Channel, ChannelKind
from fulfillment.models import FulfillmentLine, FulfillmentOrder, RoutingDecision, Shipment
from inventory.models import CycleCount, CycleCountLine, Location, LocationKind, Product, StockLevel
from oms.sequences import next_value
from orders.models import Customer, Feedback, Order, OrderEvent, OrderLine
from reporting import aggregation
from returns.models import Refund, Return, ReturnLine, ReturnReason, ReturnReceipt
from returns.tenant_settings import rma_prefix

DAYS = 90
PREFIX = "HIST-"
SEED = 20261206
PRICES = ("9.90", "14.50", "24.00", "39.90", "59.00", "89.00")
CANCEL_REASONS = ("customer_request", "payment_failed", "fraud_suspected")
RETURN_REASONS = ("too_small", "too_large", "changed_mind", "defective", "not_as_described", "damaged")


def seed_demo(tenant, stdout) -> None:
    if not Order.objects.for_tenant(tenant).filter(external_ref__startswith=PREFIX).exists():
        made = _write_history(tenant)
        stdout.write(f"  {made} orders of history over the last {DAYS} days.")
    today = aggregation.today_for(tenant)
    days = aggregation.rebuild_range(tenant=tenant, first=today - timedelta(days=DAYS), last=today)
    stdout.write(f"  KPI tables built for {days} days.")


class _History:
    def __init__(self, tenant):
        self.tenant = tenant
        self.rng = random.Random(SEED)
        self.now = timezone.now()
        channels = Channel.objects.for_tenant(tenant).filter(active=True).prefetch_related("pool__location")
        self.channels = [c for c in channels if c.kind != ChannelKind.STORE and c.pool.exists()]
        locations = Location.objects.for_tenant(tenant).filter(active=True)
        self.warehouses = list(locations.filter(kind=LocationKind.WAREHOUSE).order_by("code"))
        self.stores = list(locations.filter(kind=LocationKind.STORE).order_by("code"))
        stocked = StockLevel.objects.for_tenant(tenant).filter(on_hand__gt=0).values_list("product_id", flat=True)
        self.products = list(Product.objects.for_tenant(tenant).filter(active=True, id__in=stocked).order_by("sku"))
        self.customers = list(Customer.objects.for_tenant(tenant).filter(erased_at=None).order_by("id"))
        self.reasons = {r.code: r for r in ReturnReason.objects.for_tenant(tenant)}
        self.rows = {name: [] for name in ("orders", "lines", "events", "decisions", "fos", "flines", "shipments")}
        self.later = []  # (order, what happened after) for returns and feedback, once ids exist


def _write_history(tenant) -> int:
    history = _History(tenant)
    if not (history.channels and history.warehouses and history.products):
        return 0
    rng = history.rng
    with transaction.atomic():
        count = 0
        for age in range(DAYS, 0, -1):
            day = history.now - timedelta(days=age)
            busy = 14 if day.weekday() >= 5 else 9
            for _ in range(rng.randint(busy - 4, busy + 4)):
                count += 1
                _order(history, count, day.replace(hour=rng.randint(7, 21), minute=rng.randint(0, 59)))
        Order.objects.bulk_create([o for o, _ in history.rows["orders"]])
        for order, lines in history.rows["orders"]:
            for line in lines:
                line.order_id = order.id
        OrderLine.objects.bulk_create([line for _, lines in history.rows["orders"] for line in lines])
        for event in history.rows["events"]:
            event.order_id = event.order.id
        OrderEvent.objects.bulk_create(history.rows["events"])
        _fulfilments(history)
        _returns_and_feedback(history)
        _counts(history)
    return count


def _order(history: _History, n: int, placed_at) -> None:
    rng, tenant = history.rng, history.tenant
    channel = rng.choice(history.channels)
    pickup = bool(history.stores) and rng.random() < 0.2
    chosen = rng.sample(history.products, k=min(len(history.products), rng.randint(1, 3)))
    lines = []
    for number, product in enumerate(chosen, start=1):
        quantity, price = rng.randint(1, 2), Decimal(rng.choice(PRICES))
        tax = (price * quantity * Decimal("0.2")).quantize(Decimal("0.01"))
        lines.append(
            OrderLine(
                tenant=tenant,
                line_number=number,
                product=product,
                sku=product.sku,
                name=product.name[:255],
                quantity=quantity,
                unit_price=price,
                tax=tax,
                tax_rate=Decimal("20"),
                total=price * quantity + tax,
            )
        )
    customer = rng.choice(history.customers) if history.customers else None
    store = rng.choice(history.stores) if pickup else None
    order = Order(
        tenant=tenant,
        channel=channel,
        number=f"H-{n:06d}",
        external_ref=f"{PREFIX}{n:06d}",
        customer=customer,
        currency=tenant.default_currency,
        delivery_method="pickup" if pickup else "ship",
        pickup_location=store,
        shipping_address={} if pickup else {"postal_code": "75011", "city": "Paris", "country": "FR"},
        subtotal=sum((line.unit_price * line.quantity for line in lines), Decimal("0")),
        tax_total=sum((line.tax for line in lines), Decimal("0")),
        total=sum((line.total for line in lines), Decimal("0")),
        placed_at=placed_at,
        allocated_at=placed_at + timedelta(minutes=2),
        payment_status="paid",
    )
    history.rows["orders"].append((order, lines))
    _story(history, order, lines, store)


def _event(history: _History, order, kind: str, at, message="", after=None) -> None:
    history.rows["events"].append(
        OrderEvent(
            tenant=history.tenant,
            order=order,
            kind=kind,
            at=at,
            actor_label="demo history",
            message=message,
            after=after or {},
        )
    )


def _story(history: _History, order, lines, store) -> None:
    """What became of the order, drawn at random, written on its lines and timeline."""
    rng, placed = history.rng, order.placed_at
    backordered = rng.random() < 0.05
    _event(history, order, "placed", placed, after={"status": "backordered" if backordered else "placed"})
    if rng.random() < 0.04:
        for line in lines:
            line.quantity_cancelled, line.status = line.quantity, "cancelled"
        order.status = "cancelled"
        _event(history, order, "cancelled", placed + timedelta(hours=rng.randint(1, 30)), rng.choice(CANCEL_REASONS))
        order.plan = None
        return
    start = placed + timedelta(days=rng.randint(1, 3)) if backordered else placed
    if backordered:
        _event(history, order, "backorder_allocated", start)
    rejected = store is None and history.stores and rng.random() < 0.04
    shipped_at = start + timedelta(hours=rng.choice((2, 3, 5, 8, 20, 26, 30, 48)), minutes=rng.randint(0, 59))
    if store is not None:
        ready_at = start + timedelta(hours=rng.randint(1, 6))
        received_at = ready_at + timedelta(hours=rng.randint(2, 72))
        _event(history, order, "ready_for_pickup", ready_at)
        shipped_at = received_at  # a pickup leaves the store when it is collected
        order.plan = [(store, lines, None, ready_at, received_at)]
    else:
        received_at = shipped_at + timedelta(days=rng.choice((1, 1, 2, 2, 2, 3, 4)), hours=rng.randint(0, 8))
        places = [rng.choice(history.warehouses)]
        if len(lines) > 1 and rng.random() < 0.12:
            places.append(rng.choice(history.stores or history.warehouses))
        order.plan = [
            (place, lines[index :: len(places)], shipped_at + timedelta(minutes=30 * index), None, None)
            for index, place in enumerate(places)
        ]
        if rejected:
            order.plan.insert(0, (rng.choice(history.stores), [], None, None, None))
            _event(history, order, "rejected", placed + timedelta(hours=1))
    if shipped_at > history.now:  # recent: not collected or shipped yet
        shipped_at = received_at = None
    elif received_at > history.now:  # still on its way
        received_at = None
    if shipped_at is not None:
        _event(history, order, "shipped", shipped_at)
    if received_at is not None:
        _event(history, order, "collected" if store is not None else "delivered", received_at)
    if shipped_at is None:
        order.plan = [(place, part, None, ready, None) for place, part, _shipped, ready, _collected in order.plan]
    for line in lines:
        line.quantity_shipped = line.quantity
        line.quantity_delivered = line.quantity if received_at else 0
        line.status = "delivered" if received_at else "shipped"
    order.status = (
        "completed"
        if received_at and received_at < history.now - timedelta(days=30)
        else ("delivered" if received_at else "fulfilled")
    )
    promised = (placed + timedelta(days=3)).date()
    order.promised_delivery_latest = promised
    order.delivered_on_time = (received_at.date() <= promised) if received_at else None
    if received_at:
        history.later.append((order, lines, received_at))


def _fulfilments(history: _History) -> None:
    tenant, decisions, fos, flines, shipments = history.tenant, [], [], [], []
    for order, _lines in history.rows["orders"]:
        if not getattr(order, "plan", None):
            continue
        decision = RoutingDecision(tenant=tenant, order=order, policy_version=1, decided_at=order.placed_at)
        decisions.append(decision)
        order.parts = []
        for place, part_lines, shipped_at, ready_at, collected_at in order.plan:
            status = (
                "rejected"
                if not part_lines
                else "collected"
                if collected_at
                else "shipped"
                if shipped_at
                else "ready_for_pickup"
                if ready_at
                else "accepted"
            )
            fo = FulfillmentOrder(
                tenant=tenant,
                order=order,
                location=place,
                decision=decision,
                status=status,
                created_at=order.placed_at,
                ready_at=ready_at,
                closed_at=collected_at or shipped_at,
            )
            order.parts.append((fo, part_lines, shipped_at))
    RoutingDecision.objects.bulk_create(decisions)
    for order, _lines in history.rows["orders"]:
        for fo, _part_lines, _shipped in getattr(order, "parts", []):
            fo.decision_id = fo.decision.id
            fos.append(fo)
    FulfillmentOrder.objects.bulk_create(fos)
    for order, _lines in history.rows["orders"]:
        for fo, part_lines, shipped_at in getattr(order, "parts", []):
            for line in part_lines:
                flines.append(
                    FulfillmentLine(
                        tenant=tenant,
                        fulfillment=fo,
                        order_line=line,
                        quantity=line.quantity,
                        quantity_shipped=line.quantity if fo.status in ("shipped", "collected") else 0,
                    )
                )
            if shipped_at is not None:
                shipments.append(
                    Shipment(
                        tenant=tenant,
                        order=order,
                        fulfillment=fo,
                        location=fo.location,
                        carrier="colissimo",
                        shipped_at=shipped_at,
                        status="delivered" if order.status != "fulfilled" else "in_transit",
                    )
                )
    FulfillmentLine.objects.bulk_create(flines)
    Shipment.objects.bulk_create(shipments)


def _returns_and_feedback(history: _History) -> None:
    rng, tenant = history.rng, history.tenant
    feedback, prefix = [], rma_prefix(tenant)
    for order, lines, received_at in history.later:
        if order.customer_id and rng.random() < 0.4:
            score = rng.choices((1, 2, 3, 4, 5), weights=(2, 3, 10, 35, 50))[0]
            feedback.append(
                Feedback(
                    tenant=tenant,
                    order=order,
                    score=score,
                    source=rng.choice(("api", "link")),
                    created_at=received_at + timedelta(hours=rng.randint(2, 48)),
                )
            )
        if rng.random() >= 0.08 or not history.reasons:
            continue
        line = rng.choice(lines)
        reason = history.reasons.get(rng.choice(RETURN_REASONS)) or next(iter(history.reasons.values()))
        sequence = next_value(tenant=tenant, name="return")
        rma = Return.objects.create(
            tenant=tenant,
            number=f"{prefix}{sequence:06d}",
            sequence=sequence,
            order=order,
            channel=order.channel,
            method="mail",
            outcome="refund",
            status="refunded",
            requested_by="demo history",
            requested_at=received_at + timedelta(days=2),
            decided_at=received_at + timedelta(days=2),
            closed_at=received_at + timedelta(days=6),
        )
        returned = ReturnLine.objects.create(
            tenant=tenant, rma=rma, order_line=line, quantity=1, reason=reason, quantity_received=1
        )
        where = history.warehouses[0]
        ReturnReceipt.objects.create(
            tenant=tenant,
            rma=rma,
            line=returned,
            location=where,
            quantity=1,
            disposition="damaged" if reason.code in ("damaged", "defective") else "restock",
            received_at=received_at + timedelta(days=5),
            received_by="demo history",
        )
        OrderLine.objects.for_tenant(tenant).filter(id=line.id).update(quantity_returned=1)
        amount = (line.unit_price + line.tax / line.quantity).quantize(Decimal("0.01"))
        Refund.objects.create(
            tenant=tenant,
            rma=rma,
            order=order,
            amount=amount,
            currency=order.currency,
            method="original_payment",
            status="settled",
            created_at=received_at + timedelta(days=5),
            settled_at=received_at + timedelta(days=6),
            payment_reference=f"DEMO-HIST-{rma.sequence:05d}",
            settled_by="demo history",
        )
    Feedback.objects.bulk_create(feedback)


def _counts(history: _History) -> None:
    """A cycle count every week at each warehouse and store: most rows right, some a unit or two off."""
    rng, tenant = history.rng, history.tenant
    for age in range(DAYS, 0, -7):
        counted_at = (history.now - timedelta(days=age)).replace(hour=8, minute=0)
        for location in history.warehouses + history.stores:
            count = CycleCount.objects.create(
                tenant=tenant,
                number=f"HIST-CC-{location.code}-{age:03d}",
                location=location,
                status="completed",
                created_by="demo history",
                completed_by="demo history",
                completed_at=counted_at,
            )
            products = rng.sample(history.products, k=min(len(history.products), 8))
            CycleCountLine.objects.bulk_create(
                [
                    CycleCountLine(
                        tenant=tenant,
                        count=count,
                        product=product,
                        location=location,
                        expected=20,
                        variance=(variance := rng.choices((0, 1, -1, -2), weights=(85, 7, 6, 2))[0]),
                        counted=20 + variance,
                        counted_at=counted_at,
                        posted_at=counted_at,
                    )
                    for product in products
                ]
            )
