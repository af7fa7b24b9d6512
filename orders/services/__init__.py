"""Order use cases (writes), one module per job; callers import them from here.

- intake: place_order (checked in intake_checks), match_customer
- holds: hold_order, release_hold
- changes: cancel_order, edit_order
- fulfilment: the facts fulfilment records (allocate_as_planned, allocate_many, move_units,
  allocate_backorders_as_planned, record_shipment, record_delivery, record_return) and complete_order; routing
  (the fulfillment app) decides where, these move the units
- common: what they share (the locked order, the committed change, reservation moves)
- privacy: a customer's personal data: export_customer, erase_customer (GDPR)
- feedback: satisfaction responses (record_feedback) and the signed link a customer answers through
  (feedback_link, read_link, linked_order)

Each public function is one transaction that locks the order row, checks the state machine
(orders/states.py), writes an OrderEvent to the timeline and emits its outbox events.
"""

from orders.amounts import ZERO
from orders.services.changes import cancel_order, edit_order
from orders.services.feedback import feedback_link, linked_order, read_link, record_feedback
from orders.services.fulfilment import (
    allocate_as_planned,
    allocate_backorders_as_planned,
    allocate_many,
    complete_order,
    move_units,
    record_delivery,
    record_return,
    record_shipment,
)
from orders.services.holds import hold_order, release_hold
from orders.services.inputs import LineInput, LineQuantity, OrderInput, PromotionInput
from orders.services.intake import match_customer, place_order
from orders.services.intake_checks import max_lines
from orders.services.privacy import erase_customer, export_customer

__all__ = [
    "ZERO",
    "LineInput",
    "LineQuantity",
    "OrderInput",
    "PromotionInput",
    "place_order",
    "match_customer",
    "max_lines",
    "hold_order",
    "release_hold",
    "cancel_order",
    "edit_order",
    "allocate_as_planned",
    "allocate_many",
    "allocate_backorders_as_planned",
    "move_units",
    "record_shipment",
    "record_delivery",
    "record_return",
    "complete_order",
    "export_customer",
    "erase_customer",
    "record_feedback",
    "feedback_link",
    "read_link",
    "linked_order",
]
