"""The event registry: every topic the system emits, what it means and what its payload holds. It is the one list:
`oms.outbox.emit()` refuses a topic that is not here, webhook subscriptions may name only these (or `*`), and a
test checks that every topic here is emitted somewhere in the code and documented in docs/events.md.

Every payload is JSON. Order events share the order's identity (ORDER); the others say what they carry."""

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class EventType:
    topic: str
    description: str
    payload: dict  # field → what it holds


ORDER = {
    "order_id": "the order's id",
    "number": "the order's number (SO-000123)",
    "external_ref": "the channel's own reference",
    "channel": "the channel's code",
    "status": "the order's status after the change",
    "version": "the order's version after the change",
}
FULFILLMENT = {
    "fulfillment_id": "the fulfilment order's id",
    "order_id": "the order's id",
    "number": "the order's number",
    "channel": "the channel's code",
    "location": "the fulfilling location's code",
    "status": "the fulfilment order's status after the step",
}
LINES = "[{id, sku, quantity}]: the order lines concerned and their units"
RETURN = {
    "return_id": "the return's id",
    "number": "the RMA number (RMA-000123)",
    "order_id": "the order's id",
    "order_number": "the order's number",
    "channel": "the order's channel code",
    "status": "the return's status after the change",
}

_TYPES = (
    EventType("order.placed", "An order was accepted.", {**ORDER, "delivery_method": "ship, pickup or in_store",
              "on_hold": "whether it was placed on hold", "total": "the total charged", "currency": "ISO 4217"}),
    EventType("order.updated", "An order changed (edited, re-routed, lines cancelled, shipped, delivered, returned, "
              "completed, …).", {**ORDER, "change": "the timeline kind of the change (edited, rerouted, shipped, …)"}),
    EventType("order.on_hold", "An order was put on hold.", {**ORDER, "hold_kind": "manual, fraud or payment",
              "reason": "why"}),
    EventType("order.released", "A hold was released; routing takes the order on.",
              {**ORDER, "change": "hold_released"}),
    EventType("order.cancelled", "All or some units of an order were cancelled and their stock released.",
              {**ORDER, "reason": "why", "lines": LINES, "whole_order": "true when nothing is left"}),
    EventType("order.allocated", "Routing settled where every reserved unit of the order is fulfilled from.",
              {**ORDER}),
    EventType("order.backordered", "Some units of the order wait for stock.", {**ORDER, "lines": LINES}),
    EventType("order.fulfilled", "Every unit of the order has shipped.", {**ORDER}),
    EventType("order.delivered", "Every unit of the order was delivered.", {**ORDER}),
    EventType("order.ready_for_pickup", "A pickup order is ready at its store; the shop passes the pickup code "
              "to its customer (it is sent only here, never shown to the store's staff).",
              {**ORDER, "fulfillment_id": "the store's fulfilment order", "location": "the store's code",
               "pickup_code": "the code the customer shows at the store (8 characters)",
               "pickup_expires_at": "when the order is cancelled if not collected (ISO 8601)"}),
    EventType("order.pickup_reminder", "A pickup order's hold ends within a day: remind the customer.",
              {**ORDER, "fulfillment_id": "the store's fulfilment order", "location": "the store's code",
               "pickup_expires_at": "when the order is cancelled if not collected (ISO 8601)"}),
    EventType("order.collected", "The customer collected a pickup order (all or some units; the rest was "
              "cancelled, back on sale).",
              {**ORDER, "fulfillment_id": "the store's fulfilment order", "location": "the store's code",
               "lines": LINES + " collected", "not_collected": LINES + " not taken (cancelled)",
               "verification": "{method: pickup_code or identity_check, checked_by: who checked}",
               "collected_at": "when (ISO 8601)"}),
    EventType("order.feedback_received", "The customer rated an order they received (one response per order), "
              "through the shop (API) or the link the shop sent them.",
              {**ORDER, "feedback_id": "the response's id", "score": "from 1 (very dissatisfied) to 5 (very "
               "satisfied)", "comment": "the customer's words, or empty", "source": "api or link",
               "created_at": "when (ISO 8601)"}),
    EventType("fulfillment.created", "Routing gave a location part of an order to fulfil.",
              {**{k: v for k, v in FULFILLMENT.items() if k != "status"},
               "reason": "initial, reroute, rejection or backorder: why routing ran",
               "status": "pending, or awaiting_transfer for a pickup store waiting for a stock transfer",
               "transfer": "the awaited transfer's number (TR-000123), or null",
               "lines": "[{order_line, quantity}]"}),
    EventType("fulfillment.accepted", "The location accepted its fulfilment order.", FULFILLMENT),
    EventType("fulfillment.rejected", "The location rejected some or all units; they were routed again.",
              {**FULFILLMENT, "reason": "out_of_stock, damaged or no_capacity",
               "lines": "[{order_line, sku, quantity}] rejected", "rerouted_to": "the codes of the locations that "
               "took them", "backordered": "units no location could take (they wait for stock)"}),
    EventType("fulfillment.shipped", "Units left a location with a carrier.",
              {**FULFILLMENT, "shipment_id": "the shipment's id", "carrier": "the carrier's code",
               "service": "the carrier's service", "tracking_numbers": "[...]", "tracking_url": "the tracking page",
               "lines": "[{order_line, sku, quantity}] shipped", "complete": "true when nothing is left to ship "
               "from that location"}),
    EventType("shipment.delivered", "The carrier delivered a shipment.",
              {"shipment_id": "the shipment's id", "fulfillment_id": "its fulfilment order", "order_id": "the order",
               "number": "the order's number", "channel": "the channel's code", "carrier": "the carrier's code",
               "tracking_numbers": "[...]", "delivered_at": "when (ISO 8601)"}),
    EventType("invoice.issued", "An invoice or a credit note was issued.",
              {"invoice_id": "its id", "number": "its gap-free number", "kind": "invoice or credit_note",
               "order_id": "the order", "order_number": "the order's number", "total": "the total",
               "currency": "ISO 4217"}),
    EventType("return.requested", "A return (RMA) was requested for units of an order.",
              {**RETURN, "method": "mail or store", "outcome": "refund, exchange, store_credit or empty",
               "lines": "[{order_line, sku, quantity, reason}] asked back"}),
    EventType("return.approved", "A return was approved: the customer may send or bring the units back.",
              {**RETURN, "auto_approved": "true when the tenant's auto-approval rules approved it"}),
    EventType("return.rejected", "A requested return was refused.", {**RETURN, "reason": "why"}),
    EventType("return.cancelled", "A return was withdrawn before anything came back.",
              {**RETURN, "reason": "why, if said"}),
    EventType("return.received", "Units of a return arrived at a location and were inspected.",
              {**RETURN, "location": "the receiving location's code",
               "lines": "[{order_line, sku, quantity, disposition}] received (restock, damaged, write_off, "
                        "to_vendor)"}),
    EventType("return.refund_due", "Money is owed back for a return: pay it and settle the refund, or (method "
              "store_credit) the customer's store credit was recorded.",
              {**RETURN, "refund_id": "the refund's id", "amount": "the amount", "currency": "ISO 4217",
               "method": "original_payment or store_credit", "refund_status": "pending, or settled for store credit",
               "credit_note": "the credit note's number, or null when nothing was invoiced"}),
    EventType("return.closed", "A return reached its end: refunded, exchanged or closed.",
              {**RETURN, "amount_due": "what the customer owes for an exchange worth more than the returned items"}),
    EventType("refund.settled", "The payment side paid a refund.",
              {**RETURN, "refund_id": "the refund's id", "amount": "the amount", "currency": "ISO 4217",
               "payment_reference": "the payment's reference"}),
    EventType("stock.adjusted", "Stock arrived or was corrected upwards (receipt, snapshot, count, transfer in); "
              "backorders are routed to it.",
              {"source": "adjustments, snapshot, count or transfer", "skus": "[...] whose stock rose",
               "locations": "[...] location codes", "rows": "how many stock rows rose",
               "batch / count / transfer": "the reference of the batch, count or transfer"}),
    EventType("stock.low", "Available stock fell to or below an alert rule's threshold.",
              {"rule_id": "the alert rule", "sku": "the SKU", "threshold": "the rule's threshold",
               "available": "units available now", "location / channel": "what the rule watches"}),
    EventType("stock.recovered", "Available stock rose back above an alert rule's threshold.",
              {"rule_id": "the alert rule", "sku": "the SKU", "threshold": "the rule's threshold",
               "available": "units available now", "location / channel": "what the rule watches"}),
    EventType("reservation.expired", "An order line's reservation expired and its units went back on sale.",
              {"reservation_id": "the reservation", "order_line_id": "its order line", "sku": "the SKU",
               "location": "the location's code", "quantity": "units released"}),
)  # fmt: skip

EVENTS: dict[str, EventType] = {event.topic: event for event in _TYPES}
# Payload fields meant for the receiving system only: a page that shows payloads masks them (mask_secrets).
SECRET_FIELDS = frozenset({"pickup_code"})
MASK = "••••••••"
KNOWN_EVENTS = tuple(EVENTS)


def check_topic(topic: str) -> None:
    """A topic the registry does not list is a programming error: nobody could subscribe to it."""
    if topic not in EVENTS:
        raise ValueError(f"unregistered event topic {topic!r}: add it to oms.events")


def mask_secrets_in_text(body: str) -> str:
    """A JSON text (a webhook body as received) with every SECRET_FIELDS value replaced by MASK."""
    return _SECRET_IN_TEXT.sub(lambda match: f'{match.group(1)}"{MASK}"', body or "")


_SECRET_IN_TEXT = re.compile(r'("(?:' + "|".join(sorted(SECRET_FIELDS)) + r')"\s*:\s*)"(?:[^"\\]|\\.)*"')


def mask_secrets(payload):
    """The payload (any JSON value) with every SECRET_FIELDS value replaced by MASK, at any depth."""
    if isinstance(payload, dict):
        return {key: MASK if key in SECRET_FIELDS else mask_secrets(value) for key, value in payload.items()}
    if isinstance(payload, list):
        return [mask_secrets(value) for value in payload]
    return payload
