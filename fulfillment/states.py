"""The fulfilment order's state machine, in one place: `pending → accepted → picking → packed → shipped`, or
`rejected` by the location from any open status (all its units, or some: a partial rejection leaves the rest
open), or `cancelled` when the order no longer needs it. A partial shipment leaves the order `packed` until its
last unit ships.

Click & collect (fulfillment.services.pickup) works the pickup store's fulfilment order the same way up to
`packed`, then `packed → ready_for_pickup` (a pickup code is issued, the hold period starts) `→ collected` (the
customer took some or all units; the rest is cancelled), or `→ cancelled` when the hold period ends uncollected.
A pickup store without the stock gets its fulfilment order `awaiting_transfer`: a stock transfer from a location
that ships brings the units, and its receipt at the store reserves them there and makes it `pending`."""

from fulfillment.models import CLOSED_STATUSES, FulfillmentStatus
from oms.errors import IllegalTransition

F = FulfillmentStatus

# The next status of each step a location takes; where a step may start from.
STEPS: dict[str, tuple[frozenset, str]] = {
    "accept": (frozenset({F.PENDING}), F.ACCEPTED),
    "pick": (frozenset({F.ACCEPTED}), F.PICKING),
    "pack": (frozenset({F.PICKING}), F.PACKED),
    "ship": (frozenset({F.PACKED}), F.SHIPPED),
    "reject": (frozenset({F.PENDING, F.ACCEPTED, F.PICKING, F.PACKED}), F.REJECTED),
    "ready": (frozenset({F.PACKED}), F.READY_FOR_PICKUP),
    "collect": (frozenset({F.READY_FOR_PICKUP}), F.COLLECTED),
    "expire": (frozenset({F.READY_FOR_PICKUP}), F.CANCELLED),
    "unlock": (frozenset({F.READY_FOR_PICKUP}), F.READY_FOR_PICKUP),
    "transfer_received": (frozenset({F.AWAITING_TRANSFER}), F.PENDING),
}

# Open fulfilment orders whose units a manual re-route may take away: nothing is in hand yet.
REROUTABLE = frozenset({F.PENDING, F.ACCEPTED})


def check_step(fulfillment, step: str) -> str:
    """The status the step leads to; IllegalTransition (409, naming the current status) when it cannot be taken."""
    allowed_from, target = STEPS[step]
    if fulfillment.status not in allowed_from:
        raise IllegalTransition(
            f"A fulfilment order that is {fulfillment.status} cannot be {_PAST[step]}.",
            current=fulfillment.status,
            requested=target,
        )
    return target


def is_closed(status: str) -> bool:
    return status in CLOSED_STATUSES


_PAST = {
    "accept": "accepted",
    "pick": "picked",
    "pack": "packed",
    "ship": "shipped",
    "reject": "rejected",
    "ready": "marked ready for pickup",
    "collect": "collected",
    "expire": "expired",
    "unlock": "unlocked",
    "transfer_received": "released by a transfer's receipt",
}
