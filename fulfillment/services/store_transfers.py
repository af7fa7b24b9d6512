"""Pickup orders whose store lacks the stock: routing places the missing units at locations that ship (routing.py,
`transfer_to_store`), and each such location sends them to the store by a stock transfer, the one path that moves
stock between locations (inventory.transfers). The store's fulfilment order waits for it (`awaiting_transfer`).

1. Routing: the units stay reserved at the sending location; a draft transfer to the store is requested and linked
   to the store's fulfilment order (request_transfer, from plans.py).
2. The sending location ships the transfer (its WMS, the back office: `POST /api/v1/inventory/transfers/{id}/ship/`):
   just before the units leave, their reservation there is released, and the order counts them as waiting for
   stock (backordered) while they travel; backorder routing leaves them alone (units_in_transit).
   A draft cancelled instead sends the units back to routing (route_again_without): released at the source, they
   wait for stock, and backorder routing places them again.
3. The store receives it: in the same transaction as the `transfer_in` movements, the units are reserved at the
   store for the order (the backorder-arrived path of the orders services) and the fulfilment order becomes
   `pending`, workable like any other. Units that did not arrive are taken off it and wait for stock again.

An order cancelled or changed meanwhile has its fulfilment order cancelled by reconciliation as usual; the transfer
still arrives, and its units are the store's stock."""

from django.db import transaction
from django.utils import timezone

from fulfillment import states
from fulfillment.models import FulfillmentLine, FulfillmentOrder, FulfillmentStatus
from inventory.models import Transfer
from inventory.transfers import create_transfer
from oms.actors import Actor
from oms.errors import IllegalTransition
from oms.models import Tenant
from orders import services as order_services
from orders.models import EventKind, Order, OrderLine

F = FulfillmentStatus
ROUTING = Actor.system("routing")


def request_transfer(*, tenant: Tenant, order, source, store, served: list) -> Transfer:
    """A draft transfer of the served units [(order line id, units)] from `source` to the pickup store."""
    skus = dict(
        OrderLine.objects.for_tenant(tenant).filter(id__in=[line_id for line_id, _ in served]).values_list("id", "sku")
    )
    return create_transfer(
        tenant=tenant,
        actor=ROUTING,
        source=source.code,
        destination=store.code,
        lines=[(skus[line_id], units) for line_id, units in served],
        note=f"Pickup order {order.number}",
    )


def _awaiting(tenant: Tenant, transfer: Transfer) -> list[FulfillmentOrder]:
    return list(
        FulfillmentOrder.objects.for_tenant(tenant)
        .filter(transfer=transfer, status=F.AWAITING_TRANSFER)
        .select_related("location")
        .order_by("id")
    )


def release_for_shipping(*, tenant: Tenant, transfer: Transfer, actor: Actor) -> None:
    """The transfer leaves its source: the units it carries for pickup orders are no longer reserved there."""
    for fulfillment in _awaiting(tenant, transfer):
        lines = [line for line in fulfillment.lines.order_by("id") if line.quantity_open]
        if not lines:
            continue
        order_services.move_units(
            tenant=tenant,
            order_id=fulfillment.order_id,
            taken={(transfer.source_id, line.order_line_id): line.quantity_open for line in lines},
            placements={},
            actor=actor,
            kind=EventKind.AWAITING_TRANSFER,
            message=f"On their way from {transfer.source.code} to {transfer.destination.code} ({transfer.number}).",
            payload={"transfer": transfer.number},
        )


def route_again_without(*, tenant: Tenant, transfer: Transfer, actor: Actor) -> None:
    """The draft transfer was cancelled: the store stops waiting for it, and the units it was to bring are released
    at its source to wait for stock (backorder routing places them again, at the store or by another transfer)."""
    for fulfillment in _awaiting(tenant, transfer):
        lines = list(fulfillment.lines.order_by("id"))
        taken = {(transfer.source_id, line.order_line_id): line.quantity_open for line in lines if line.quantity_open}
        for line in lines:
            line.quantity_cancelled += line.quantity_open
        FulfillmentLine.all_tenants.bulk_update(lines, ["quantity_cancelled"])
        fulfillment.status, fulfillment.closed_at = F.CANCELLED, timezone.now()
        fulfillment.updated_at = fulfillment.closed_at
        fulfillment.save(update_fields=["status", "closed_at", "updated_at"])
        if taken:
            order_services.move_units(
                tenant=tenant,
                order_id=fulfillment.order_id,
                taken=taken,
                placements={},
                actor=actor,
                kind=EventKind.REROUTED,
                message=f"Transfer {transfer.number} to {transfer.destination.code} cancelled: the units wait "
                "for stock.",
                payload={"transfer": transfer.number},
            )


def reserve_on_receipt(*, tenant: Tenant, transfer: Transfer, actor: Actor) -> None:
    """The transfer arrived at the store: the units its pickup orders await are reserved there, and their
    fulfilment orders become workable; what did not arrive is taken off them."""
    received = {line.product_id: line.received_quantity or 0 for line in transfer.lines.all()}
    for fulfillment in _awaiting(tenant, transfer):
        lines = list(fulfillment.lines.select_related("order_line").order_by("id"))
        placements, short = {}, []
        for line in lines:
            product_id = line.order_line.product_id
            units = min(line.quantity_open, received.get(product_id, 0))
            received[product_id] = received.get(product_id, 0) - units
            if units:
                placements[line.order_line_id] = [(fulfillment.location, units)]
            if units < line.quantity_open:
                short.append((line, line.quantity_open - units))
        with transaction.atomic():
            updated = (
                order_services.allocate_backorders_as_planned(
                    tenant=tenant, order_id=fulfillment.order_id, placements=placements, actor=actor
                )
                if placements
                else None
            )
            if updated is None:
                # The order no longer waits for these units (cancelled, changed): they are the store's stock now.
                short = [(line, line.quantity_open) for line in lines if line.quantity_open]
            for line, units in short:
                line.quantity_cancelled += units
            FulfillmentLine.all_tenants.bulk_update(lines, ["quantity_cancelled"])
            fulfillment.updated_at = timezone.now()
            if any(line.quantity_open for line in lines):
                fulfillment.status = _released(fulfillment)
            else:
                fulfillment.status, fulfillment.closed_at = F.CANCELLED, fulfillment.updated_at
            fulfillment.save(update_fields=["status", "updated_at", "closed_at"])


def _released(fulfillment: FulfillmentOrder) -> str:
    try:
        return states.check_step(fulfillment, "transfer_received")
    except IllegalTransition:  # pragma: no cover - _awaiting reads only fulfilment orders awaiting the transfer
        return fulfillment.status


def units_in_transit(*, tenant: Tenant, order: Order) -> dict:
    """{order line id: units} of the order travelling to its pickup store on a shipped transfer: they are
    backordered, and no routing may place them elsewhere meanwhile."""
    units: dict = {}
    rows = FulfillmentLine.objects.for_tenant(tenant).filter(
        fulfillment__order=order,
        fulfillment__status=F.AWAITING_TRANSFER,
        fulfillment__transfer__status=Transfer.Status.IN_TRANSIT,
    )
    for line in rows:
        if line.quantity_open:
            units[line.order_line_id] = units.get(line.order_line_id, 0) + line.quantity_open
    return units
