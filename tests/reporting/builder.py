"""A hand-built data set with known KPI answers: rows written straight into the tables the aggregation reads, at
chosen instants, for the tenant's time zone (Europe/Paris, UTC+1 in March).

The day D is 2026-03-10 in Paris. Orders placed on D through channel WEB:
- O1, 08:00 Paris: 2 × P1 at 10.00 and 1 × P2 at 20.00 (40.00), shipped from WH 5 h after placing, delivered two
  days after placing, on time; 1 unit of P1 returned (too_small), refunded 12.00; satisfaction 4.
- O2, 23:30 Paris: 2 × P1 at 10.00 (20.00), split over WH and PAR (PAR first rejected a part), first shipment 2 h
  after placing, delivered three days after placing, late.
- O3, 00:30 Paris (23:30 UTC the day before): click & collect of 1 × P2 at 20.00 at PAR, ready 1 h after placing,
  collected 8 h later, on time; satisfaction 5.
- O4, 11:00 Paris: 1 × P1 at 10.00, backordered, then cancelled (customer_request).
And O5 at 23:30 Paris on D-1: 1 × P1 at 10.00, placed only.
Stock: P1 at WH (cost 4.00): +10 on D-1, -5 on D+1, 5 on hand today; P2 at WH (no cost): +3 on D-1, -3 on D;
P1 at PAR: nothing, ever. Cycle count at PAR on D: 4 rows with variances 0, 0, 1, -3.
"""

from datetime import date, datetime
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from fulfillment.models import FulfillmentLine, FulfillmentOrder, RoutingDecision, Shipment
from inventory.models import CycleCount, CycleCountLine, StockLevel, StockMovement
from orders.models import Feedback, Order, OrderEvent, OrderLine
from returns.models import Refund, Return, ReturnLine, ReturnReason, ReturnReceipt
from tests import factories

PARIS = ZoneInfo("Europe/Paris")
UTC = ZoneInfo("UTC")
D = date(2026, 3, 10)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """An instant in March 2026, UTC."""
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


class Builder:
    def __init__(self, tenant, code="WEB"):
        self.tenant = tenant
        self.channel = factories.ChannelFactory(tenant=tenant, code=code, kind="web")
        self.wh = factories.LocationFactory(tenant=tenant, code=f"{code}-WH", kind="warehouse")
        self.par = factories.LocationFactory(tenant=tenant, code=f"{code}-PAR", kind="store", pickup=True)
        self.p1 = factories.ProductFactory(tenant=tenant, sku=f"{code}-P1", attributes={"cost": "4.00"})
        self.p2 = factories.ProductFactory(tenant=tenant, sku=f"{code}-P2")

    def order(self, ref, placed_at, lines, *, method="ship", on_time=None, status="placed", pickup=None):
        order = Order.objects.create(
            tenant=self.tenant,
            channel=self.channel,
            number=ref,
            external_ref=ref,
            currency="EUR",
            delivery_method=method,
            pickup_location=pickup,
            status=status,
            placed_at=placed_at,
            delivered_on_time=on_time,
            total=sum((Decimal(price) * qty for _p, qty, price, *_ in lines), Decimal("0")),
        )
        order.line_list = []
        for number, (product, qty, price, *rest) in enumerate(lines, start=1):
            shipped, delivered, cancelled, returned = (list(rest) + [0, 0, 0, 0])[:4]
            order.line_list.append(
                OrderLine.objects.create(
                    tenant=self.tenant,
                    order=order,
                    line_number=number,
                    product=product,
                    sku=product.sku,
                    quantity=qty,
                    quantity_allocated=qty - shipped - cancelled,
                    quantity_shipped=shipped,
                    quantity_delivered=delivered,
                    quantity_cancelled=cancelled,
                    quantity_returned=returned,
                    unit_price=Decimal(price),
                    total=Decimal(price) * qty,
                )
            )
        self.event(order, "placed", placed_at)
        return order

    def event(self, order, kind, when, message="", after=None):
        return OrderEvent.objects.create(
            tenant=self.tenant, order=order, kind=kind, at=when, actor_label="tests", message=message, after=after or {}
        )

    def part(self, order, location, units, *, status="shipped", shipped_at=None, ready_at=None, closed_at=None):
        decision = RoutingDecision.objects.create(tenant=self.tenant, order=order, policy_version=1)
        fulfillment = FulfillmentOrder.objects.create(
            tenant=self.tenant,
            order=order,
            location=location,
            decision=decision,
            status=status,
            ready_at=ready_at,
            closed_at=closed_at,
        )
        for line, qty in units:
            FulfillmentLine.objects.create(
                tenant=self.tenant,
                fulfillment=fulfillment,
                order_line=line,
                quantity=qty,
                quantity_shipped=qty if status in ("shipped", "collected") else 0,
                quantity_rejected=qty if status == "rejected" else 0,
            )
        if shipped_at is not None:
            Shipment.objects.create(
                tenant=self.tenant,
                order=order,
                fulfillment=fulfillment,
                location=location,
                carrier="dpd",
                shipped_at=shipped_at,
            )
        return fulfillment

    def stock(self, product, location, on_hand, movements):
        level = StockLevel.objects.create(tenant=self.tenant, product=product, location=location, on_hand=on_hand)
        for quantity, when in movements:
            StockMovement.objects.create(
                tenant=self.tenant, stock_level=level, kind="adjustment", quantity=quantity, occurred_at=when
            )
        return level


def build(tenant, code="WEB") -> SimpleNamespace:
    b = Builder(tenant, code)
    p1, p2, wh, par = b.p1, b.p2, b.wh, b.par

    o1 = b.order(
        f"{code}-O1",
        at(10, 7),
        [(p1, 2, "10.00", 2, 2, 0, 1), (p2, 1, "20.00", 1, 1)],
        on_time=True,
        status="delivered",
    )
    b.part(o1, wh, [(o1.line_list[0], 2), (o1.line_list[1], 1)], shipped_at=at(10, 12))
    b.event(o1, "shipped", at(10, 12))
    b.event(o1, "delivered", at(12, 7))

    o2 = b.order(f"{code}-O2", at(10, 22, 30), [(p1, 2, "10.00", 2, 2)], on_time=False, status="delivered")
    b.part(o2, par, [(o2.line_list[0], 1)], status="rejected")
    b.event(o2, "rejected", at(10, 23))
    b.part(o2, wh, [(o2.line_list[0], 1)], shipped_at=at(11, 0, 30))
    b.part(o2, par, [(o2.line_list[0], 1)], shipped_at=at(11, 1))
    b.event(o2, "shipped", at(11, 0, 30))
    b.event(o2, "delivered", at(13, 22, 30))

    o3 = b.order(
        f"{code}-O3",
        at(9, 23, 30),
        [(p2, 1, "20.00", 1, 1)],
        method="pickup",
        pickup=par,
        on_time=True,
        status="delivered",
    )
    b.part(o3, par, [(o3.line_list[0], 1)], status="collected", ready_at=at(10, 0, 30), closed_at=at(10, 8, 30))
    b.event(o3, "ready_for_pickup", at(10, 0, 30))
    b.event(o3, "shipped", at(10, 8, 30))
    b.event(o3, "collected", at(10, 8, 30))

    o4 = b.order(f"{code}-O4", at(10, 10), [(p1, 1, "10.00", 0, 0, 1)], status="cancelled")
    OrderEvent.objects.for_tenant(tenant).filter(order=o4, kind="placed").update(after={"status": "backordered"})
    b.event(o4, "cancelled", at(10, 11), message="customer_request")

    o5 = b.order(f"{code}-O5", at(9, 22, 30), [(p1, 1, "10.00")])

    reason = ReturnReason.objects.for_tenant(tenant).get(code="too_small")
    rma = Return.objects.create(
        tenant=tenant,
        number=f"{code}-RMA-1",
        sequence=1 if code == "WEB" else 2,
        order=o1,
        channel=b.channel,
        method="mail",
        status="refunded",
    )
    line = ReturnLine.objects.create(
        tenant=tenant, rma=rma, order_line=o1.line_list[0], quantity=1, reason=reason, quantity_received=1
    )
    ReturnReceipt.objects.create(
        tenant=tenant,
        rma=rma,
        line=line,
        location=wh,
        quantity=1,
        disposition="restock",
        received_at=at(14, 9),
        received_by="tests",
    )
    Refund.objects.create(
        tenant=tenant, rma=rma, order=o1, amount=Decimal("12.00"), currency="EUR", method="original_payment"
    )
    Feedback.objects.create(tenant=tenant, order=o1, score=4, source="api")
    Feedback.objects.create(tenant=tenant, order=o3, score=5, source="link")

    b.stock(p1, wh, 5, [(10, at(9, 9)), (-5, at(11, 9))])
    b.stock(p2, wh, 0, [(3, at(9, 9)), (-3, at(10, 9))])
    b.stock(p1, par, 0, [])
    count = CycleCount.objects.create(tenant=tenant, number=f"{code}-CC-1", location=par, status="completed")
    for variance in (0, 0, 1, -3):
        product = factories.ProductFactory(tenant=tenant)
        CycleCountLine.objects.create(
            tenant=tenant,
            count=count,
            product=product,
            location=par,
            counted=10 + variance,
            expected=10,
            variance=variance,
            counted_at=at(10, 14),
            posted_at=at(10, 15),
        )
    return SimpleNamespace(builder=b, channel=b.channel, wh=wh, par=par, orders=[o1, o2, o3, o4, o5])
