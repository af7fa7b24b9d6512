"""What an incoming order must satisfy before anything is written: an active channel of the tenant, an accepted
currency, known active products, amounts that fit, a delivery that can happen. Every failure is collected, so
that the answer names each bad field at once; the order's totals are computed here too.
"""

import re
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from channels.models import ChannelKind
from inventory import sourcing
from inventory.models import Location, LocationKind
from oms.errors import ValidationFailed
from oms.models import Tenant
from orders import sql
from orders.amounts import CENT, ZERO, amount_fits
from orders.models import DeliveryMethod, Order, OrderLine
from orders.quantities import quantity_error
from orders.services.common import check_pickup_location, find_location, in_pool, not_in_pool
from orders.services.inputs import OrderInput

DEFAULT_MAX_LINES = 200
# How far ahead of our clock a channel's own order date may be (clock skew) before it is refused as future.
PLACED_AT_SKEW = timedelta(minutes=5)
_CURRENCY = re.compile(r"^[A-Z]{3}$")


def max_lines() -> int:
    return getattr(settings, "OMS_ORDER_MAX_LINES", DEFAULT_MAX_LINES)


def _accepted_currencies(tenant: Tenant) -> set[str]:
    """The tenant's currencies (settings["currencies"]), or its default currency alone."""
    configured = (tenant.settings or {}).get("currencies")
    return set(configured) if configured else {tenant.default_currency}


def validate(tenant: Tenant, data: OrderInput) -> tuple[dict, Location | None]:
    """Every domain check of an incoming order, collected so that the answer names every bad field.

    Returns the order's products by SKU and its location (the pickup store, or the store of an in-store sale).
    """
    errors: dict[str, list[str]] = {}
    channel = data.channel
    if not channel.active:
        errors["channel"] = [_("Channel %(channel)s is not active.") % {"channel": channel.code}]
    if not data.external_ref.strip():
        errors["external_ref"] = [_("This field may not be blank.")]
    if not _CURRENCY.match(data.currency or ""):
        errors["currency"] = [_("Use an ISO 4217 code such as EUR.")]
    elif data.currency not in _accepted_currencies(tenant):
        errors["currency"] = [
            _("Currency %(currency)s does not match the channel's currency (%(accepted)s).")
            % {"currency": data.currency, "accepted": ", ".join(sorted(_accepted_currencies(tenant)))}
        ]
    if not data.lines:
        errors["lines"] = [_("An order needs at least one line.")]
    elif len(data.lines) > max_lines():
        errors["lines"] = [
            _("Too many lines: %(count)s; at most %(limit)s per order.")
            % {"count": len(data.lines), "limit": max_lines()}
        ]
    products = sql.products_by_sku(tenant_id=tenant.id, skus={line.sku for line in data.lines})
    for index, line in enumerate(data.lines[: max_lines()]):
        product = products.get(line.sku)
        if product is None:
            errors[f"lines[{index}].sku"] = [_("Unknown SKU '%(sku)s'.") % {"sku": line.sku}]
        elif not product.active:
            errors[f"lines[{index}].sku"] = [_("Product %(sku)s is not active.") % {"sku": line.sku}]
        quantity_problem = quantity_error(line.quantity)
        if quantity_problem:
            errors[f"lines[{index}].quantity"] = [quantity_problem]
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
        errors["promised_delivery"] = [
            _("The earliest date (%(earliest)s) is after the latest date (%(latest)s).")
            % {"earliest": data.promised_earliest, "latest": data.promised_latest}
        ]
    if data.placed_at is not None and data.placed_at > timezone.now() + PLACED_AT_SKEW:
        errors["placed_at"] = [_("The order date cannot be in the future.")]
    location = None
    method = data.delivery_method
    if method == DeliveryMethod.SHIP:
        if not data.address:
            errors["delivery.address"] = [_("An address is required to ship an order.")]
    elif method == DeliveryMethod.PICKUP:
        location = find_location(tenant, data.location_code, "delivery.pickup_location", errors)
        check_pickup_location(channel, location, errors)
    elif method == DeliveryMethod.IN_STORE:
        if channel.kind != ChannelKind.STORE:
            errors["delivery.method"] = [_("Only a store channel records in-store sales.")]
        location = _sale_store(tenant, channel, data.location_code, errors)
    else:
        errors["delivery.method"] = [_("Unknown delivery method '%(method)s'.") % {"method": method}]
    if method != DeliveryMethod.IN_STORE and not (data.customer or {}).get("email"):
        errors["customer.email"] = [_("A customer e-mail is required.")]
    if not errors:
        amounts = totals(data)
        if amounts["total"] < 0:
            errors["promotions"] = [_("Promotions exceed the order's amount.")]
        elif not all(amount_fits(Order, name, amount) for name, amount in amounts.items()):
            errors["lines"] = [_("The order's total is too large.")]
    if errors:
        raise ValidationFailed(errors=errors)
    return products, location


def _sale_store(tenant: Tenant, channel, code: str, errors: dict) -> Location | None:
    """The store of an in-store sale: `delivery.location`, a store of the channel's sourcing pool. It may be
    left out only when the pool has exactly one store, which is then the one; never guessed among several."""
    if code:
        location = find_location(tenant, code, "delivery.location", errors)
        if location is None:
            return None
        if location.kind != LocationKind.STORE:
            errors["delivery.location"] = [_("Location %(location)s is not a store.") % {"location": location.code}]
        elif not in_pool(channel, location):
            errors["delivery.location"] = [not_in_pool(location)]
        return location
    stores = [
        loc for loc in sourcing.channel_locations(tenant=tenant, channel=channel) if loc.kind == LocationKind.STORE
    ]
    if len(stores) == 1:
        return stores[0]
    errors["delivery.location"] = [
        _("Name the store where the sale happened: the channel sells from several stores.")
        if stores
        else _("Name the store where the sale happened.")
    ]
    return None


def line_total(line) -> Decimal:
    return (line.unit_price * line.quantity - line.discount + line.tax).quantize(CENT)


def totals(data: OrderInput) -> dict:
    """The order's amounts as the channel charged them: lines, discounts and promotions, tax, shipping."""
    subtotal = sum((line.unit_price * line.quantity for line in data.lines), ZERO)
    discounts = sum((line.discount for line in data.lines), ZERO) + sum((p.amount for p in data.promotions), ZERO)
    tax = sum((line.tax for line in data.lines), ZERO) + data.shipping_tax
    total = subtotal - discounts + tax + data.shipping_amount
    return {
        "subtotal": subtotal.quantize(CENT),
        "discount_total": discounts.quantize(CENT),
        "tax_total": tax.quantize(CENT),
        "shipping_total": data.shipping_amount.quantize(CENT),
        "shipping_tax": data.shipping_tax.quantize(CENT),
        "total": total.quantize(CENT),
    }
