"""Backorders: units an order is waiting for get reserved when stock arrives, oldest order first."""

from django.db import transaction

from inventory import reservations as stock
from oms.actors import Actor
from oms.api.scope import Scope
from oms.models import Tenant
from orders import states
from orders.models import DeliveryMethod, EventKind, OrderLine
from orders.services.common import commit_change, locked_order, reserve, snapshot


def allocate_order_backorders(*, tenant: Tenant, order_id: int, actor: Actor) -> int:
    """Reserve what is now available for the order's backordered units; returns the units allocated."""
    with transaction.atomic():
        order = locked_order(scope=Scope.system(tenant), order_id=order_id)
        if order.status in states.TERMINAL_STATUSES:
            return 0
        lines = list(order.lines.select_related("product").all())
        waiting = [line for line in lines if line.quantity_backordered]
        if not waiting:
            return 0
        before = snapshot(order, lines)
        demands = [
            stock.LineDemand(key=line.id, product=line.product, quantity=line.quantity_backordered) for line in waiting
        ]
        locations = [order.pickup_location] if order.delivery_method == DeliveryMethod.PICKUP else None
        found = reserve(
            tenant=tenant,
            channel=order.channel,
            demands=demands,
            locations=locations,
            order_lines={line.id: line for line in waiting},
            allow_partial=True,
        )
        allocated = 0
        for line in waiting:
            got = sum(r.quantity for r in found.get(line.id, []))
            line.quantity_allocated += got
            line.quantity_backordered -= got
            allocated += got
        if allocated:
            commit_change(
                order,
                lines,
                actor=actor,
                kind=EventKind.BACKORDER_ALLOCATED,
                message=f"{allocated} backordered units reserved.",
                before=before,
                payload={"allocated_units": allocated},
            )
        return allocated


def allocate_backorders(*, tenant: Tenant, product_ids=None, actor: Actor | None = None, limit: int = 500) -> int:
    """Allocate arriving stock to backordered lines, oldest order first; one transaction per order."""
    actor = actor or Actor.system("backorders")
    queryset = (
        OrderLine.objects.for_tenant(tenant)
        .filter(quantity_backordered__gt=0)
        .exclude(order__status__in=states.TERMINAL_STATUSES)
    )
    if product_ids is not None:
        queryset = queryset.filter(product_id__in=list(product_ids))
    order_ids = list(
        dict.fromkeys(queryset.order_by("order__placed_at", "order_id").values_list("order_id", flat=True)[:limit])
    )
    return sum(allocate_order_backorders(tenant=tenant, order_id=order_id, actor=actor) for order_id in order_ids)
