"""The return's state machine, in one place:
`requested → approved → received → inspected → refunded | exchanged | closed`, or `rejected` (refused at the
request), or `cancelled` (withdrawn before anything came back). Refunded, exchanged, closed, rejected and cancelled
are final."""

from oms.errors import IllegalTransition
from returns.models import ReturnStatus

S = ReturnStatus

TRANSITIONS: dict[str, frozenset] = {
    S.REQUESTED: frozenset({S.APPROVED, S.REJECTED, S.CANCELLED}),
    S.APPROVED: frozenset({S.RECEIVED, S.CANCELLED, S.CLOSED}),
    S.RECEIVED: frozenset({S.INSPECTED}),
    S.INSPECTED: frozenset({S.REFUNDED, S.EXCHANGED, S.CLOSED}),
    S.REFUNDED: frozenset(),
    S.EXCHANGED: frozenset(),
    S.CLOSED: frozenset(),
    S.REJECTED: frozenset(),
    S.CANCELLED: frozenset(),
}

# Returns whose units count against what is left to return: every one not refused or withdrawn.
COUNTED = frozenset(set(S.values) - {S.REJECTED, S.CANCELLED})
FINAL = frozenset(status for status, nexts in TRANSITIONS.items() if not nexts)


def check_transition(current: str, target: str) -> None:
    """IllegalTransition (409, naming both statuses) unless the map allows `current → target`."""
    if target not in TRANSITIONS[current]:
        raise IllegalTransition(
            f"A return that is {current} cannot become {target}.", current=current, requested=target
        )
