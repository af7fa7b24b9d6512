"""What fulfilment keeps about a customer's orders, for their export and erasure (orders.services.privacy, which
calls these through the source registered in fulfillment.receivers): shipments with their carrier's tracking
events, and the free texts of fulfilment orders (routing reason, parcel references)."""

from fulfillment.models import FulfillmentOrder, Shipment, ShipmentEvent
from oms.models import Tenant
from orders.services.privacy import Scrubber


def shipments_of(tenant: Tenant, order_ids: list[int]) -> list[dict]:
    shipments = (
        Shipment.objects.for_tenant(tenant)
        .filter(order_id__in=order_ids)
        .select_related("order", "location")
        .prefetch_related("lines__order_line", "events")
        .order_by("id")
    )
    return [
        {
            "order_number": shipment.order.number,
            "location": shipment.location.code,
            "carrier": shipment.carrier,
            "service": shipment.service,
            "tracking_numbers": shipment.tracking_numbers,
            "tracking_url": shipment.tracking_url,
            "parcels": shipment.parcels,
            "status": shipment.status,
            "shipped_at": shipment.shipped_at,
            "delivered_at": shipment.delivered_at,
            "lines": [{"sku": line.order_line.sku, "quantity": line.quantity} for line in shipment.lines.all()],
            "tracking": [
                {"status": event.status, "occurred_at": event.occurred_at, "detail": event.detail}
                for event in sorted(shipment.events.all(), key=lambda event: (event.occurred_at, event.id))
            ],
        }
        for shipment in shipments
    ]


def erase_from_shipments(tenant: Tenant, order_ids: list[int], scrubber: Scrubber) -> int:
    """Rewrites the texts a carrier or a location may have copied the recipient into; quantities, statuses and
    dates stay."""
    changed = scrubber.rewrite(
        FulfillmentOrder.objects.for_tenant(tenant).filter(order_id__in=order_ids),
        text=("reason",),
        data=("parcels",),
    )
    changed += scrubber.rewrite(
        Shipment.objects.for_tenant(tenant).filter(order_id__in=order_ids),
        text=("tracking_url",),
        data=("parcels", "tracking_numbers"),
    )
    changed += scrubber.rewrite(
        ShipmentEvent.objects.for_tenant(tenant).filter(shipment__order_id__in=order_ids), text=("detail",)
    )
    return changed
