"""Order use cases: intake, holds, edits, cancellations, backorder allocation, shipment and delivery facts.

Each public function is one transaction that locks the order row, checks the state machine
(orders/states.py), writes an OrderEvent to the timeline and emits its outbox events.
"""
import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from inventory import reservations as stock
from inventory.ledger import level_for, post_movement
from inventory.models import Location, MovementKind, Product, Reservation, StockLevel
from oms.actors import Actor
from oms.db import insert_rows
from oms.errors import Conflict, IllegalTransition, InsufficientStock, NotFound, StaleVersion, ValidationFailed
from oms.outbox import emit
from oms.sequences import next_unique_value
from orders import states
from orders.amounts import amount_fits
from orders.models import Customer, DeliveryMethod, HoldKind, Order, OrderEvent, OrderLine, OrderStatus

CENT = Decimal("0.01")
ZERO = Decimal("0")
DEFAULT_MAX_LINES = 200
# How far ahead of our clock a channel's own order date may be (clock skew) before it is refused as future.
PLACED_AT_SKEW = timedelta(minutes=5)
_CURRENCY = re.compile(r"^[A-Z]{3}$")


def max_lines() -> int:
    return getattr(settings, "OMS_ORDER_MAX_LINES", DEFAULT_MAX_LINES)


# --- inputs ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LineInput:
    sku: str
    quantity: int
    unit_price: Decimal
    discount: Decimal = ZERO
    tax: Decimal = ZERO
    tax_rate: Decimal | None = None


@dataclass(frozen=True)
class PromotionInput:
    code: str
    amount: Decimal
    description: str = ""


@dataclass
class OrderInput:
    """An order as a channel sends it (already shaped by the API serializer or the phone-order form)."""

    channel: object
    external_ref: str
    currency: str
    lines: list[LineInput]
    delivery_method: str = DeliveryMethod.SHIP
    customer: dict | None = None
    address: dict = field(default_factory=dict)
    location_code: str = ""
    service_level: str = ""
    promotions: list[PromotionInput] = field(default_factory=list)
    shipping_amount: Decimal = ZERO
    shipping_tax: Decimal = ZERO
    payment_status: str = ""
    metadata: dict = field(default_factory=dict)
    hold_kind: str = ""
    hold_reason: str = ""
    promised_earliest: date | None = None
    promised_latest: date | None = None
    # When the customer ordered, as the channel recorded it (marketplaces send theirs); now when absent.
    placed_at: datetime | None = None


@dataclass(frozen=True)
class LineQuantity:
    line_id: int
    quantity: int


# --- reading the order for a write -----------------------------------------------------------------------

def _locked_order(*, tenant, order_id, channel=None) -> Order:
    """The order row, locked; another tenant's (or, for a channel key, another channel's) id is NotFound."""
    queryset = Order.objects.for_tenant(tenant).select_for_update(of=("self",))
    if channel is not None:
        queryset = queryset.filter(channel=channel)
    try:
        return queryset.select_related("channel", "pickup_location", "customer").get(id=order_id)
    except (Order.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such order.") from None


def _check_version(order: Order, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != order.version:
        raise StaleVersion(f"The order is at version {order.version}, not {expected_version}; reload it and retry.",
                           current_version=order.version)


def _snapshot(order: Order, lines) -> dict:
    return {"status": order.status, "version": order.version,
            "lines": {str(line.id): _line_figures(line) for line in lines}}


def _line_figures(line) -> dict:
    return {"status": line.status, "quantity": line.quantity, "allocated": line.quantity_allocated,
            "backordered": line.quantity_backordered, "shipped": line.quantity_shipped,
            "delivered": line.quantity_delivered, "cancelled": line.quantity_cancelled,
            "returned": line.quantity_returned}


def _event(order, *, actor: Actor, kind: str, message: str = "", before: dict | None = None,
           after: dict | None = None) -> OrderEvent:
    event = OrderEvent(tenant_id=order.tenant_id, order=order, actor_label=actor.label[:200], kind=kind,
                       message=message[:500], before=before or {}, after=after or {})
    insert_rows([event])
    return event


def _payload(order: Order, **extra) -> dict:
    return {"order_id": order.id, "number": order.number, "external_ref": order.external_ref,
            "channel": order.channel.code, "status": order.status, "version": order.version, **extra}


_STATUS_TOPICS = {OrderStatus.ALLOCATED: "order.allocated", OrderStatus.BACKORDERED: "order.backordered",
                  OrderStatus.FULFILLED: "order.fulfilled", OrderStatus.DELIVERED: "order.delivered"}


def _commit_change(order: Order, lines: list, *, actor: Actor, kind: str, message: str = "", before: dict,
                   topic: str | None = "order.updated", payload: dict | None = None,
                   extra_fields: tuple = ()) -> Order:
    """Derive the new status, check the transition, save order and lines, write the timeline and events."""
    new_status = states.order_status(order, lines)
    if not states.can_move(before["status"], new_status):
        raise IllegalTransition(current=before["status"], requested=new_status)
    changed_lines = []
    for line in lines:
        line.status = states.line_status(line)
        if _line_figures(line) != before["lines"].get(str(line.id)):
            changed_lines.append(line)
    if changed_lines:
        OrderLine.all_tenants.bulk_update(changed_lines, [
            "status", "quantity_allocated", "quantity_backordered", "quantity_shipped", "quantity_delivered",
            "quantity_cancelled", "quantity_returned"])
    order.status = new_status
    order.version += 1
    order.save(update_fields=["status", "version", "updated_at", *extra_fields])
    after = _snapshot(order, lines)
    after["lines"] = {k: v for k, v in after["lines"].items() if v != before["lines"].get(k)}
    before = {**before, "lines": {k: before["lines"][k] for k in after["lines"] if k in before["lines"]}}
    _event(order, actor=actor, kind=kind, message=message, before=before, after=after)
    if topic:
        emit(order.tenant, topic, _payload(order, change=kind, **(payload or {})))
    if new_status != before["status"] and new_status in _STATUS_TOPICS and _STATUS_TOPICS[new_status] != topic:
        emit(order.tenant, _STATUS_TOPICS[new_status], _payload(order))
    return order


# --- intake ----------------------------------------------------------------------------------------------

def resolve_channel(*, tenant, code: str | None, bound_channel=None):
    """The channel an order is placed for: the key's own channel, or the one named by an integration."""
    from channels.models import Channel

    if bound_channel is not None:
        if code and code != bound_channel.code:
            raise ValidationFailed(errors={"channel": [_("This API key places orders for channel %(channel)s only.")
                                                      % {"channel": bound_channel.code}]})
        return bound_channel
    if not code:
        raise ValidationFailed(errors={"channel": [_("This field is required for a key not bound to a channel.")]})
    channel = Channel.objects.for_tenant(tenant).filter(code=code).first()
    if channel is None:
        raise ValidationFailed(errors={"channel": [_("Unknown channel '%(channel)s'.") % {"channel": code}]})
    return channel


def _accepted_currencies(tenant, channel) -> set[str]:
    configured = (tenant.settings or {}).get("currencies")
    currencies = set(configured) if configured else {tenant.default_currency}
    channel_currency = getattr(channel, "currency", "")
    return {channel_currency} if channel_currency else currencies


def _validate(tenant, data: OrderInput) -> tuple[dict, Location | None]:
    """Every domain check of an incoming order, collected so that the answer names every bad field."""
    errors: dict[str, list[str]] = {}
    channel = data.channel
    if not channel.active:
        errors["channel"] = [_("Channel %(channel)s is not active.") % {"channel": channel.code}]
    if not data.external_ref.strip():
        errors["external_ref"] = [_("This field may not be blank.")]
    if not _CURRENCY.match(data.currency or ""):
        errors["currency"] = [_("Use an ISO 4217 code such as EUR.")]
    elif data.currency not in _accepted_currencies(tenant, channel):
        errors["currency"] = [_("Currency %(currency)s does not match the channel's currency (%(accepted)s).")
                              % {"currency": data.currency,
                                 "accepted": ", ".join(sorted(_accepted_currencies(tenant, channel)))}]
    if not data.lines:
        errors["lines"] = [_("An order needs at least one line.")]
    elif len(data.lines) > max_lines():
        errors["lines"] = [_("Too many lines: %(count)s; at most %(limit)s per order.")
                           % {"count": len(data.lines), "limit": max_lines()}]
    skus = {line.sku for line in data.lines}
    products = _products_by_sku(tenant, skus)
    for index, line in enumerate(data.lines[:max_lines()]):
        product = products.get(line.sku)
        if product is None:
            errors[f"lines[{index}].sku"] = [_("Unknown SKU '%(sku)s'.") % {"sku": line.sku}]
        elif not product.active:
            errors[f"lines[{index}].sku"] = [_("Product %(sku)s is not active.") % {"sku": line.sku}]
        if line.quantity <= 0:
            errors[f"lines[{index}].quantity"] = [_("Ensure this value is greater than or equal to 1.")]
        if line.unit_price < 0:
            errors[f"lines[{index}].unit_price"] = [_("A price cannot be negative.")]
        if line.discount < 0:
            errors[f"lines[{index}].discount"] = [_("A discount cannot be negative.")]
        elif line.quantity > 0 and line.discount > line.unit_price * line.quantity:
            errors[f"lines[{index}].discount"] = [_("The discount is larger than the line's amount.")]
        if line.tax < 0:
            errors[f"lines[{index}].tax"] = [_("A tax amount cannot be negative.")]
        if line.quantity > 0 and not amount_fits(OrderLine, "total", line_total(line)):
            errors[f"lines[{index}]"] = [_("The line's amount is too large.")]
    for index, promotion in enumerate(data.promotions):
        if promotion.amount < 0:
            errors[f"promotions[{index}].amount"] = [_("A promotion amount cannot be negative.")]
    if data.shipping_amount < 0:
        errors["shipping.amount"] = [_("A shipping charge cannot be negative.")]
    if data.promised_earliest and data.promised_latest and data.promised_earliest > data.promised_latest:
        errors["promised_delivery"] = [_("The earliest date (%(earliest)s) is after the latest date (%(latest)s).")
                                       % {"earliest": data.promised_earliest, "latest": data.promised_latest}]
    if data.placed_at is not None and data.placed_at > timezone.now() + PLACED_AT_SKEW:
        errors["placed_at"] = [_("The order date cannot be in the future.")]
    location = None
    method = data.delivery_method
    if method == DeliveryMethod.SHIP:
        if not data.address:
            errors["delivery.address"] = [_("An address is required to ship an order.")]
    elif method == DeliveryMethod.PICKUP:
        location = _location(tenant, data.location_code, "delivery.pickup_location", errors)
        if location is not None and not location.pickup:
            errors["delivery.pickup_location"] = [_not_pickup(location)]
        elif location is not None and not _in_pool(channel, location):
            errors["delivery.pickup_location"] = [_not_in_pool(location)]
    elif method == DeliveryMethod.IN_STORE:
        if channel.kind != "store":
            errors["delivery.method"] = [_("Only a store channel records in-store sales.")]
        location = _sale_store(tenant, channel, data.location_code, errors)
    else:
        errors["delivery.method"] = [_("Unknown delivery method '%(method)s'.") % {"method": method}]
    if method != DeliveryMethod.IN_STORE and not (data.customer or {}).get("email"):
        errors["customer.email"] = [_("A customer e-mail is required.")]
    if not errors:
        totals = _totals(data)
        if totals["total"] < 0:
            errors["promotions"] = [_("Promotions exceed the order's amount.")]
        elif not all(amount_fits(Order, name, amount) for name, amount in totals.items()):
            errors["lines"] = [_("The order's total is too large.")]
    if errors:
        raise ValidationFailed(errors=errors)
    return products, location


def _in_pool(channel, location) -> bool:
    return channel.pool.filter(location_id=location.id).exists()


def _not_in_pool(location) -> str:
    return _("Location %(location)s is not in the channel's sourcing pool.") % {"location": location.code}


def _not_pickup(location) -> str:
    return _("Location %(location)s does not offer pickup.") % {"location": location.code}


def _sale_store(tenant, channel, code: str, errors: dict) -> Location | None:
    """The store of an in-store sale: `delivery.location`, a store of the channel's sourcing pool. It may be
    left out only when the pool has exactly one store, which is then the one; never guessed among several."""
    if code:
        location = _location(tenant, code, "delivery.location", errors)
        if location is None:
            return None
        if location.kind != "store":
            errors["delivery.location"] = [_("Location %(location)s is not a store.") % {"location": location.code}]
        elif not _in_pool(channel, location):
            errors["delivery.location"] = [_not_in_pool(location)]
        return location
    stores = [loc for loc in stock.channel_locations(tenant=tenant, channel=channel) if loc.kind == "store"]
    if len(stores) == 1:
        return stores[0]
    errors["delivery.location"] = [_("Name the store where the sale happened: the channel sells from several "
                                     "stores.") if stores else _("Name the store where the sale happened.")]
    return None


# Intake reads its products and customer with plain SQL through Model.raw(): the same model instances as the
# ORM's, without compiling a query each time (that compilation cost three times the read, on every order).
# Both filter on the tenant explicitly.

def _products_by_sku(tenant, skus) -> dict:
    if not skus:
        return {}
    skus = sorted(skus)
    placeholders = ", ".join(["%s"] * len(skus))
    rows = Product.all_tenants.raw(f"SELECT * FROM {Product._meta.db_table} WHERE tenant_id = %s "
                                   f"AND sku IN ({placeholders})", [tenant.id, *skus])
    return {product.sku: product for product in rows}


def _customer_by_email(tenant, email: str) -> Customer | None:
    rows = Customer.all_tenants.raw(f"SELECT * FROM {Customer._meta.db_table} WHERE tenant_id = %s AND email = %s",
                                    [tenant.id, email])
    return next(iter(rows), None)


def _location(tenant, code, field_name, errors) -> Location | None:
    if not code:
        errors[field_name] = [_("This field is required.")]
        return None
    location = Location.objects.for_tenant(tenant).filter(code=code).first()
    if location is None or not location.active:
        errors[field_name] = [_("Unknown or inactive location '%(location)s'.") % {"location": code}]
        return None
    return location


def line_total(line) -> Decimal:
    return (line.unit_price * line.quantity - line.discount + line.tax).quantize(CENT)


def _totals(data: OrderInput) -> dict:
    subtotal = sum((line.unit_price * line.quantity for line in data.lines), ZERO)
    discounts = sum((line.discount for line in data.lines), ZERO) + sum((p.amount for p in data.promotions), ZERO)
    tax = sum((line.tax for line in data.lines), ZERO) + data.shipping_tax
    total = subtotal - discounts + tax + data.shipping_amount
    return {"subtotal": subtotal.quantize(CENT), "discount_total": discounts.quantize(CENT),
            "tax_total": tax.quantize(CENT), "shipping_total": data.shipping_amount.quantize(CENT),
            "shipping_tax": data.shipping_tax.quantize(CENT), "total": total.quantize(CENT)}


def match_customer(*, tenant, email: str, name: str = "", phone: str = "") -> tuple[Customer, bool]:
    """The tenant's customer with this e-mail (case-insensitive), created on first order; safe under races."""
    email = email.strip().lower()
    customer = _customer_by_email(tenant, email)
    created = False
    if customer is None:
        customer = _insert_customer(tenant=tenant, email=email, name=name[:200], phone=phone[:40])
        created = customer is not None
        if customer is None:  # created concurrently: theirs is the one
            customer = Customer.objects.for_tenant(tenant).get(email=email)
    if not created and ((name and not customer.name) or (phone and not customer.phone)):
        customer.name = customer.name or name[:200]
        customer.phone = customer.phone or phone[:40]
        customer.save(update_fields=["name", "phone"])
    return customer, created


def _insert_customer(*, tenant, email: str, name: str, phone: str) -> Customer | None:
    """The new customer, or None when the (tenant, email) row exists already. ON CONFLICT DO NOTHING lets a
    concurrent first order of the same customer lose without failing, and without a savepoint around it."""
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {Customer._meta.db_table} (tenant_id, email, name, phone, created_at) "
                       "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (tenant_id, email) DO NOTHING RETURNING id",
                       [tenant.id, email, name, phone, now])
        row = cursor.fetchone()
    if row is None:
        return None
    customer = Customer(id=row[0], tenant=tenant, email=email, name=name, phone=phone, created_at=now)
    customer._state.adding = False
    return customer


def _intake_hold(tenant, data: OrderInput, *, first_order: bool, total: Decimal) -> tuple[str, str]:
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


def _rule_needs_history(tenant) -> bool:
    return bool(((tenant.settings or {}).get("order_hold_rules") or {}).get("first_order_express_levels"))


def _reserve(*, tenant, channel, demands, locations, order_lines, allow_partial: bool) -> dict:
    """Reserve the demands all-or-nothing; with `allow_partial` (backorders) reserve what exists instead.

    Returns {key: [reservations]}. Short lines without backorders raise InsufficientStock.
    """
    try:
        done = stock.reserve_demands(tenant=tenant, channel=channel, demands=demands, locations=locations,
                                     order_lines=order_lines)
        return {d.key: d.reservations for d in done}
    except InsufficientStock as exc:
        if not allow_partial:
            raise _per_sku(exc, demands) from None
    pool = locations if locations is not None else stock.channel_locations(tenant=tenant, channel=channel)
    for _attempt in range(3):
        levels = stock.pool_levels(tenant=tenant, channel=channel, products=[d.product for d in demands],
                                   locations=pool)
        remaining: dict[int, int] = {}
        for (product_id, _location_id), level in levels.items():
            sellable = getattr(level, "sellable", level.available) if level.product.active else 0
            remaining[product_id] = remaining.get(product_id, 0) + sellable
        if locations is None:
            remaining = {pid: stock.apply_buffer(units, channel) for pid, units in remaining.items()}
        reduced = []
        for demand in demands:
            take = min(demand.quantity, remaining.get(demand.product.id, 0))
            if take > 0:
                remaining[demand.product.id] -= take
                reduced.append(stock.LineDemand(key=demand.key, product=demand.product, quantity=take))
        if not reduced:
            return {}
        try:
            done = stock.reserve_demands(tenant=tenant, channel=channel, demands=reduced, locations=locations,
                                         order_lines=order_lines)
            return {d.key: d.reservations for d in done}
        except InsufficientStock:
            continue
    return {}


def _per_sku(exc: InsufficientStock, demands) -> InsufficientStock:
    """The shortage once per SKU, with what every line of that SKU asks for together: inventory names each
    short demand with its own quantity, which hides the shortage when one SKU is on several lines
    (300 + 300 wanted, 495 available reads "requested 300, available 495")."""
    requested: dict[str, int] = {}
    for demand in demands:
        requested[demand.product.sku] = requested.get(demand.product.sku, 0) + demand.quantity
    merged: dict[str, dict] = {}
    for entry in exc.extra.get("lines") or []:
        current = merged.get(entry["sku"])
        if current is None:
            merged[entry["sku"]] = {**entry, "requested": requested.get(entry["sku"], entry["requested"])}
        elif entry.get("location") != current.get("location"):
            # Figures per location (a plan that lost a race): the SKU has their sum across those locations.
            current["available"] += entry["available"]
            current.pop("location", None)
        else:
            current["available"] = max(current["available"], entry["available"])
    return InsufficientStock(exc.detail, **{**exc.extra, "lines": list(merged.values())})


def _order_number(tenant) -> str:
    """Unique per tenant, increasing, but not gap-free (unlike invoice numbers, order numbers need not be): an
    order rolled back after its number was taken leaves a gap, and concurrent orders never queue on a lock."""
    prefix = (tenant.settings or {}).get("order_number_prefix", "SO-")
    return f"{prefix}{next_unique_value(tenant=tenant, name='order'):06d}"


def place_order(*, tenant, actor: Actor, data: OrderInput) -> Order:
    """Capture an order: validate, reserve every line at concrete locations (all or nothing unless the
    channel allows backorders), number it and emit order.placed, in one transaction.

    A second order with the same external_ref on the channel is a Conflict naming the existing order.
    Store sales (method in_store) leave the store's on-hand through the ledger at once, with no routing.
    """
    channel = data.channel
    products, location = _validate(tenant, data)
    try:
        with transaction.atomic():
            return _create_order(tenant=tenant, actor=actor, data=data, products=products, location=location)
    except IntegrityError:
        # Which constraint failed is not in every database's message (SQLite names the columns, not the
        # constraint): the order already there with this reference is what tells a duplicate.
        _refuse_duplicate(tenant, channel, data.external_ref)
        raise


def _refuse_duplicate(tenant, channel, external_ref) -> None:
    """Called when the order's insert failed on a unique constraint. The order row is inserted before any
    stock is touched, so a duplicate costs one failed insert; the (tenant, channel, external_ref) order
    already there is a Conflict naming it, and without one the caller lets the error through."""
    existing = (Order.objects.for_tenant(tenant).filter(channel=channel, external_ref=external_ref)
                .values_list("id", "number").first())
    if existing:
        raise Conflict(f"Channel {channel.code} already sent an order with external_ref {external_ref!r}.",
                       order_id=existing[0], number=existing[1])


def _create_order(*, tenant, actor, data: OrderInput, products: dict, location) -> Order:
    channel = data.channel
    totals = _totals(data)
    customer, first_order = None, False
    if data.customer and data.customer.get("email"):
        customer, created = match_customer(tenant=tenant, email=data.customer["email"],
                                           name=data.customer.get("name", ""), phone=data.customer.get("phone", ""))
        first_order = created or (_rule_needs_history(tenant) and not customer.orders.exists())
    hold_kind, hold_reason = _intake_hold(tenant, data, first_order=first_order, total=totals["total"])
    in_store = data.delivery_method == DeliveryMethod.IN_STORE
    now = timezone.now()
    order = Order(
        tenant=tenant, channel=channel, external_ref=data.external_ref, customer=customer,
        # A unique stand-in: the real number is taken last, so the sequence row stays locked only briefly.
        number=f"~{uuid.uuid4().hex}"[:32], currency=data.currency,
        delivery_method=data.delivery_method, shipping_address=data.address or {},
        pickup_location=location, service_level=data.service_level, subtotal=totals["subtotal"],
        discount_total=totals["discount_total"], tax_total=totals["tax_total"],
        shipping_total=totals["shipping_total"], shipping_tax=totals["shipping_tax"], total=totals["total"],
        promotions=[{"code": p.code, "description": p.description, "amount": str(p.amount.quantize(CENT))}
                    for p in data.promotions],
        payment_status=data.payment_status, hold_kind=hold_kind, hold_reason=hold_reason[:200],
        metadata=data.metadata or {}, promised_delivery_earliest=data.promised_earliest,
        promised_delivery_latest=data.promised_latest, placed_at=data.placed_at or now,
        completed_at=now if in_store else None)
    insert_rows([order])
    lines = []
    for index, item in enumerate(data.lines, start=1):
        product = products[item.sku]
        lines.append(OrderLine(
            tenant=tenant, order=order, line_number=index, product=product, sku=product.sku, name=product.name[:255],
            quantity=item.quantity, quantity_allocated=0 if in_store else item.quantity,
            quantity_shipped=item.quantity if in_store else 0, quantity_delivered=item.quantity if in_store else 0,
            unit_price=Decimal(item.unit_price), discount=Decimal(item.discount), tax=Decimal(item.tax),
            tax_rate=item.tax_rate,
            total=line_total(item)))
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
    event = _event(order, actor=actor, kind="placed", message=f"Order placed on channel {channel.code}.",
                   after={"status": order.status, "total": str(order.total),
                          "lines": {str(line.id): _line_figures(line) for line in lines}})
    # Last, once the stock is reserved: an order refused for want of stock takes no number.
    order.number = _order_number(tenant)
    with connection.cursor() as cursor:  # what save(update_fields=...) writes, without compiling it per order
        cursor.execute(f"UPDATE {Order._meta.db_table} SET number = %s, status = %s WHERE tenant_id = %s AND id = %s",
                       [order.number, order.status, tenant.id, order.id])
    payload = _payload(order, delivery_method=order.delivery_method, on_hold=bool(order.hold_kind),
                       total=str(order.total), currency=order.currency)
    emit(tenant, "order.placed", payload)
    if order.hold_kind:
        emit(tenant, "order.on_hold", _payload(order, hold_kind=order.hold_kind, reason=order.hold_reason))
    if partial:
        emit(tenant, "order.backordered", _payload(order, lines=[
            {"id": line.id, "sku": line.sku, "quantity": line.quantity_backordered} for line in partial]))
    if in_store:
        from orders import invoicing

        invoicing.issue_invoice_for_order_if_configured(tenant=tenant, order=order, lines=lines, actor=actor)
    order.lines_list = lines
    order.timeline_list = [event]
    return order


def _reserve_intake(*, tenant, channel, order, lines, location) -> dict:
    demands = [stock.LineDemand(key=line.id, product=line.product, quantity=line.quantity) for line in lines]
    by_key = {line.id: line for line in lines}
    found = _reserve(tenant=tenant, channel=channel, demands=demands,
                     locations=[location] if location is not None else None, order_lines=by_key,
                     allow_partial=channel.allow_backorders)
    for line in lines:
        got = sum(r.quantity for r in found.get(line.id, []))
        line.quantity_allocated = got
        line.quantity_backordered = line.quantity - got
    return found


def _sell_from_store(*, tenant, actor, order, lines, store) -> None:
    """A till sale: the units leave the store's on-hand now, through the ledger, locked in product order."""
    reference = f"order:{order.id}"
    sold: dict[int, int] = {}
    for line in sorted(lines, key=lambda item: item.product_id):
        level = level_for(tenant=tenant, product=line.product, location=store)
        try:
            post_movement(tenant=tenant, level=level, kind=MovementKind.SALE, quantity=-line.quantity, actor=actor,
                          reason="store sale", reference=reference)
        except Conflict:
            raise InsufficientStock(lines=_store_shortfalls(tenant, lines, store, sold)) from None
        sold[line.product_id] = sold.get(line.product_id, 0) + line.quantity


def _store_shortfalls(tenant, lines, store, sold: dict) -> list[dict]:
    """Per SKU short in the store: what all its lines ask for, and what the store had before this sale (the
    units its earlier lines took are counted back: the failed sale is rolled back)."""
    wanted: dict[int, int] = {}
    for line in lines:
        wanted[line.product_id] = wanted.get(line.product_id, 0) + line.quantity
    levels = {lvl.product_id: lvl for lvl in StockLevel.objects.for_tenant(tenant)
              .filter(location=store, product_id__in=wanted)}
    short = []
    for line in lines:
        if line.product_id not in wanted:
            continue  # one entry per SKU, with what all its lines ask for
        level = levels.get(line.product_id)
        free = max(level.on_hand - level.reserved + sold.get(line.product_id, 0), 0) if level else 0
        requested = wanted.pop(line.product_id)
        if free < requested:
            short.append({"sku": line.sku, "location": store.code, "requested": requested, "available": free})
    return short


# --- holds -----------------------------------------------------------------------------------------------

def hold_order(*, tenant, order_id: int, actor: Actor, kind: str = HoldKind.MANUAL, reason: str = "",
               expected_version: int | None = None, channel=None) -> Order:
    """Put an order on hold (payment, fraud, rule, manual): held orders are not routed nor shipped."""
    if kind not in HoldKind.values:
        raise ValidationFailed(errors={"kind": [f"Unknown hold kind {kind!r}."]})
    with transaction.atomic():
        order = _locked_order(tenant=tenant, order_id=order_id, channel=channel)
        _check_version(order, expected_version)
        if order.status not in states.HOLDABLE_STATUSES:
            raise IllegalTransition(current=order.status, requested=OrderStatus.ON_HOLD)
        lines = list(order.lines.all())
        before = _snapshot(order, lines)
        order.hold_kind, order.hold_reason = kind, (reason or str(HoldKind(kind).label))[:200]
        return _commit_change(order, lines, actor=actor, kind="hold", message=order.hold_reason, before=before,
                              topic="order.on_hold", payload={"hold_kind": kind, "reason": order.hold_reason},
                              extra_fields=("hold_kind", "hold_reason"))


def release_hold(*, tenant, order_id: int, actor: Actor, note: str = "", expected_version: int | None = None,
                 channel=None) -> Order:
    """Lift the hold: the order resumes where its lines are (placed, allocated, backordered...)."""
    with transaction.atomic():
        order = _locked_order(tenant=tenant, order_id=order_id, channel=channel)
        _check_version(order, expected_version)
        if order.status != OrderStatus.ON_HOLD:
            raise IllegalTransition(f"Only an order on hold can be released; this one is {order.status}.",
                                    current=order.status, requested="released")
        lines = list(order.lines.all())
        before = _snapshot(order, lines)
        previous = f"{order.hold_kind}: {order.hold_reason}"
        order.hold_kind, order.hold_reason = "", ""
        return _commit_change(order, lines, actor=actor, kind="hold_released",
                              message=note or f"Hold released ({previous}).", before=before,
                              topic="order.released", extra_fields=("hold_kind", "hold_reason"))


# --- cancellations and edits ---------------------------------------------------------------------------

def _release_units(*, tenant, plan: dict) -> None:
    """Give back `plan[line]` units of each line: backordered units first (they hold nothing), then
    reservations, released in (location, product) order like every other stock lock."""
    to_release = []
    for line, quantity in plan.items():
        from_backorder = min(quantity, line.quantity_backordered)
        line.quantity_backordered -= from_backorder
        rest = quantity - from_backorder
        if rest > line.quantity_allocated:
            raise Conflict(f"Line {line.sku} has only {line.quantity_allocated} reserved units.", line_id=line.id)
        line.quantity_allocated -= rest
        line.quantity_cancelled += quantity
        if rest:
            active = (Reservation.objects.for_tenant(tenant).filter(order_line=line, status=Reservation.Status.ACTIVE)
                      .select_related("stock_level").order_by("-id"))
            for reservation in active:
                if rest == 0:
                    break
                take = min(rest, reservation.quantity)
                to_release.append((reservation, take))
                rest -= take
            if rest:
                raise Conflict(f"Line {line.sku}: its reservations do not cover its allocated units.",
                               line_id=line.id)
    for reservation, quantity in sorted(to_release, key=lambda pair: (pair[0].stock_level.location_id,
                                                                      pair[0].stock_level.product_id)):
        stock.release(tenant=tenant, reservation=reservation, quantity=quantity)


def _cancel_plan(order, lines, requested: list[LineQuantity] | None) -> dict:
    by_id = {line.id: line for line in lines}
    if requested is None:
        if order.status not in states.OPEN_STATUSES:
            raise IllegalTransition(f"An order that is {order.status} cannot be cancelled as a whole.",
                                    current=order.status, requested=OrderStatus.CANCELLED)
        return {line: line.quantity_outstanding for line in lines if line.quantity_outstanding}
    if order.status in states.TERMINAL_STATUSES:
        raise IllegalTransition(current=order.status, requested=OrderStatus.CANCELLED)
    errors, wanted = {}, {}
    for index, item in enumerate(requested):
        line = by_id.get(item.line_id)
        if line is None:
            errors[f"lines[{index}].id"] = [f"Order {order.number} has no line {item.line_id}."]
        elif item.quantity <= 0:
            errors[f"lines[{index}].quantity"] = ["Ensure this value is greater than or equal to 1."]
        else:
            wanted[line] = wanted.get(line, 0) + item.quantity
    if errors:
        raise ValidationFailed(errors=errors)
    too_many = [{"id": line.id, "sku": line.sku, "requested": quantity, "cancellable": line.quantity_outstanding}
                for line, quantity in wanted.items() if quantity > line.quantity_outstanding]
    if too_many:
        raise Conflict("Some units have already shipped or been cancelled and can no longer be cancelled.",
                       lines=too_many)
    return wanted


def cancel_order(*, tenant, order_id: int, actor: Actor, reason: str, lines: list[LineQuantity] | None = None,
                 expected_version: int | None = None, channel=None) -> Order:
    """Cancel the whole order (only before anything shipped) or some units of some lines (only units not
    shipped yet); the reserved units go back to stock in the same transaction."""
    with transaction.atomic():
        order = _locked_order(tenant=tenant, order_id=order_id, channel=channel)
        _check_version(order, expected_version)
        order_lines = list(order.lines.all())
        plan = _cancel_plan(order, order_lines, lines)
        if not plan:
            raise IllegalTransition("Nothing left to cancel.", current=order.status,
                                    requested=OrderStatus.CANCELLED)
        before = _snapshot(order, order_lines)
        _release_units(tenant=tenant, plan=plan)
        cancelled = [{"id": line.id, "sku": line.sku, "quantity": quantity} for line, quantity in plan.items()]
        whole = all(line.quantity_cancelled == line.quantity for line in order_lines)
        if whole:
            order.hold_kind, order.hold_reason = "", ""
        return _commit_change(order, order_lines, actor=actor, kind="cancelled" if whole else "lines_cancelled",
                              message=reason, before=before, topic="order.cancelled",
                              payload={"reason": reason, "lines": cancelled, "whole_order": whole},
                              extra_fields=("hold_kind", "hold_reason"))


def edit_order(*, tenant, order_id: int, actor: Actor, expected_version: int, address: dict | None = None,
               pickup_location: str | None = None, service_level: str | None = None,
               line_quantities: list[LineQuantity] | None = None, reason: str = "", channel=None) -> Order:
    """Change the delivery address, the pickup store, the service level or reduce line quantities.

    Optimistic concurrency: the caller names the version it read; a stale one is refused. Delivery changes
    are refused once anything shipped; a line may only be reduced by units not shipped yet. A new pickup
    store gets the reservations moved there, all or nothing.
    """
    with transaction.atomic():
        order = _locked_order(tenant=tenant, order_id=order_id, channel=channel)
        _check_version(order, expected_version)
        if order.status in states.TERMINAL_STATUSES or order.delivery_method == DeliveryMethod.IN_STORE:
            raise IllegalTransition(f"An order that is {order.status} cannot be edited.", current=order.status,
                                    requested="edited")
        order_lines = list(order.lines.all())
        before = _snapshot(order, order_lines)
        changes, fields = {}, []
        delivery_change = address is not None or pickup_location is not None or service_level is not None
        if delivery_change and any(line.quantity_shipped for line in order_lines):
            raise Conflict("The delivery can no longer change: part of the order has shipped.")
        if address is not None:
            if order.delivery_method != DeliveryMethod.SHIP:
                raise ValidationFailed(errors={"delivery.address": ["Only a shipped order has an address."]})
            changes["address"] = {"before": order.shipping_address, "after": address}
            order.shipping_address = address
            fields.append("shipping_address")
        if service_level is not None and service_level != order.service_level:
            changes["service_level"] = {"before": order.service_level, "after": service_level}
            order.service_level = service_level
            fields.append("service_level")
        if pickup_location is not None:
            _move_pickup(tenant=tenant, order=order, lines=order_lines, code=pickup_location, changes=changes)
            fields.append("pickup_location")
        if line_quantities:
            by_id = {line.id: line for line in order_lines}
            reductions, errors = [], {}
            for index, item in enumerate(line_quantities):
                line = by_id.get(item.line_id)
                if line is None:
                    errors[f"lines[{index}].id"] = [f"Order {order.number} has no line {item.line_id}."]
                elif item.quantity < 0:
                    errors[f"lines[{index}].quantity"] = ["Ensure this value is greater than or equal to 0."]
                elif item.quantity > line.quantity_active:
                    errors[f"lines[{index}].quantity"] = [
                        f"Quantities can only be reduced (line has {line.quantity_active})."]
                elif item.quantity < line.quantity_active:
                    reductions.append(LineQuantity(line.id, line.quantity_active - item.quantity))
            if errors:
                raise ValidationFailed(errors=errors)
            if reductions:
                plan = _cancel_plan(order, order_lines, reductions)
                _release_units(tenant=tenant, plan=plan)
                changes["lines"] = [{"id": line.id, "sku": line.sku, "reduced_by": quantity}
                                    for line, quantity in plan.items()]
        if not changes:
            raise ValidationFailed(errors={"non_field_errors": ["Nothing to change."]})
        return _commit_change(order, order_lines, actor=actor, kind="edited", message=reason or "Order edited.",
                              before={**before, "changes": {k: v.get("before") if isinstance(v, dict) else None
                                                            for k, v in changes.items()}},
                              payload={"changes": sorted(changes)}, extra_fields=tuple(fields))


def _move_pickup(*, tenant, order, lines, code: str, changes: dict) -> None:
    if order.delivery_method != DeliveryMethod.PICKUP:
        raise ValidationFailed(errors={"delivery.pickup_location": ["Only a pickup order has a pickup store."]})
    errors: dict = {}
    location = _location(tenant, code, "delivery.pickup_location", errors)
    if location is not None and not location.pickup:
        errors["delivery.pickup_location"] = [_not_pickup(location)]
    elif location is not None and not _in_pool(order.channel, location):
        errors["delivery.pickup_location"] = [_not_in_pool(location)]
    if errors:
        raise ValidationFailed(errors=errors)
    if location.id == order.pickup_location_id:
        return
    _rereserve(tenant=tenant, order=order, lines=lines, locations=[location])
    changes["pickup_location"] = {"before": order.pickup_location.code if order.pickup_location else None,
                                  "after": location.code}
    order.pickup_location = location


def _rereserve(*, tenant, order, lines, locations) -> None:
    """Release every active reservation of the order and reserve the same units again (all or nothing)."""
    active = list(Reservation.objects.for_tenant(tenant).filter(order_line__order=order,
                                                                status=Reservation.Status.ACTIVE)
                  .select_related("stock_level"))
    for reservation in sorted(active, key=lambda r: (r.stock_level.location_id, r.stock_level.product_id)):
        stock.release(tenant=tenant, reservation=reservation)
    demands = [stock.LineDemand(key=line.id, product=line.product, quantity=line.quantity_allocated)
               for line in lines if line.quantity_allocated]
    if demands:
        try:
            stock.reserve_demands(tenant=tenant, channel=order.channel, demands=demands, locations=locations,
                                  order_lines={line.id: line for line in lines})
        except InsufficientStock as exc:
            raise _per_sku(exc, demands) from None


def reroute_order(*, tenant, order_id: int, actor: Actor, expected_version: int | None = None) -> Order:
    """Plan the order's reservations again from current stock (one location for the order when possible);
    routing then confirms the new allocation."""
    with transaction.atomic():
        order = _locked_order(tenant=tenant, order_id=order_id)
        _check_version(order, expected_version)
        if order.status not in states.OPEN_STATUSES or order.delivery_method == DeliveryMethod.IN_STORE:
            raise IllegalTransition(f"An order that is {order.status} cannot be re-routed.", current=order.status,
                                    requested="rerouted")
        lines = list(order.lines.all())
        before = _snapshot(order, lines)
        locations = [order.pickup_location] if order.delivery_method == DeliveryMethod.PICKUP else None
        _rereserve(tenant=tenant, order=order, lines=lines, locations=locations)
        order.allocated_at = None
        return _commit_change(order, lines, actor=actor, kind="rerouted", message="Reservations planned again.",
                              before=before, payload={"rerouted": True}, extra_fields=("allocated_at",))


# --- backorders ------------------------------------------------------------------------------------------

def allocate_order_backorders(*, tenant, order_id: int, actor: Actor) -> int:
    """Reserve what is now available for the order's backordered units; returns the units allocated."""
    with transaction.atomic():
        order = _locked_order(tenant=tenant, order_id=order_id)
        if order.status in states.TERMINAL_STATUSES:
            return 0
        lines = list(order.lines.select_related("product").all())
        waiting = [line for line in lines if line.quantity_backordered]
        if not waiting:
            return 0
        before = _snapshot(order, lines)
        demands = [stock.LineDemand(key=line.id, product=line.product, quantity=line.quantity_backordered)
                   for line in waiting]
        locations = [order.pickup_location] if order.delivery_method == DeliveryMethod.PICKUP else None
        found = _reserve(tenant=tenant, channel=order.channel, demands=demands, locations=locations,
                         order_lines={line.id: line for line in waiting}, allow_partial=True)
        allocated = 0
        for line in waiting:
            got = sum(r.quantity for r in found.get(line.id, []))
            line.quantity_allocated += got
            line.quantity_backordered -= got
            allocated += got
        if allocated:
            _commit_change(order, lines, actor=actor, kind="backorder_allocated",
                           message=f"{allocated} backordered units reserved.", before=before,
                           payload={"allocated_units": allocated})
        return allocated


def allocate_backorders(*, tenant, product_ids=None, actor: Actor | None = None, limit: int = 500) -> int:
    """Allocate arriving stock to backordered lines, oldest order first; one transaction per order."""
    actor = actor or Actor.system("backorders")
    queryset = OrderLine.objects.for_tenant(tenant).filter(quantity_backordered__gt=0).exclude(
        order__status__in=states.TERMINAL_STATUSES)
    if product_ids is not None:
        queryset = queryset.filter(product_id__in=list(product_ids))
    order_ids = list(dict.fromkeys(queryset.order_by("order__placed_at", "order_id")
                                   .values_list("order_id", flat=True)[:limit]))
    return sum(allocate_order_backorders(tenant=tenant, order_id=order_id, actor=actor) for order_id in order_ids)


# --- facts from fulfilment -------------------------------------------------------------------------------

def confirm_allocation(*, tenant, order_id: int, actor: Actor) -> Order:
    """Routing has settled where each reserved unit is fulfilled from: placed → allocated."""
    with transaction.atomic():
        order = _locked_order(tenant=tenant, order_id=order_id)
        if order.status == OrderStatus.ON_HOLD:
            raise IllegalTransition("A held order is not routed.", current=order.status,
                                    requested=OrderStatus.ALLOCATED)
        lines = list(order.lines.all())
        before = _snapshot(order, lines)
        order.allocated_at = timezone.now()
        return _commit_change(order, lines, actor=actor, kind="allocated", message="Allocation confirmed.",
                              before=before, topic="order.allocated", extra_fields=("allocated_at",))


def _quantities(order, lines, items: list[LineQuantity]) -> dict:
    by_id = {line.id: line for line in lines}
    wanted, errors = {}, {}
    for index, item in enumerate(items):
        line = by_id.get(item.line_id)
        if line is None:
            errors[f"lines[{index}].id"] = [f"Order {order.number} has no line {item.line_id}."]
        elif item.quantity <= 0:
            errors[f"lines[{index}].quantity"] = ["Ensure this value is greater than or equal to 1."]
        else:
            wanted[line] = wanted.get(line, 0) + item.quantity
    if errors or not wanted:
        raise ValidationFailed(errors=errors or {"lines": ["Name at least one line."]})
    return wanted


def record_shipment(*, tenant, order_id: int, lines: list[LineQuantity], actor: Actor, location=None,
                    reference: str = "", consume_reservations: bool = True) -> Order:
    """Units of some lines left a location. Their reservations are consumed (stock leaves on_hand through
    the ledger) unless the caller already did; the order becomes partially fulfilled or fulfilled, and an
    invoice is issued for the shipment when the tenant invoices per shipment."""
    with transaction.atomic():
        order = _locked_order(tenant=tenant, order_id=order_id)
        if order.status == OrderStatus.ON_HOLD:
            raise IllegalTransition("A held order cannot ship.", current=order.status,
                                    requested=OrderStatus.PARTIALLY_FULFILLED)
        if order.status in states.TERMINAL_STATUSES:
            raise IllegalTransition(current=order.status, requested=OrderStatus.FULFILLED)
        order_lines = list(order.lines.all())
        wanted = _quantities(order, order_lines, lines)
        short = [{"id": line.id, "sku": line.sku, "requested": quantity, "allocated": line.quantity_allocated}
                 for line, quantity in wanted.items() if quantity > line.quantity_allocated]
        if short:
            raise Conflict("Only allocated units can ship.", lines=short)
        before = _snapshot(order, order_lines)
        if consume_reservations:
            _consume(tenant=tenant, wanted=wanted, location=location, actor=actor,
                     reference=reference or order.number)
        for line, quantity in wanted.items():
            line.quantity_allocated -= quantity
            line.quantity_shipped += quantity
        shipped = [{"id": line.id, "sku": line.sku, "quantity": quantity} for line, quantity in wanted.items()]
        _commit_change(order, order_lines, actor=actor, kind="shipped", message=reference or "Shipment recorded.",
                       before=before, payload={"lines": shipped, "reference": reference})
        from orders import invoicing

        invoicing.issue_invoice_for_shipment_if_configured(tenant=tenant, order=order, lines=order_lines,
                                                           shipped=wanted, reference=reference, actor=actor)
        return order


def _consume(*, tenant, wanted: dict, location, actor, reference) -> None:
    work = []
    for line, quantity in wanted.items():
        active = list(Reservation.objects.for_tenant(tenant).filter(order_line=line, status=Reservation.Status.ACTIVE)
                      .select_related("stock_level"))
        if location is not None:
            active.sort(key=lambda r: (r.stock_level.location_id != location.id, r.id))
        rest = quantity
        for reservation in active:
            if rest == 0:
                break
            take = min(rest, reservation.quantity)
            work.append((reservation, take))
            rest -= take
        if rest:
            raise Conflict(f"Line {line.sku}: not enough reserved units to ship {quantity}.", line_id=line.id)
    for reservation, quantity in sorted(work, key=lambda pair: (pair[0].stock_level.location_id,
                                                                pair[0].stock_level.product_id)):
        stock.consume(tenant=tenant, reservation=reservation, quantity=quantity, actor=actor, reference=reference)


def record_delivery(*, tenant, order_id: int, lines: list[LineQuantity] | None, actor: Actor,
                    reference: str = "") -> Order:
    """Shipped units reached the customer (every shipped, undelivered unit when `lines` is None)."""
    with transaction.atomic():
        order = _locked_order(tenant=tenant, order_id=order_id)
        order_lines = list(order.lines.all())
        if lines is None:
            wanted = {line: line.quantity_shipped - line.quantity_delivered for line in order_lines
                      if line.quantity_shipped > line.quantity_delivered}
            if not wanted:
                raise IllegalTransition("Nothing shipped is waiting for delivery.", current=order.status,
                                        requested=OrderStatus.DELIVERED)
        else:
            wanted = _quantities(order, order_lines, lines)
        too_many = [{"id": line.id, "sku": line.sku, "requested": quantity,
                     "undelivered": line.quantity_shipped - line.quantity_delivered}
                    for line, quantity in wanted.items() if quantity > line.quantity_shipped - line.quantity_delivered]
        if too_many:
            raise Conflict("Only shipped units can be delivered.", lines=too_many)
        before = _snapshot(order, order_lines)
        for line, quantity in wanted.items():
            line.quantity_delivered += quantity
        return _commit_change(order, order_lines, actor=actor, kind="delivered",
                              message=reference or "Delivery recorded.", before=before,
                              payload={"lines": [{"id": line.id, "sku": line.sku, "quantity": quantity}
                                                 for line, quantity in wanted.items()]})


def record_return(*, tenant, order_id: int, lines: list[LineQuantity], actor: Actor, reference: str = "") -> Order:
    """Shipped units came back (the returns app calls this when a return is received)."""
    with transaction.atomic():
        order = _locked_order(tenant=tenant, order_id=order_id)
        order_lines = list(order.lines.all())
        wanted = _quantities(order, order_lines, lines)
        too_many = [{"id": line.id, "sku": line.sku, "requested": quantity,
                     "returnable": line.quantity_shipped - line.quantity_returned}
                    for line, quantity in wanted.items() if quantity > line.quantity_shipped - line.quantity_returned]
        if too_many:
            raise Conflict("Only shipped units can be returned.", lines=too_many)
        before = _snapshot(order, order_lines)
        for line, quantity in wanted.items():
            line.quantity_returned += quantity
        return _commit_change(order, order_lines, actor=actor, kind="returned", message=reference or "Units returned.",
                              before=before, payload={"lines": [{"id": line.id, "sku": line.sku, "quantity": q}
                                                                for line, q in wanted.items()]})


def complete_order(*, tenant, order_id: int, actor: Actor) -> Order:
    """Close a delivered order (after its return window, for instance)."""
    with transaction.atomic():
        order = _locked_order(tenant=tenant, order_id=order_id)
        if order.status != OrderStatus.DELIVERED:
            raise IllegalTransition(current=order.status, requested=OrderStatus.COMPLETED)
        lines = list(order.lines.all())
        before = _snapshot(order, lines)
        order.completed_at = timezone.now()
        return _commit_change(order, lines, actor=actor, kind="completed", message="Order completed.",
                              before=before, extra_fields=("completed_at",))
