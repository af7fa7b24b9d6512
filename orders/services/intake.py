"""Order intake: an order as a channel sends it becomes an order with its stock reserved, in one transaction.

The order is checked first (intake_checks), then written: customer matched, holds applied, lines reserved at
concrete locations (or sold from the store's shelf), a number taken last, and `order.placed` emitted.
"""

import uuid
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from inventory import reservations as stock
from inventory.ledger import level_for, post_movement
from inventory.models import MovementKind, StockLevel
from inventory.sourcing import on_shelf
from oms.actors import Actor
from oms.db import insert_rows, violated_constraint
from oms.errors import Conflict, InsufficientStock, ValidationFailed
from oms.models import Tenant
from oms.outbox import emit
from oms.sequences import next_unique_value
from orders import invoicing, sql, states
from orders.amounts import CENT
from orders.models import Customer, DeliveryMethod, EventKind, HoldKind, Order, OrderLine
from orders.promises import apply_promise, computed_promises
from orders.services.common import event_payload, line_figures, reserve, write_event
from orders.services.inputs import OrderInput
from orders.services.intake_checks import line_total, totals, validate


def match_customer(*, tenant: Tenant, email: str, name: str = "", phone: str = "") -> tuple[Customer, bool]:
    """The tenant's customer with this e-mail (case-insensitive), created on first order; safe under races.

    An erased customer is never matched (orders.services.privacy): their e-mail was replaced by an undeliverable
    pseudonym, so the person ordering again with their real address becomes a new customer, and an order naming
    the pseudonym itself is refused rather than giving the erased row new personal data."""
    email = email.strip().lower()
    customer = sql.customer_by_email(tenant_id=tenant.id, email=email)
    created = False
    if customer is None:
        customer = sql.insert_customer(tenant=tenant, email=email, name=name[:200], phone=phone[:40])
        created = customer is not None
        if customer is None:  # created concurrently (theirs is the one), or the e-mail of an erased customer
            customer = Customer.objects.for_tenant(tenant).filter(email=email, erased_at__isnull=True).first()
            if customer is None:
                raise ValidationFailed(errors={"customer.email": ["This e-mail address cannot be used."]})
    if not created and ((name and not customer.name) or (phone and not customer.phone)):
        customer.name = customer.name or name[:200]
        customer.phone = customer.phone or phone[:40]
        customer.save(update_fields=["name", "phone"])
    return customer, created


def _intake_hold(tenant: Tenant, data: OrderInput, *, first_order: bool, total: Decimal) -> tuple[str, str]:
    """A hold asked for by the channel, or by one of the tenant's rules (settings["order_hold_rules"])."""
    if data.delivery_method == DeliveryMethod.IN_STORE:
        return "", ""
    if data.hold_kind:
        return data.hold_kind, data.hold_reason or "Held by the channel."
    if data.payment_status == "pending":
        return HoldKind.PAYMENT, "Payment not confirmed by the channel."
    rules = (tenant.settings or {}).get("order_hold_rules") or {}
    threshold = rules.get("max_order_value")
    if threshold not in (None, "") and total > Decimal(str(threshold)):
        return HoldKind.RULE, f"Order value {total} above {threshold}."
    express_levels = rules.get("first_order_express_levels") or []
    if first_order and data.service_level and data.service_level in express_levels:
        return HoldKind.RULE, f"First order of this customer with {data.service_level} delivery."
    return "", ""


def _rule_needs_history(tenant: Tenant) -> bool:
    return bool(((tenant.settings or {}).get("order_hold_rules") or {}).get("first_order_express_levels"))


def _order_number(tenant: Tenant) -> str:
    """Unique per tenant, increasing, but not gap-free (unlike invoice numbers, order numbers need not be): an
    order rolled back after its number was taken leaves a gap, and concurrent orders never queue on a lock."""
    prefix = (tenant.settings or {}).get("order_number_prefix", "SO-")
    return f"{prefix}{next_unique_value(tenant=tenant, name='order'):06d}"


def place_order(*, tenant: Tenant, actor: Actor, data: OrderInput) -> Order:
    """Capture an order: validate, reserve every line at concrete locations (all or nothing unless the
    channel allows backorders), number it and emit order.placed, in one transaction.

    A second order with the same external_ref on the channel is a Conflict naming the existing order.
    Store sales (method in_store) leave the store's on-hand through the ledger at once, with no routing.
    """
    channel = data.channel
    products, location = validate(tenant, data)
    try:
        with transaction.atomic():
            return _create_order(tenant=tenant, actor=actor, data=data, products=products, location=location)
    except IntegrityError as exc:
        if violated_constraint(exc) == "order_unique_external_ref":
            _refuse_duplicate(tenant, channel, data.external_ref)
        raise


def _refuse_duplicate(tenant: Tenant, channel, external_ref) -> None:
    """Called when the order's insert failed on its (tenant, channel, external_ref) constraint. The order row
    is inserted before any stock is touched, so a duplicate costs one failed insert; the order already there
    is a Conflict naming it."""
    existing = (
        Order.objects.for_tenant(tenant)
        .filter(channel=channel, external_ref=external_ref)
        .values_list("id", "number")
        .first()
    )
    if existing:
        raise Conflict(
            f"Channel {channel.code} already sent an order with external_ref {external_ref!r}.",
            order_id=existing[0],
            number=existing[1],
        )


def _create_order(*, tenant: Tenant, actor: Actor, data: OrderInput, products: dict, location) -> Order:
    channel = data.channel
    amounts = totals(data)
    customer, first_order = None, False
    if data.customer and data.customer.get("email"):
        customer, created = match_customer(
            tenant=tenant,
            email=data.customer["email"],
            name=data.customer.get("name", ""),
            phone=data.customer.get("phone", ""),
        )
        first_order = created or (_rule_needs_history(tenant) and not customer.orders.exists())
    hold_kind, hold_reason = _intake_hold(tenant, data, first_order=first_order, total=amounts["total"])
    in_store = data.delivery_method == DeliveryMethod.IN_STORE
    now = timezone.now()
    order = Order(
        tenant=tenant,
        channel=channel,
        external_ref=data.external_ref,
        customer=customer,
        # A unique stand-in: the real number is taken last, so the sequence row stays locked only briefly.
        number=f"~{uuid.uuid4().hex}"[:32],
        currency=data.currency,
        delivery_method=data.delivery_method,
        shipping_address=data.address or {},
        pickup_location=location,
        service_level=data.service_level,
        subtotal=amounts["subtotal"],
        discount_total=amounts["discount_total"],
        tax_total=amounts["tax_total"],
        shipping_total=amounts["shipping_total"],
        shipping_tax=amounts["shipping_tax"],
        total=amounts["total"],
        promotions=[
            {"code": p.code, "description": p.description, "amount": str(p.amount.quantize(CENT))}
            for p in data.promotions
        ],
        payment_status=data.payment_status,
        hold_kind=hold_kind,
        hold_reason=hold_reason[:200],
        metadata=data.metadata or {},
        promised_delivery_earliest=data.promised_earliest,
        promised_delivery_latest=data.promised_latest,
        promise_from_client=data.promised_earliest is not None or data.promised_latest is not None,
        placed_at=data.placed_at or now,
        completed_at=now if in_store else None,
    )
    insert_rows([order])
    lines = []
    for index, item in enumerate(data.lines, start=1):
        product = products[item.sku]
        lines.append(
            OrderLine(
                tenant=tenant,
                order=order,
                line_number=index,
                product=product,
                sku=product.sku,
                name=product.name[:255],
                quantity=item.quantity,
                quantity_allocated=0 if in_store else item.quantity,
                quantity_shipped=item.quantity if in_store else 0,
                quantity_delivered=item.quantity if in_store else 0,
                unit_price=Decimal(item.unit_price),
                discount=Decimal(item.discount),
                tax=Decimal(item.tax),
                tax_rate=item.tax_rate,
                total=line_total(item),
            )
        )
        lines[-1].status = states.line_status(lines[-1])
    insert_rows(lines)
    allocations: dict = {}
    if in_store:
        _sell_from_store(tenant=tenant, actor=actor, order=order, lines=lines, store=location)
    else:
        allocations = _reserve_intake(tenant=tenant, channel=channel, order=order, lines=lines, location=location)
    partial = [line for line in lines if line.quantity_backordered]
    for line in lines:
        line.status = states.line_status(line)
        line.allocation_list = allocations.get(line.id, [])
    if partial:
        OrderLine.all_tenants.bulk_update(lines, ["status", "quantity_allocated", "quantity_backordered"])
    order.status = states.order_status(order, lines)
    if not partial:  # units waiting for stock have no date yet
        reserved_at = {r.stock_level.location for found in allocations.values() for r in found}
        apply_promise(order, computed_promises(tenant=tenant, wanted=[(order, reserved_at)], now=now).get(order.id))
    event = write_event(
        order,
        actor=actor,
        kind=EventKind.PLACED,
        message=f"Order placed on channel {channel.code}.",
        after={
            "status": order.status,
            "total": str(order.total),
            "lines": {str(line.id): line_figures(line) for line in lines},
        },
    )
    # Last, once the stock is reserved: an order refused for want of stock takes no number.
    order.number = _order_number(tenant)
    sql.set_number_and_status(order)
    payload = event_payload(
        order,
        delivery_method=order.delivery_method,
        on_hold=bool(order.hold_kind),
        total=str(order.total),
        currency=order.currency,
    )
    emit(tenant, "order.placed", payload)
    if order.hold_kind:
        emit(tenant, "order.on_hold", event_payload(order, hold_kind=order.hold_kind, reason=order.hold_reason))
    if partial:
        emit(
            tenant,
            "order.backordered",
            event_payload(
                order,
                lines=[{"id": line.id, "sku": line.sku, "quantity": line.quantity_backordered} for line in partial],
            ),
        )
    if in_store:
        invoicing.issue_invoice_for_order_if_configured(tenant=tenant, order=order, lines=lines, actor=actor)
    order.lines_list = lines
    order.timeline_list = [event]
    return order


def _reserve_intake(*, tenant: Tenant, channel, order, lines, location) -> dict:
    demands = [stock.LineDemand(key=line.id, product=line.product, quantity=line.quantity) for line in lines]
    by_key = {line.id: line for line in lines}
    try:
        with transaction.atomic():
            found = reserve(
                tenant=tenant,
                channel=channel,
                demands=demands,
                locations=[location] if location is not None else None,
                order_lines=by_key,
                allow_partial=channel.allow_backorders,
            )
    except InsufficientStock:
        if location is None:
            raise
        # A pickup store short of stock: the units are held in the channel's pool, and routing has them sent to
        # the store by a stock transfer.
        demands = [stock.LineDemand(key=line.id, product=line.product, quantity=line.quantity) for line in lines]
        found = reserve(
            tenant=tenant,
            channel=channel,
            demands=demands,
            locations=None,
            order_lines=by_key,
            allow_partial=channel.allow_backorders,
        )
    for line in lines:
        got = sum(r.quantity for r in found.get(line.id, []))
        line.quantity_allocated = got
        line.quantity_backordered = line.quantity - got
    return found


def _sell_from_store(*, tenant: Tenant, actor: Actor, order, lines, store) -> None:
    """A till sale: the units leave the store's on-hand now, through the ledger, locked in product order."""
    reference = f"order:{order.id}"
    sold: dict[int, int] = {}
    for line in sorted(lines, key=lambda item: item.product_id):
        level = level_for(tenant=tenant, product=line.product, location=store)
        try:
            post_movement(
                tenant=tenant,
                level=level,
                kind=MovementKind.SALE,
                quantity=-line.quantity,
                actor=actor,
                reason="store sale",
                reference=reference,
            )
        except Conflict:
            raise InsufficientStock(lines=_store_shortfalls(tenant, lines, store, sold)) from None
        sold[line.product_id] = sold.get(line.product_id, 0) + line.quantity


def _store_shortfalls(tenant: Tenant, lines, store, sold: dict) -> list[dict]:
    """Per SKU short in the store: what all its lines ask for, and what the store had before this sale (the
    units its earlier lines took are counted back: the failed sale is rolled back)."""
    wanted: dict[int, int] = {}
    for line in lines:
        wanted[line.product_id] = wanted.get(line.product_id, 0) + line.quantity
    levels = {
        lvl.product_id: lvl
        for lvl in StockLevel.objects.for_tenant(tenant).filter(location=store, product_id__in=wanted)
    }
    short = []
    for line in lines:
        if line.product_id not in wanted:
            continue  # one entry per SKU, with what all its lines ask for
        level = levels.get(line.product_id)
        free = on_shelf(level) + sold.get(line.product_id, 0) if level else 0
        requested = wanted.pop(line.product_id)
        if free < requested:
            short.append({"sku": line.sku, "location": store.code, "requested": requested, "available": free})
    return short
