"""Carrier tracking: what carriers report about a shipment after it left. Each report (status and time) is
recorded once, so a carrier that sends it twice changes nothing; the shipment shows its latest report. `delivered`
records the shipment's units as delivered on the order (once), and when every shipment is delivered the order is."""

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from fulfillment.models import Shipment, ShipmentEvent, ShipmentStatus
from fulfillment.selectors import shipments_for
from oms.api.scope import Scope
from oms.errors import NotFound
from oms.outbox import emit
from orders import services as order_services
from orders.models import EventKind, Order
from orders.services.common import write_event

# What a carrier may report; `shipped` is the hand-over itself, recorded by the location.
REPORTED = tuple(status for status in ShipmentStatus.values if status != ShipmentStatus.SHIPPED)


@dataclass(frozen=True)
class Recorded:
    event: ShipmentEvent
    created: bool  # False: the same report was recorded before


def record_tracking(*, scope: Scope, shipment_id, status: str, occurred_at=None, detail: str = "") -> Recorded:
    occurred_at = occurred_at or timezone.now()
    found = shipments_for(scope=scope).filter(id=shipment_id).values_list("order_id", flat=True).first()
    if found is None:
        raise NotFound("No such shipment.")
    with transaction.atomic():
        order = (
            Order.objects.for_tenant(scope.tenant)
            .select_for_update(of=("self",))
            .select_related("channel")
            .get(id=found)
        )
        shipment = Shipment.objects.for_tenant(scope.tenant).select_for_update(of=("self",)).get(id=shipment_id)
        seen = ShipmentEvent.objects.for_tenant(scope.tenant).filter(
            shipment=shipment, status=status, occurred_at=occurred_at
        )
        if (earlier := seen.first()) is not None:
            return Recorded(event=earlier, created=False)
        try:
            with transaction.atomic():
                event = ShipmentEvent.objects.create(
                    tenant=scope.tenant,
                    shipment=shipment,
                    status=status,
                    occurred_at=occurred_at,
                    detail=detail,
                    recorded_by=scope.actor.label[:200],
                )
        except IntegrityError:  # the same report, recorded by a concurrent call
            return Recorded(event=seen.get(), created=False)
        latest = (
            ShipmentEvent.objects.for_tenant(scope.tenant).filter(shipment=shipment).order_by("-occurred_at", "-id")
        )
        newest = latest.first()
        shipment.status = newest.status
        shipment.updated_at = timezone.now()
        fields = ["status", "updated_at"]
        if status == ShipmentStatus.DELIVERED and shipment.delivered_at is None:
            shipment.delivered_at = occurred_at
            fields.append("delivered_at")
            shipment.save(update_fields=fields)
            _deliver(scope=scope, order=order, shipment=shipment)
        else:
            shipment.save(update_fields=fields)
            write_event(
                order,
                actor=scope.actor,
                kind=EventKind.TRACKING,
                message=f"Shipment {shipment.id} ({shipment.carrier}): {status}"
                + (f", {detail}" if detail else "")
                + ".",
            )
        return Recorded(event=event, created=True)


def _deliver(*, scope: Scope, order, shipment) -> None:
    order_services.record_delivery(
        tenant=scope.tenant,
        order_id=order.id,
        lines=[order_services.LineQuantity(line.order_line_id, line.quantity) for line in shipment.lines.all()],
        actor=scope.actor,
        reference=f"Shipment {shipment.id} ({shipment.carrier}) delivered.",
        delivered_at=shipment.delivered_at,
    )
    emit(
        scope.tenant,
        "shipment.delivered",
        {
            "shipment_id": shipment.id,
            "fulfillment_id": shipment.fulfillment_id,
            "order_id": order.id,
            "number": order.number,
            "channel": order.channel.code,
            "carrier": shipment.carrier,
            "tracking_numbers": shipment.tracking_numbers,
            "delivered_at": shipment.delivered_at.isoformat(),
        },
    )
