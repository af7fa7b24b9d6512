"""Fulfilment listens to the orders app (which may not import it): every committed order change reconciles the
order's open fulfilment orders with its reservations, every order detail shows its fulfilment, and a customer's
personal data export and erasure cover their shipments. It listens to the inventory app's transfers too: a transfer
bringing a pickup order's units to its store releases them at the source when it ships and reserves them at the
store when it arrives. It gives availability answers and orders their delivery promise."""

from fulfillment.selectors import attach_to_order
from fulfillment.services.execution import reconcile
from fulfillment.services.privacy import erase_from_shipments, shipments_of
from fulfillment.services.promises import fill_availability_promises, order_promises
from fulfillment.services.store_transfers import release_for_shipping, reserve_on_receipt, route_again_without
from inventory.availability import register_promise_provider
from inventory.signals import transfer_cancelled, transfer_received, transfer_shipping
from orders.promises import register_promise_rule
from orders.selectors import register_detail_part
from orders.services.privacy import PersonalDataSource, register_personal_data
from orders.signals import order_changed


def _reconcile(sender, order, kind, **kwargs):
    reconcile(order=order, kind=kind)


def _transfer_shipping(sender, tenant, transfer, actor, **kwargs):
    release_for_shipping(tenant=tenant, transfer=transfer, actor=actor)


def _transfer_received(sender, tenant, transfer, actor, **kwargs):
    reserve_on_receipt(tenant=tenant, transfer=transfer, actor=actor)


def _transfer_cancelled(sender, tenant, transfer, actor, **kwargs):
    route_again_without(tenant=tenant, transfer=transfer, actor=actor)


def connect() -> None:
    order_changed.connect(_reconcile, dispatch_uid="fulfillment.reconcile")
    transfer_shipping.connect(_transfer_shipping, dispatch_uid="fulfillment.transfer_shipping")
    transfer_received.connect(_transfer_received, dispatch_uid="fulfillment.transfer_received")
    transfer_cancelled.connect(_transfer_cancelled, dispatch_uid="fulfillment.transfer_cancelled")
    register_detail_part(attach_to_order)
    register_personal_data(PersonalDataSource("shipments", export=shipments_of, erase=erase_from_shipments))
    register_promise_provider(fill_availability_promises)
    register_promise_rule(order_promises)
