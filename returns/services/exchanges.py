"""Exchanges: the replacement order placed when an exchange is requested, and what happens to it afterwards.

The replacement is an ordinary order of the original's channel, for the same customer and the same delivery,
placed through the order intake: it reserves its stock at once and goes through routing like any order. Unless
the tenant ships exchanges at once (returns.tenant_settings.money_rules), it waits on an `exchange` hold until the
returned items are in. Each replacement line is priced at the catalogue's price of its product; a product with no
price in the catalogue is priced as the customer paid for the returned units (a size swap costs nothing more)."""

from oms.api.scope import Scope
from oms.errors import Conflict, InsufficientStock
from orders import services as order_services
from orders.amounts import share
from orders.models import DeliveryMethod, HoldKind, OrderStatus
from returns.models import Return
from returns.tenant_settings import money_rules


class ExchangeUnavailable(Conflict):
    """The replacement cannot be reserved: the customer is offered a refund or store credit instead."""

    code = "exchange_unavailable"
    title = "The exchange is out of stock"


def place_replacement(*, rma: Return, order, asked: list, products: list[tuple], actor) -> object:
    """Place the replacement order of an exchange (`products`: [(Product, units)]) inside the caller's transaction;
    ExchangeUnavailable (409, naming the lines) when its stock cannot be reserved in full."""
    tenant = order.tenant
    delivery, store = order.delivery_method, order.pickup_location
    if delivery == DeliveryMethod.IN_STORE:  # bought at a till: the replacement waits at the store
        delivery, store = DeliveryMethod.PICKUP, rma.location or order.pickup_location
    held = money_rules(tenant)["exchange_ships"] != "at_once"
    customer = order.customer
    data = order_services.OrderInput(
        channel=order.channel,
        external_ref=rma.number,
        currency=order.currency,
        lines=[_priced(product, units, asked) for product, units in products],
        delivery_method=delivery,
        customer={"email": customer.email, "name": customer.name, "phone": customer.phone} if customer else None,
        address=order.shipping_address or {},
        location_code=store.code if delivery == DeliveryMethod.PICKUP and store else "",
        service_level=order.service_level,
        payment_status="paid",
        metadata={"exchange_for": rma.number, "original_order": order.number},
        hold_kind=HoldKind.EXCHANGE if held else "",
        hold_reason=f"Exchange {rma.number}: ships once the returned items are received." if held else "",
    )
    try:
        replacement = order_services.place_order(tenant=tenant, actor=actor, data=data)
    except InsufficientStock as exc:
        raise _unavailable(exc.extra.get("lines", [])) from None
    short = [line for line in replacement.lines_list if line.quantity_backordered]
    if short:
        raise _unavailable(
            [
                {"sku": line.sku, "requested": line.quantity, "available": line.quantity - line.quantity_backordered}
                for line in short
            ]
        )
    return replacement


def _unavailable(lines: list) -> ExchangeUnavailable:
    skus = ", ".join(line.get("sku", "") for line in lines)
    return ExchangeUnavailable(
        f"The replacement cannot be reserved ({skus}): offer the customer a refund or store credit instead.",
        lines=lines,
        alternatives=["refund", "store_credit"],
    )


def _priced(product, units: int, asked: list) -> order_services.LineInput:
    if product.shelf_price is not None:
        return order_services.LineInput(sku=product.sku, quantity=units, unit_price=product.shelf_price)
    paid = next((item for item in asked if item.order_line.product_id == product.id), asked[0]).order_line
    return order_services.LineInput(
        sku=product.sku,
        quantity=units,
        unit_price=paid.unit_price,
        discount=share(paid.discount, units, paid.quantity),
        tax=share(paid.tax, units, paid.quantity),
        tax_rate=paid.tax_rate,
    )


def release_replacement(*, tenant, rma: Return) -> None:
    """The returned items are in: the replacement held for them may ship."""
    replacement = rma.exchange_order
    if replacement is None:
        return
    replacement.refresh_from_db(fields=["status", "hold_kind"])
    if replacement.status == OrderStatus.ON_HOLD and replacement.hold_kind == HoldKind.EXCHANGE:
        order_services.release_hold(
            scope=Scope.system(tenant, f"return {rma.number}"),
            order_id=replacement.id,
            note=f"Exchange {rma.number}: the returned items are in.",
        )


def cancel_replacement(*, tenant, rma: Return, reason: str) -> None:
    """The exchange will not happen (return rejected or withdrawn): its replacement is cancelled if nothing of it
    has left yet."""
    replacement = rma.exchange_order
    if replacement is None:
        return
    replacement.refresh_from_db(fields=["status"])
    if replacement.status in (OrderStatus.CANCELLED, OrderStatus.COMPLETED) or any(
        line.quantity_shipped for line in replacement.lines.all()
    ):
        return
    order_services.cancel_order(
        scope=Scope.system(tenant, f"return {rma.number}"),
        order_id=replacement.id,
        reason=f"Exchange {rma.number} {reason}",
    )
