"""Picking by scan: each unit a picker takes from the shelf is confirmed by scanning its barcode (or typing its SKU),
so that a wrong item or one unit too many is caught at the shelf, not by the customer. The confirmations are kept
on the fulfilment lines (`quantity_picked`); packing through `pack_picked` waits until every open unit is confirmed.

Each scan is one conditional update of one line (the database refuses a unit beyond what the line has open), so two
tablets scanning the same order never confirm more units than it needs.
"""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from fulfillment.models import FulfillmentLine, FulfillmentOrder, FulfillmentStatus
from fulfillment.selectors import fulfillments_for
from fulfillment.services import execution
from oms.api.scope import Scope
from oms.errors import Conflict, IllegalTransition, NotFound, ValidationFailed
from orders.models import Order

MAX_CODE_LENGTH = 64


class WrongItem(Conflict):
    code = "wrong_item"
    title = "This item is not in the fulfilment order"


class OverScan(Conflict):
    code = "over_scan"
    title = "Every unit of this item is already confirmed"


class NotPicked(Conflict):
    code = "not_picked"
    title = "Some units are not confirmed yet"


@dataclass(frozen=True)
class Scanned:
    """What a scan confirmed: the line, its SKU and its progress after the scan."""

    line_id: int
    sku: str
    picked: int
    needed: int
    complete: bool  # every open unit of the whole fulfilment order is confirmed


def _locked(scope: Scope, fulfillment_id) -> FulfillmentOrder:
    """The order row, then the fulfilment order, locked (the order every fulfilment step takes its locks in); a
    fulfilment order the caller may not see is 404."""
    order_id = fulfillments_for(scope=scope).filter(id=fulfillment_id).values_list("order_id", flat=True).first()
    if order_id is None:
        raise NotFound("No such fulfilment order.")
    Order.objects.for_tenant(scope.tenant).select_for_update(of=("self",)).filter(id=order_id).first()
    return (
        FulfillmentOrder.objects.for_tenant(scope.tenant)
        .select_for_update(of=("self",))
        .select_related("location")
        .get(id=fulfillment_id)
    )


def _lines(fulfillment) -> list[FulfillmentLine]:
    return list(fulfillment.lines.select_related("order_line__product").order_by("id"))


def _matches(line: FulfillmentLine, code: str) -> bool:
    product = line.order_line.product
    barcode = (product.barcode or "").strip() if product is not None else ""
    return code == barcode or code.casefold() == line.order_line.sku.casefold()


def scan(*, scope: Scope, fulfillment_id, code: str) -> Scanned:
    """Confirm one unit of the line whose product has this barcode (or SKU). A fulfilment order still `accepted`
    starts picking with its first scan. A code that no line has is WrongItem (409); a line already complete is
    OverScan (409); a fulfilment order that is not being picked is IllegalTransition (409)."""
    code = (code or "").strip()
    if not code:
        raise ValidationFailed(errors={"code": [_("Scan a barcode or type a SKU.")]})
    if len(code) > MAX_CODE_LENGTH:
        raise ValidationFailed(errors={"code": [_("A barcode or SKU is at most 64 characters.")]})
    with transaction.atomic():
        fulfillment = _locked(scope, fulfillment_id)
        if fulfillment.status == FulfillmentStatus.ACCEPTED:
            execution.start_picking(scope=scope, fulfillment_id=fulfillment.id)
            fulfillment.status = FulfillmentStatus.PICKING
        if fulfillment.status != FulfillmentStatus.PICKING:
            raise IllegalTransition(
                _("A fulfilment order that is %(status)s is not being picked.") % {"status": fulfillment.status},
                current=fulfillment.status,
                requested=FulfillmentStatus.PICKING,
            )
        lines = [line for line in _lines(fulfillment) if _matches(line, code)]
        if not lines:
            raise WrongItem(_("%(code)s is not in this order: put it back.") % {"code": code}, scanned=code)
        for line in lines:  # the same product on two lines: the first one still short takes the unit
            updated = (
                FulfillmentLine.objects.for_tenant(scope.tenant)
                .filter(
                    id=line.id,
                    quantity_picked__lt=F("quantity")
                    - F("quantity_shipped")
                    - F("quantity_rejected")
                    - F("quantity_cancelled"),
                )
                .update(quantity_picked=F("quantity_picked") + 1)
            )
            if updated:
                every = {other.id: other for other in _lines(fulfillment)}
                now = every[line.id]
                return Scanned(
                    line_id=now.id,
                    sku=now.order_line.sku,
                    picked=now.quantity_picked,
                    needed=now.quantity_open,
                    complete=not any(other.quantity_to_pick for other in every.values()),
                )
        sku = lines[0].order_line.sku
        needed = sum(line.quantity_open for line in lines)
        raise OverScan(
            _("Too many: all %(needed)s unit(s) of %(sku)s are already confirmed.") % {"needed": needed, "sku": sku},
            sku=sku,
            needed=needed,
        )


def pack_picked(
    *, scope: Scope, fulfillment_id, parcels: list[dict] | None = None, carrier: str = "", service: str = ""
) -> FulfillmentOrder:
    """Pack a fulfilment order whose every open unit was confirmed by a scan (NotPicked, 409, naming the lines
    short otherwise), recording the carrier and service chosen for its label."""
    with transaction.atomic():
        fulfillment = _locked(scope, fulfillment_id)
        short = [
            {"sku": line.order_line.sku, "picked": line.quantity_picked, "needed": line.quantity_open}
            for line in _lines(fulfillment)
            if line.quantity_to_pick
        ]
        if short and fulfillment.status == FulfillmentStatus.PICKING:
            raise NotPicked(
                _("Not every unit is confirmed yet: %(lines)s.")
                % {"lines": ", ".join(f"{item['sku']} {item['picked']}/{item['needed']}" for item in short)},
                lines=short,
            )
        packed = execution.pack(scope=scope, fulfillment_id=fulfillment.id, parcels=parcels)
        packed.carrier, packed.carrier_service = carrier[:40], service[:60]
        packed.save(update_fields=["carrier", "carrier_service"])
        return packed
