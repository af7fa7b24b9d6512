"""Fulfilment listens to the orders app (which may not import it): every committed order change reconciles the
order's open fulfilment orders with its reservations, and every order detail shows its fulfilment."""

from fulfillment.selectors import attach_to_order
from fulfillment.services.execution import reconcile
from orders.selectors import register_detail_part
from orders.signals import order_changed


def _reconcile(sender, order, kind, **kwargs):
    reconcile(order=order, kind=kind)


def connect() -> None:
    order_changed.connect(_reconcile, dispatch_uid="fulfillment.reconcile")
    register_detail_part(attach_to_order)
