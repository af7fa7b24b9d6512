"""Fulfilment listens to the orders app (which may not import it): every committed order change reconciles the
order's open fulfilment orders with its reservations, every order detail shows its fulfilment, and a customer's
personal data export and erasure cover their shipments. It gives availability answers and orders their delivery
promise."""

from fulfillment.selectors import attach_to_order
from fulfillment.services.execution import reconcile
from fulfillment.services.privacy import erase_from_shipments, shipments_of
from fulfillment.services.promises import fill_availability_promises, order_promises
from inventory.availability import register_promise_provider
from orders.promises import register_promise_rule
from orders.selectors import register_detail_part
from orders.services.privacy import PersonalDataSource, register_personal_data
from orders.signals import order_changed


def _reconcile(sender, order, kind, **kwargs):
    reconcile(order=order, kind=kind)


def connect() -> None:
    order_changed.connect(_reconcile, dispatch_uid="fulfillment.reconcile")
    register_detail_part(attach_to_order)
    register_personal_data(PersonalDataSource("shipments", export=shipments_of, erase=erase_from_shipments))
    register_promise_provider(fill_availability_promises)
    register_promise_rule(order_promises)
