"""Stock transfers between locations: draft → in transit (shipped) → received; a draft may be cancelled.

Shipping posts a `transfer_out` movement per line at the source (all lines or none: a line that would leave
less on hand than is reserved refuses the whole shipment); receiving posts `transfer_in` at the destination
for the units that arrived. Units shipped but not received stay recorded on the line as lost in transit.
"""

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from inventory.alerts import evaluate_levels
from inventory.ledger import level_for, lot_for, post_movement
from inventory.models import Location, MovementKind, Product, StockMovement, Transfer, TransferLine
from inventory.signals import transfer_cancelled, transfer_received, transfer_shipping
from inventory.units import MAX_UNITS
from oms import audit
from oms.actors import Actor
from oms.api.scope import Scope, rows
from oms.db import LOCK_ROW
from oms.errors import Conflict, IllegalTransition, NotFound, ValidationFailed
from oms.models import Tenant
from oms.outbox import emit
from oms.sequences import next_value

TRANSITIONS = {
    Transfer.Status.DRAFT: {Transfer.Status.IN_TRANSIT, Transfer.Status.CANCELLED},
    Transfer.Status.IN_TRANSIT: {Transfer.Status.RECEIVED},
    Transfer.Status.RECEIVED: set(),
    Transfer.Status.CANCELLED: set(),
}
MAX_LINES = 1000


def _transition(*, tenant: Tenant, transfer: Transfer, to: str, actor: Actor, changes: dict | None = None) -> None:
    if to not in TRANSITIONS[transfer.status]:
        raise IllegalTransition(current=transfer.status, requested=to, transfer=transfer.number)
    previous = transfer.status
    transfer.status = to
    stamp = {
        Transfer.Status.IN_TRANSIT: "shipped_at",
        Transfer.Status.RECEIVED: "received_at",
        Transfer.Status.CANCELLED: "cancelled_at",
    }[to]
    setattr(transfer, stamp, timezone.now())
    transfer.save(update_fields=["status", stamp])
    audit.record(
        tenant=tenant,
        actor=actor,
        action={
            Transfer.Status.IN_TRANSIT: "inventory.transfer_in_transit",
            Transfer.Status.RECEIVED: "inventory.transfer_received",
            Transfer.Status.CANCELLED: "inventory.transfer_cancelled",
        }[to],
        obj=transfer,
        changes={"status": [previous, to], **(changes or {})},
    )


def _location(tenant, code: str, field: str) -> Location:
    location = Location.objects.for_tenant(tenant).filter(code=code).first()
    if location is None:
        raise ValidationFailed(errors={field: [f"Unknown location {code}."]})
    return location


def create_transfer(
    *, tenant, actor: Actor, source: str, destination: str, lines: list[tuple[str, int]], note: str = ""
) -> Transfer:
    """A draft transfer of `lines` [(sku, quantity)] from location code `source` to `destination`."""
    if source == destination:
        raise ValidationFailed(errors={"destination": ["The destination must differ from the source."]})
    if not lines:
        raise ValidationFailed(errors={"lines": ["A transfer needs at least one line."]})
    if len(lines) > MAX_LINES:
        raise ValidationFailed(errors={"lines": [f"At most {MAX_LINES} lines per transfer."]})
    quantities: dict[str, int] = {}
    for sku, quantity in lines:
        if quantity <= 0:
            raise ValidationFailed(errors={"lines": [f"{sku}: the quantity must be positive."]})
        quantities[sku] = quantities.get(sku, 0) + quantity
    too_many = sorted(sku for sku, total in quantities.items() if total > MAX_UNITS)
    if too_many:
        raise ValidationFailed(
            errors={"lines": [f"{sku}: at most {MAX_UNITS} units in all, over every line." for sku in too_many]}
        )
    products = {p.sku: p for p in Product.objects.for_tenant(tenant).filter(sku__in=list(quantities))}
    unknown = sorted(set(quantities) - products.keys())
    if unknown:
        raise ValidationFailed(errors={"lines": [f"Unknown SKU {sku}." for sku in unknown]})
    source_location = _location(tenant, source, "source")
    destination_location = _location(tenant, destination, "destination")
    with transaction.atomic():
        transfer = Transfer.objects.create(
            tenant=tenant,
            number=f"TR-{next_value(tenant=tenant, name='transfer'):06d}",
            source=source_location,
            destination=destination_location,
            note=note[:200],
            created_by=actor.label[:200],
        )
        TransferLine.objects.bulk_create(
            [
                TransferLine(tenant=tenant, transfer=transfer, product=products[sku], quantity=qty)
                for sku, qty in quantities.items()
            ]
        )
        audit.record(
            tenant=tenant,
            actor=actor,
            action="inventory.transfer_created",
            obj=transfer,
            changes={"source": source, "destination": destination, "lines": quantities},
        )
    return transfer


def _locked(tenant, transfer_id: int) -> Transfer:
    transfer = (
        Transfer.objects.for_tenant(tenant)
        .select_for_update(**LOCK_ROW)
        .select_related("source", "destination")
        .filter(id=transfer_id)
        .first()
    )
    if transfer is None:
        raise NotFound("No such transfer.")
    return transfer


def ship_transfer(*, tenant: Tenant, actor: Actor, transfer_id: int) -> Transfer:
    """Units leave the source: one `transfer_out` per line, all or none; the transfer is then in transit."""
    with transaction.atomic():
        transfer = _locked(tenant, transfer_id)
        _transition(tenant=tenant, transfer=transfer, to=Transfer.Status.IN_TRANSIT, actor=actor)
        transfer_shipping.send(sender=Transfer, tenant=tenant, transfer=transfer, actor=actor)
        touched = []
        for line in transfer.lines.select_related("product").order_by("product_id"):
            level = level_for(tenant=tenant, product=line.product, location=transfer.source)
            level.product, level.location = line.product, transfer.source
            post_movement(
                tenant=tenant,
                level=level,
                kind=MovementKind.TRANSFER_OUT,
                quantity=-line.quantity,
                actor=actor,
                reason=f"to {transfer.destination.code}",
                reference=transfer.number,
            )
            touched.append(level.id)
        _evaluate_alerts(tenant, touched)
    return transfer


def receive_transfer(
    *, tenant: Tenant, actor: Actor, transfer_id: int, received: dict[str, int] | None = None
) -> Transfer:
    """Units arrive at the destination: `received` {sku: units} (default: everything shipped)."""
    received = dict(received or {})
    with transaction.atomic():
        transfer = _locked(tenant, transfer_id)
        lines = list(transfer.lines.select_related("product").order_by("product_id"))
        by_sku = {line.product.sku: line for line in lines}
        errors = [f"{sku} is not on this transfer." for sku in received if sku not in by_sku]
        errors += [
            f"{sku}: between 0 and {by_sku[sku].quantity} units can be received."
            for sku, qty in received.items()
            if sku in by_sku and not 0 <= qty <= by_sku[sku].quantity
        ]
        if errors:
            raise ValidationFailed(errors={"received": errors})
        _transition(
            tenant=tenant,
            transfer=transfer,
            to=Transfer.Status.RECEIVED,
            actor=actor,
            changes={
                "short": {
                    sku: by_sku[sku].quantity - qty for sku, qty in received.items() if qty < by_sku[sku].quantity
                }
            },
        )
        touched, skus = [], []
        for line in lines:
            line.received_quantity = received.get(line.product.sku, line.quantity)
            line.save(update_fields=["received_quantity"])
            if line.received_quantity:
                level = level_for(tenant=tenant, product=line.product, location=transfer.destination)
                for lot, units in _arriving_lots(tenant, transfer, line):
                    post_movement(
                        tenant=tenant,
                        level=level,
                        kind=MovementKind.TRANSFER_IN,
                        quantity=units,
                        actor=actor,
                        reason=f"from {transfer.source.code}",
                        reference=transfer.number,
                        lot=lot_for(tenant=tenant, level=level, code=lot.code, expires_on=lot.expires_on)
                        if lot is not None
                        else None,
                    )
                touched.append(level.id)
                skus.append(line.product.sku)
        transfer_received.send(sender=Transfer, tenant=tenant, transfer=transfer, actor=actor)
        if skus:
            emit(
                tenant,
                "stock.adjusted",
                {
                    "source": "transfer",
                    "transfer": transfer.number,
                    "skus": sorted(skus),
                    "locations": [transfer.destination.code],
                    "rows": len(skus),
                },
            )
        _evaluate_alerts(tenant, touched)
    return transfer


def _arriving_lots(tenant, transfer: Transfer, line: TransferLine) -> list[tuple]:
    """[(source lot or None, units)] for the received units: a lot-tracked product arrives in the lots it left
    in (earliest expiry first when fewer arrive than left); other products arrive as plain units."""
    if not line.product.tracks_lots:
        return [(None, line.received_quantity)]
    left = (
        StockMovement.objects.for_tenant(tenant)
        .filter(
            reference=transfer.number,
            kind=MovementKind.TRANSFER_OUT,
            lot__isnull=False,
            stock_level__product=line.product,
            stock_level__location=transfer.source,
        )
        .select_related("lot")
        .order_by("lot__expires_on", "lot_id")
    )
    per_lot: dict[int, list] = {}
    for movement in left:
        per_lot.setdefault(movement.lot_id, [movement.lot, 0])[1] += -movement.quantity
    arriving, missing = [], line.received_quantity
    for lot, units in per_lot.values():
        take = min(units, missing)
        if take:
            arriving.append((lot, take))
            missing -= take
    if missing:
        raise Conflict(
            f"{line.product.sku}: the lots shipped hold fewer units than are received.", sku=line.product.sku
        )
    return arriving


def cancel_transfer(*, tenant: Tenant, actor: Actor, transfer_id: int) -> Transfer:
    """Only a draft can be cancelled: once shipped, the units are in transit and must be received."""
    with transaction.atomic():
        transfer = _locked(tenant, transfer_id)
        _transition(tenant=tenant, transfer=transfer, to=Transfer.Status.CANCELLED, actor=actor)
        transfer_cancelled.send(sender=Transfer, tenant=tenant, transfer=transfer, actor=actor)
    return transfer


def _evaluate_alerts(tenant, level_ids):
    evaluate_levels(tenant=tenant, level_ids=level_ids)


# --- selectors ----------------------------------------------------------------------------------------------


def transfers_for(*, scope: Scope | None):
    """The transfers a caller may see: the tenant's; for a store clerk, those leaving or reaching one of their
    stores. A sales channel's key sees none (transfers are the network's own logistics)."""
    queryset = rows(Transfer, scope)
    if scope is None:
        return queryset
    if scope.channel is not None:
        return queryset.none()
    ids = scope.store_ids
    if ids is not None:
        queryset = queryset.filter(Q(source_id__in=ids) | Q(destination_id__in=ids))
    return queryset


def transfer_list(*, scope: Scope | None, status: str = "", location=None):
    transfers = transfers_for(scope=scope).select_related("source", "destination").order_by("-id")
    if status:
        transfers = transfers.filter(status=status)
    if location is not None:
        transfers = transfers.filter(Q(source=location) | Q(destination=location))
    return transfers


def transfer_detail(*, scope: Scope | None, transfer_id) -> Transfer:
    """The transfer as the caller may see it; another tenant's, another store's or an unknown id is NotFound."""
    transfer = (
        transfers_for(scope=scope)
        .select_related("source", "destination")
        .prefetch_related("lines__product")
        .filter(id=transfer_id)
        .first()
    )
    if transfer is None:
        raise NotFound("No such transfer.")
    return transfer


def in_transit_to(*, tenant: Tenant, product_ids, location_ids=None) -> dict:
    """{(product_id, destination_id): units shipped and not yet received}."""
    lines = TransferLine.objects.for_tenant(tenant).filter(
        transfer__status=Transfer.Status.IN_TRANSIT, product_id__in=list(product_ids)
    )
    if location_ids is not None:
        lines = lines.filter(transfer__destination_id__in=list(location_ids))
    return {
        (row["product_id"], row["transfer__destination_id"]): row["units"]
        for row in lines.values("product_id", "transfer__destination_id").annotate(units=Sum("quantity"))
    }
