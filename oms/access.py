"""Who may read and change what: the role matrix, written once.

Every API view names the part of the product it serves (`access = "orders"`); the API's permission class answers
from this matrix alone, and docs/roles.md is checked against it by the test suite, so the document, the code and
the behaviour cannot drift apart. What a caller then sees within a part is narrowed by its scope
(oms.api.scope): a channel key sees its own channel's orders, fulfilment orders and webhooks only, a store clerk
the rows of their assigned stores only, and both get a 404 for the rest, as for an id that does not exist.

Callers: the five member roles, an `integration` key (a tenant's ERP, WMS or carrier hub: not bound to a channel),
a `channel` key (a sales channel's shop or marketplace connector) and `anonymous` (nobody: 401 on the API, the
sign-in page for pages). A refused read or write is a 403.
"""

from dataclasses import dataclass

from oms.models import Role

ADMIN, BACK_OFFICE, MANAGER, STORE_CLERK, VIEWER = (
    Role.ADMIN.value,
    Role.BACK_OFFICE.value,
    Role.MANAGER.value,
    Role.STORE_CLERK.value,
    Role.VIEWER.value,
)
INTEGRATION, CHANNEL, ANONYMOUS = "integration", "channel", "anonymous"
MEMBERS = frozenset({ADMIN, BACK_OFFICE, MANAGER, STORE_CLERK, VIEWER})
KEYS = frozenset({INTEGRATION, CHANNEL})
CALLERS = (ADMIN, BACK_OFFICE, MANAGER, STORE_CLERK, VIEWER, INTEGRATION, CHANNEL, ANONYMOUS)
OFFICE = frozenset({ADMIN, BACK_OFFICE})
OVERSIGHT = frozenset({ADMIN, BACK_OFFICE, MANAGER, VIEWER})  # everyone but the store floor


@dataclass(frozen=True)
class Access:
    """Who may read (GET) and who may change (every other method) one part of the product."""

    read: frozenset
    write: frozenset
    what: str  # the part, as the matrix's reader knows it

    def allows(self, caller: str, *, reading: bool) -> bool:
        return caller in (self.read if reading else self.write)


MATRIX: dict[str, Access] = {
    "catalog": Access(MEMBERS | KEYS, OFFICE | {INTEGRATION}, "products: list, read, create, change, bulk upsert"),
    "network": Access(MEMBERS | KEYS, OFFICE | {INTEGRATION}, "locations and sales channels"),
    "stock": Access(MEMBERS | KEYS, frozenset(), "stock levels and availability"),
    "reservations": Access(
        MEMBERS | KEYS, OFFICE | {STORE_CLERK, INTEGRATION, CHANNEL}, "stock reservations (carts, store holds)"
    ),
    "stock_changes": Access(
        OFFICE | {INTEGRATION}, OFFICE | {INTEGRATION}, "stock adjustments and snapshots from a WMS or ERP"
    ),
    "transfers": Access(MEMBERS | {INTEGRATION}, OFFICE | {INTEGRATION}, "transfers between locations"),
    "counts": Access(MEMBERS | {INTEGRATION}, OFFICE | {STORE_CLERK, INTEGRATION}, "cycle counts"),
    "stock_alerts": Access(OFFICE | {MANAGER, INTEGRATION}, OFFICE | {INTEGRATION}, "low-stock alert rules"),
    "orders": Access(OVERSIGHT | KEYS, OFFICE | KEYS, "orders: place, read, edit, cancel, hold, release"),
    "feedback": Access(
        OVERSIGHT | KEYS, OFFICE | KEYS, "customer satisfaction responses to orders: read, record (one per order)"
    ),
    "feedback_links": Access(
        OFFICE | KEYS, frozenset(), "the signed link a customer rates an order through, without an account"
    ),
    "customers": Access(OVERSIGHT | KEYS, frozenset(), "customers and their orders"),
    "customer_privacy": Access(
        frozenset({ADMIN}), frozenset({ADMIN}), "a customer's personal data: export (R) and erasure (W), GDPR"
    ),
    "invoices": Access(OVERSIGHT | KEYS, frozenset(), "invoices and credit notes"),
    "routing_policy": Access(
        OVERSIGHT | {INTEGRATION}, frozenset({ADMIN, MANAGER, INTEGRATION}), "the routing policy and its versions"
    ),
    "routing_dry_run": Access(  # a shop may ask where its own order or basket would go
        OVERSIGHT | KEYS, OVERSIGHT | KEYS, "where an order or a basket would go (changes nothing)"
    ),
    "routing_simulations": Access(
        OVERSIGHT | {INTEGRATION}, frozenset({ADMIN, MANAGER, INTEGRATION}), "policy simulations on past orders"
    ),
    "fulfillments": Access(
        MEMBERS | KEYS,
        OFFICE | {STORE_CLERK, INTEGRATION},
        "fulfilment orders: accept, pick, pack, ship, reject; click & collect: ready, collect",
    ),
    "pickup_unlock": Access(
        frozenset(), frozenset({ADMIN, MANAGER, INTEGRATION}), "unlocking a hand-over locked after wrong pickup codes"
    ),
    "shipments": Access(MEMBERS | KEYS, OFFICE | {INTEGRATION}, "shipments and their carrier events"),
    "rerouting": Access(frozenset(), OFFICE | {INTEGRATION}, "moving an order's units to other locations"),
    "returns": Access(
        MEMBERS | KEYS,
        OFFICE | {STORE_CLERK} | KEYS,
        "returns (RMA): request, read, cancel, print the slip; a store clerk for any order, at their stores",
    ),
    "return_decisions": Access(frozenset(), OFFICE | {MANAGER, INTEGRATION}, "approving or rejecting a return"),
    "return_receipts": Access(
        frozenset(),
        OFFICE | {STORE_CLERK, INTEGRATION},
        "receiving a return (dispositions, stock back) and closing it; a store clerk at their stores",
    ),
    "refunds": Access(MEMBERS | KEYS, frozenset(), "refunds of returns; a store clerk those of their stores"),
    "refund_settlement": Access(frozenset(), OFFICE | {INTEGRATION}, "settling a refund with the payment's reference"),
    "return_policy": Access(
        OVERSIGHT | {INTEGRATION},
        frozenset({ADMIN, INTEGRATION}),
        "the return policy: auto-approval and money rules (shipping refunds, return fee, exchanges)",
    ),
    "return_reasons": Access(MEMBERS | KEYS, OFFICE | {INTEGRATION}, "the tenant's list of return reasons"),
    "kpis": Access(
        frozenset({ADMIN, MANAGER, INTEGRATION}),
        frozenset(),
        "KPIs: the dashboards and the KPI API",
    ),
    "kpi_digest": Access(
        frozenset({ADMIN, MANAGER}),
        frozenset({ADMIN, MANAGER}),
        "the weekly KPI e-mail: subscribing oneself, stopping it",
    ),
    "webhooks": Access(OFFICE | KEYS, frozenset({ADMIN}) | KEYS, "webhook subscriptions and their deliveries"),
    # Pages only.
    "store_sales": Access(
        OFFICE | {STORE_CLERK}, OFFICE | {STORE_CLERK}, "walk-in sales at a store's till (the store screens)"
    ),
    "home": Access(MEMBERS, frozenset(), "the home page and the demo's webhook inbox"),
    "members": Access(
        frozenset({ADMIN}), frozenset({ADMIN}), "inviting people by e-mail; sending again, revoking invitations"
    ),
    "api_keys": Access(frozenset({ADMIN}), frozenset({ADMIN}), "issuing and revoking API keys"),
    "audit": Access(frozenset({ADMIN}), frozenset(), "the audit log"),
    "order_settings": Access(frozenset({ADMIN}), frozenset({ADMIN}), "order numbering and intake settings"),
}


def caller_of(scope) -> str:
    """The matrix's name for whoever a scope acts for."""
    if scope is None:
        return ANONYMOUS
    if scope.is_api_key:
        return CHANNEL if scope.channel is not None else INTEGRATION
    return scope.role or ANONYMOUS


def rule_for(view) -> Access:
    """The rule of the part a view serves; a view that names none (or an unknown one) is a programming error."""
    name = getattr(view, "access", None)
    try:
        return MATRIX[name]
    except KeyError:
        raise LookupError(f"{type(view).__name__} names no part of the role matrix (access = {name!r})") from None


def matrix_table() -> str:
    """The matrix as the Markdown table docs/roles.md shows (R: reads, W: changes; a dash: neither)."""
    header = "| part | " + " | ".join(CALLERS) + " |"
    rows = [header, "| --- |" + " :---: |" * len(CALLERS)]
    for name, rule in MATRIX.items():
        cells = []
        for caller in CALLERS:
            mark = ("R" if caller in rule.read else "") + ("W" if caller in rule.write else "")
            cells.append(mark or "-")
        rows.append(f"| `{name}`: {rule.what} | " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"
