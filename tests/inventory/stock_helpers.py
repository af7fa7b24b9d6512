"""Helpers for the inventory tests: stock is always received through the ledger, so the ledger check holds."""

from datetime import timedelta

from inventory.ledger import level_for, lot_for, post_movement
from inventory.models import MovementKind
from inventory.sourcing import today_for
from oms.actors import Actor
from tests import factories

ACTOR = Actor.system("tests")


def receive(tenant, product, location, quantity, *, lot=None, expires_in_days=None, safety_stock=None):
    """Receive `quantity` units (into `lot` expiring in `expires_in_days` days for lot-tracked products)."""
    level = level_for(tenant=tenant, product=product, location=location)
    lot_row = None
    if lot is not None:
        lot_row = lot_for(
            tenant=tenant, level=level, code=lot, expires_on=today_for(tenant) + timedelta(days=expires_in_days)
        )
    if quantity:
        post_movement(
            tenant=tenant,
            level=level,
            kind=MovementKind.RECEIPT,
            quantity=quantity,
            actor=ACTOR,
            lot=lot_row,
            reason="test receipt",
        )
    if safety_stock is not None:
        level.safety_stock = safety_stock
        level.save(update_fields=["safety_stock"])
    level.refresh_from_db()
    return level


def store(tenant, code, *, lat=None, lon=None, pickup=True, kind="store"):
    return factories.LocationFactory(tenant=tenant, code=code, kind=kind, pickup=pickup, latitude=lat, longitude=lon)


def channel_with_pool(tenant, locations, **fields):
    channel = factories.ChannelFactory(tenant=tenant, **fields)
    for priority, location in enumerate(locations):
        factories.ChannelLocationFactory(channel=channel, location=location, priority=priority)
    return channel
