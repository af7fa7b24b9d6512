"""Event topics that webhooks can subscribe to."""
KNOWN_EVENTS = (
    "order.placed", "order.updated", "order.on_hold", "order.released", "order.cancelled", "order.allocated",
    "order.backordered", "order.ready_for_pickup", "order.picked_up", "order.fulfilled", "order.delivered",
    "fulfillment.created", "fulfillment.shipped", "shipment.delivered",
    "return.created", "return.received", "return.refunded",
    "stock.low", "stock.recovered", "stock.adjusted",
    "invoice.issued",
)
