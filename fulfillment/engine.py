"""The routing engine: from an order's lines, the candidate locations (with what each can give) and a validated
policy (fulfillment.policy) to a plan, with a reason for every candidate. It reads and writes nothing, so that the
same function serves the allocation worker, the dry run and the policy simulation, and is tested without a
database; fulfillment.services.routing gathers its inputs.

How a plan is made:
1. Eligibility. Every candidate passes the rules in a fixed order and the first one it fails is its reason.
2. Stock. A location with none of the order's products is out; quantities come only from `Candidate.available`.
3. Ranking. The policy's objectives, in its order, make a lexicographic key; the pool rank, then the location id,
   break what is still tied, so that the same input always gives the same plan.
4. Selection. Repeatedly the best-ranked location among those that can serve something of what is left is
   taken, until everything is placed or `max_splits` locations are used. With `fewest_shipments` its place in
   the key is "units of what is left it can serve", so a location that serves everything wins when one exists
   and a split takes the fewest, largest parts.
5. Assignment. Each line goes whole to the first chosen location that can serve it whole; only a line that none
   can serve whole is split. A chosen location left with nothing is dropped, and its slot goes back to the
   selection for what is still unplaced.
"""

import math
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from datetime import date

from fulfillment.policy import (
    CAPABILITY,
    CLICK_COLLECT,
    DAILY_CAPACITY,
    FEWEST_SHIPMENTS,
    MOST_STOCK,
    NEAREST,
    OPENING_HOURS,
    POOL_PRIORITY,
    SHIP_FROM_STORE,
    STORES_FIRST,
    WAREHOUSES_FIRST,
)
from inventory.geo import haversine_km

SHIP, PICKUP = "ship", "pickup"
WAREHOUSE, STORE, DROPSHIP = "warehouse", "store", "dropship"

# Reason codes: one for the chosen locations, one per rule that leaves a location out.
CHOSEN = "chosen"
INACTIVE = "inactive"
NOT_IN_POOL = "not_in_pool"
EXCLUDED = "excluded"
NOT_PICKUP_STORE = "not_pickup_store"
NO_CAPABILITY = "no_capability"
PILOT_LOCATION = "pilot_location"
PILOT_DATE = "pilot_date"
PILOT_CHANNEL = "pilot_channel"
CLOSED = "closed"
OVER_CAPACITY = "over_capacity"
NO_STOCK = "no_stock"
MORE_SHIPMENTS = "more_shipments"
OUTRANKED = "outranked"
MAX_SPLITS_REACHED = "max_splits"
NOT_NEEDED = "not_needed"

PILOT_OF = {SHIP: SHIP_FROM_STORE, PICKUP: CLICK_COLLECT}
PILOT_NAME = {SHIP: "ship-from-store", PICKUP: "click & collect"}
# A drop-ship supplier is someone else's stock and lead time: whichever kind the policy puts first, it comes last.
KIND_ORDER = {
    WAREHOUSES_FIRST: {WAREHOUSE: 0, STORE: 1},
    STORES_FIRST: {STORE: 0, WAREHOUSE: 1},
}
LAST_KIND = 2
# Components of the ranking key after the policy's objectives.
POOL_RANK_TIE, LOCATION_ID_TIE = "pool_rank", "location_id"
# What each objective reads of a location for the ranking key (fewest_shipments: units servable, per step).
_KIND_SLOT, _DISTANCE_SLOT, _POOL_SLOT, _STOCK_SLOT, _UNITS_SLOT = range(5)
_SLOT_OF = {
    WAREHOUSES_FIRST: _KIND_SLOT,
    STORES_FIRST: _KIND_SLOT,
    NEAREST: _DISTANCE_SLOT,
    POOL_PRIORITY: _POOL_SLOT,
    MOST_STOCK: _STOCK_SLOT,
}


@dataclass(frozen=True)
class Line:
    """An order line to place: `key` identifies it in the plan (an order line id, or any hashable)."""

    key: Hashable
    sku: str
    product_id: int
    quantity: int


@dataclass(slots=True)
class Candidate:
    """A location that may fulfil the order, as the caller sees it now. `available` is what it can give of each
    product to this order's channel (after reservations, safety stock, the channel's buffer and lots that do not
    outlast the promise); `is_open` None means unknown, treated as open; `load_today` counts the fulfilment
    orders it accepted today. The engine only reads it. Not frozen: a frozen dataclass sets each field through
    object.__setattr__, three times the cost, and a batch of allocations builds 50 candidates per order."""

    location_id: int
    code: str
    kind: str
    active: bool
    in_pool: bool
    pool_rank: int
    ships: bool
    pickup: bool
    is_open: bool | None
    daily_capacity: int | None
    load_today: int
    latitude: float | None
    longitude: float | None
    available: Mapping = field(default_factory=dict)


@dataclass(frozen=True)
class Destination:
    """Where the goods go; `approximate` when it is a postal code's area rather than the address itself."""

    latitude: float
    longitude: float
    approximate: bool = False


@dataclass(slots=True)  # not frozen: a plan builds one per candidate location (see Candidate)
class Reason:
    chosen: bool
    code: str
    text: str


@dataclass(frozen=True)
class Plan:
    """`allocations`: {location_id: [(line_key, quantity)]} in the order the locations were chosen; `unfilled`:
    [(line_key, quantity)] that no eligible location can give within `max_splits`; `reasons`: {location_id:
    Reason} for every candidate, in the candidates' order; `shipments`: the number of locations used;
    `distances_km`: {location_id: km to the destination} of the chosen locations that have coordinates."""

    allocations: dict
    unfilled: list
    reasons: dict
    shipments: int
    policy_version: int | None = None
    distances_km: dict = field(default_factory=dict)


class _Contender:
    """An eligible location with stock, and what the plan learns about it while it is made."""

    __slots__ = (
        "candidate",
        "stock",
        "total_stock",
        "first_units",
        "first_key",
        "distance",
        "head",
        "tail",
        "picked_over",
        "idle",
    )

    def __init__(self, candidate: Candidate, stock: dict, demand: dict, distance: float | None):
        self.candidate = candidate
        self.stock = stock  # {product_id: units > 0} for the order's products only
        total = first = 0
        for product_id, units in stock.items():
            total += units
            wanted = demand.get(product_id, 0)
            first += wanted if wanted < units else units
        self.total_stock = total
        self.first_units = first  # of the whole order, alone: servable(demand)
        self.distance = distance
        self.head: tuple = ()
        self.tail: tuple = ()
        self.first_key: tuple = ()  # its ranking key for the whole order, set by _Ranking.prepare
        # When chosen: (runner-up or None, the objective that put it first, units it served, units left before it).
        self.picked_over: tuple | None = None
        self.idle = False  # chosen, then left with nothing once lines went whole elsewhere

    def servable(self, need: dict) -> int:
        stock = self.stock
        return sum(min(units, stock.get(product_id, 0)) for product_id, units in need.items() if units)


class _Ranking:
    """The policy's objectives as a key: `head + (-units servable,) + tail` with fewest_shipments, the static
    `tail` alone without it."""

    def __init__(self, objectives: list, destination: Destination | None):
        self.objectives = list(objectives)
        self.fewest = FEWEST_SHIPMENTS in self.objectives
        self.split = self.objectives.index(FEWEST_SHIPMENTS) if self.fewest else len(self.objectives)
        self.names = [*self.objectives, POOL_RANK_TIE, LOCATION_ID_TIE]
        self.destination = destination
        self.kind_objective = next((o for o in self.objectives if o in KIND_ORDER), None)
        # Each objective's slot read once here, so that prepare() runs no chain of comparisons per location.
        self.slots = tuple((_SLOT_OF.get(o, _UNITS_SLOT), KIND_ORDER.get(o)) for o in self.objectives)

    def prepare(self, contender: _Contender) -> None:
        candidate = contender.candidate
        kind, rank = candidate.kind, candidate.pool_rank
        # Without coordinates a location cannot be said to be near: it ranks after every located one.
        distance = math.inf if contender.distance is None else contender.distance
        stock = -contender.total_stock
        values = [
            order.get(kind, LAST_KIND)
            if slot == _KIND_SLOT
            else distance
            if slot == _DISTANCE_SLOT
            else rank
            if slot == _POOL_SLOT
            else stock
            if slot == _STOCK_SLOT
            else 0  # fewest_shipments' place, filled per step by key()
            for slot, order in self.slots
        ]
        ties = (rank, candidate.location_id)
        if self.fewest:
            head = contender.head = tuple(values[: self.split])
            tail = contender.tail = (*values[self.split + 1 :], *ties)
            contender.first_key = (*head, -contender.first_units, *tail)
        else:
            contender.tail = contender.first_key = (*values, *ties)

    def key(self, contender: _Contender, units: int) -> tuple:
        if self.fewest:
            return (*contender.head, -units, *contender.tail)
        return contender.tail

    def decider(self, better: tuple, worse: tuple) -> str | None:
        """The first objective (or tie-break) on which `better` beats `worse`; None when they are equal. Asked for
        every location a plan leaves out: fifty times an order."""
        if better == worse:
            return None
        index = 0
        for a, b in zip(better, worse, strict=True):
            if a != b:
                return self.names[index]
            index += 1
        return None

    def distance_text(self, km: float) -> str:
        return f"{km:.1f} km" + (" from the postal code's area" if self.destination.approximate else "")


class _Gate:
    """The eligibility rules of one routing question, read from the policy once; `refusal()` runs them in a fixed
    order, so that a location left out for several reasons always gives the same one."""

    def __init__(self, *, policy, fulfilment_type, channel_code, today, excluded, pickup_location_id, pickup_code):
        rules = policy["eligibility"]
        self.capability = rules[CAPABILITY]
        self.opening_hours = rules[OPENING_HOURS]
        self.daily_capacity = rules[DAILY_CAPACITY]
        self.ship = fulfilment_type == SHIP
        self.pinned = pickup_location_id if fulfilment_type == PICKUP else None
        self.pickup_code = pickup_code
        self.channel_code = channel_code
        self.today = today
        self.excluded = excluded
        self.pilot_name = PILOT_NAME[fulfilment_type]
        self.perimeter = self._perimeter(policy, fulfilment_type)

    @staticmethod
    def _perimeter(policy: dict, fulfilment_type: str) -> dict | None:
        """{store code: (start date or None, channel codes)} for the fulfilment type; None when every store may."""
        entries = (policy.get("pilot") or {}).get(PILOT_OF[fulfilment_type])
        if entries is None:
            return None
        return {
            entry["location"]: (
                date.fromisoformat(entry["from"]) if entry.get("from") else None,
                frozenset(entry.get("channels") or ()),
            )
            for entry in entries
        }

    def refusal(self, candidate: Candidate) -> tuple[str, str] | None:
        """(code, text) of the first rule the candidate fails, or None."""
        if not candidate.active:
            return INACTIVE, "location inactive"
        if not candidate.in_pool:
            return NOT_IN_POOL, "not in the channel's sourcing pool"
        if candidate.location_id in self.excluded:
            return EXCLUDED, "excluded by a re-route"
        if self.pinned is not None and candidate.location_id != self.pinned:
            return NOT_PICKUP_STORE, f"the order is collected at {self.pickup_code or 'another location'}"
        if self.capability:
            if self.ship and not candidate.ships:
                return NO_CAPABILITY, "does not ship orders"
            if not self.ship and not candidate.pickup:
                return NO_CAPABILITY, "does not hand over pickup orders"
        if self.perimeter is not None and candidate.kind == STORE:
            entry = self.perimeter.get(candidate.code)
            if entry is None:
                return PILOT_LOCATION, f"{self.pilot_name} not enabled at this store"
            start, channels = entry
            if start is not None and start > self.today:
                return PILOT_DATE, f"{self.pilot_name} not enabled before {start.isoformat()}"
            if channels and self.channel_code not in channels:
                return PILOT_CHANNEL, f"{self.pilot_name} not enabled for channel {self.channel_code}"
        if self.opening_hours and candidate.is_open is False:
            return CLOSED, "closed today"
        capacity = candidate.daily_capacity
        if self.daily_capacity and capacity is not None and candidate.load_today >= capacity:
            return OVER_CAPACITY, f"over daily capacity {candidate.load_today}/{capacity}"
        return None


def _select(contenders: list, need: dict, chosen: list, *, ranking: _Ranking, max_splits: int, fresh: bool) -> None:
    """Extend `chosen` by the greedy: the best-ranked location that can serve something of `need` (units per
    product still to place), until nothing is left to place or `max_splits` locations are used. `fresh`: `need`
    is the whole order, so what each can serve of it is known already."""
    while len(chosen) < max_splits and any(need.values()):
        left = sum(need.values())
        best = best_key = runner = runner_key = None
        best_units = 0
        for contender in contenders:
            if contender.picked_over is not None or contender.idle:
                continue
            if fresh:
                units, key = contender.first_units, contender.first_key
            else:
                units = contender.servable(need)
                key = ranking.key(contender, units) if units else None
            if not units:
                continue
            if best_key is None or key < best_key:
                runner, runner_key = best, best_key
                best, best_key, best_units = contender, key, units
            elif runner_key is None or key < runner_key:
                runner, runner_key = contender, key
        if best is None:
            return
        decider = ranking.decider(best_key, runner_key) if runner is not None else None
        best.picked_over = (runner, decider, best_units, left)
        for product_id, units in need.items():
            need[product_id] = units - min(units, best.stock.get(product_id, 0))
        chosen.append(best)
        fresh = False


def _assign(lines: list, chosen: list) -> tuple[dict, list]:
    """({contender: [(line_key, quantity)]}, unfilled): each line whole at the first chosen location that can
    serve it whole; a line none can serve whole is split, largest stock first, so into as few parts as can be."""
    left = {contender: dict(contender.stock) for contender in chosen}
    allocations: dict = {contender: [] for contender in chosen}
    unfilled = []
    for line in lines:
        product_id, wanted = line.product_id, line.quantity
        whole = next((c for c in chosen if left[c].get(product_id, 0) >= wanted), None)
        if whole is not None:
            left[whole][product_id] -= wanted
            allocations[whole].append((line.key, wanted))
            continue
        order = sorted(range(len(chosen)), key=lambda i: (-left[chosen[i]].get(product_id, 0), i))
        for index in order:
            contender = chosen[index]
            take = min(wanted, left[contender].get(product_id, 0))
            if not take:
                break
            left[contender][product_id] -= take
            allocations[contender].append((line.key, take))
            wanted -= take
            if not wanted:
                break
        if wanted:
            unfilled.append((line.key, wanted))
    # A location may have served a line late in the order; keep each one's lines in the order's line order.
    position = {line.key: index for index, line in enumerate(lines)}
    for served in allocations.values():
        served.sort(key=lambda item: position[item[0]])
    return allocations, unfilled


def _plan(lines: list, demand: dict, contenders: list, *, ranking: _Ranking, max_splits: int) -> tuple:
    """(chosen contenders in order, their allocations, unfilled)."""
    need = dict(demand)
    chosen: list = []
    fresh = True
    while True:
        _select(contenders, need, chosen, ranking=ranking, max_splits=max_splits, fresh=fresh)
        fresh = False
        allocations, unfilled = _assign(lines, chosen)
        idle = [contender for contender in chosen if not allocations[contender]]
        if not idle:
            return chosen, allocations, unfilled
        for contender in idle:
            contender.idle = True
            chosen.remove(contender)
            del allocations[contender]
        if not unfilled:
            return chosen, allocations, unfilled
        # The dropped locations' slots go back to the selection, for what is still unplaced.
        need = {}
        by_key = {line.key: line for line in lines}
        for key, quantity in unfilled:
            product_id = by_key[key].product_id
            need[product_id] = need.get(product_id, 0) + quantity


def _skus(product_ids, skus: dict) -> str:
    return ", ".join(skus[product_id] for product_id in product_ids)


def _served_text(served: list, lines_by_key: dict, *, whole_order: bool, line_count: int) -> str:
    if whole_order:
        return "serves the order's only line" if line_count == 1 else f"serves all {line_count} lines"
    parts = []
    for key, quantity in served:
        line = lines_by_key[key]
        parts.append(f"{line.sku} ({quantity} of {line.quantity})" if quantity < line.quantity else line.sku)
    return "serves " + ", ".join(parts)


def _kind_text(ranking: _Ranking, winner: Candidate) -> str:
    preferred = KIND_ORDER[ranking.kind_objective]
    if preferred.get(winner.kind, LAST_KIND) == 0:
        return "warehouses first" if ranking.kind_objective == WAREHOUSES_FIRST else "stores first"
    return "drop-ship suppliers last"


def _chosen_why(contender: _Contender, ranking: _Ranking, *, total: int) -> str:
    """Why the location was taken over the runner-up at its step, by the first objective that told them apart."""
    runner, decider, units, left = contender.picked_over
    first = left == total  # taken before anything else was
    if runner is None:
        return "the only eligible location with stock" if first else "the only one left with stock of the rest"
    if decider == FEWEST_SHIPMENTS:
        if units == left:
            return "the whole order in one shipment" if first else "all that was left in one shipment"
        return f"the most units of the {'order' if first else 'rest'} ({units} of {left})"
    if decider in KIND_ORDER:
        return _kind_text(ranking, contender.candidate)
    if decider == NEAREST:
        area = " to the postal code's area" if ranking.destination.approximate else ""
        return f"nearest{area} ({contender.distance:.1f} km)"
    if decider == POOL_PRIORITY:
        return f"before {runner.candidate.code} in the channel's pool"
    if decider == MOST_STOCK:
        return f"most stock ({contender.total_stock} units)"
    if decider == POOL_RANK_TIE:
        return f"tied with {runner.candidate.code}, first in the channel's pool"
    return f"tied with {runner.candidate.code}, lower location id"


def _outranked_why(loser: _Contender, winner: _Contender, decider: str, ranking: _Ranking, units: tuple) -> str:
    won, lost, total = units
    if decider == FEWEST_SHIPMENTS:
        return f"serves more of the order ({won} of {total} units against {lost})"
    if decider in KIND_ORDER:
        return _kind_text(ranking, winner.candidate)
    if decider == NEAREST:
        if loser.distance is None:
            return f"nearer ({ranking.distance_text(winner.distance)}; this location has no coordinates)"
        return f"nearer ({winner.distance:.1f} km against {ranking.distance_text(loser.distance)})"
    if decider == POOL_PRIORITY:
        return "higher in the channel's pool"
    if decider == MOST_STOCK:
        return f"more stock ({winner.total_stock} units against {loser.total_stock})"
    if decider == POOL_RANK_TIE:
        return "tied, and first in the channel's pool"
    return "tied, and a lower location id"


class _Unchosen:
    """The reasons of the eligible locations with stock that the plan does not use; what they are compared with
    is worked out once per plan."""

    def __init__(self, *, chosen: list, unfilled: list, lines_by_key: dict, demand: dict, skus: dict, ranking, policy):
        self.chosen = chosen
        self.codes = ", ".join(c.candidate.code for c in chosen)
        self.unfilled_products = {lines_by_key[key].product_id for key, _quantity in unfilled}
        self.demand = demand
        self.skus = skus
        self.ranking = ranking
        self.max_splits = policy["max_splits"]
        self.total = sum(demand.values())
        self.winner = chosen[0] if len(chosen) == 1 else None
        if self.winner is not None:
            self.won = self.winner.first_units
            self.winner_key = self.winner.first_key

    def reason(self, contender: _Contender) -> Reason:
        if contender.idle:
            return Reason(False, NOT_NEEDED, f"not needed: {self.codes} serve its lines whole, without splitting them")
        short = self.unfilled_products and [pid for pid in self.unfilled_products if contender.stock.get(pid)]
        if short:
            # It could give some of what is unplaced, so only the limit on splits kept it out.
            return Reason(
                False,
                MAX_SPLITS_REACHED,
                f"has {_skus(short, self.skus)} but the order may be split over {self.max_splits} locations at most",
            )
        winner = self.winner
        if winner is None:
            return Reason(
                False, NOT_NEEDED, f"not needed: {self.codes} serve the order in {len(self.chosen)} shipments"
            )
        lost = contender.first_units
        own_key = contender.first_key
        if own_key < self.winner_key:
            # Ranked better at the start, yet its lines went whole to the winner without it.
            return Reason(False, NOT_NEEDED, f"not needed: {winner.candidate.code} serves the order")
        decider = self.ranking.decider(self.winner_key, own_key)
        if decider == FEWEST_SHIPMENTS and self.won == self.total:
            lacking = _skus(
                [pid for pid, units in self.demand.items() if contender.stock.get(pid, 0) < units], self.skus
            )
            text = f"would need 2 shipments (short of {lacking}), {winner.candidate.code} can do it in 1"
            return Reason(False, MORE_SHIPMENTS, text)
        why = _outranked_why(contender, winner, decider, self.ranking, (self.won, lost, self.total))
        return Reason(False, OUTRANKED, f"outranked by {winner.candidate.code}: {why}")


def plan_routing(
    *,
    lines,
    candidates,
    policy: dict,
    fulfilment_type: str,
    channel_code: str,
    today: date,
    destination: Destination | None,
    exclude_location_ids=frozenset(),
    pickup_location_id=None,
    policy_version: int | None = None,
) -> Plan:
    """The plan for `lines` among `candidates` under `policy` (as fulfillment.policy.validate_policy returns it),
    with a reason for every candidate. `fulfilment_type` is "ship" or "pickup"; a pickup order is served only by
    `pickup_location_id` when one is given. A line of no units has nothing to place and is left out."""
    if fulfilment_type not in PILOT_OF:
        raise ValueError(f"fulfilment_type must be {SHIP!r} or {PICKUP!r}, not {fulfilment_type!r}")
    lines = [line for line in lines if line.quantity > 0]
    demand: dict = {}
    skus: dict = {}
    for line in lines:
        demand[line.product_id] = demand.get(line.product_id, 0) + line.quantity
        skus.setdefault(line.product_id, line.sku)
    ranking = _Ranking(policy["objectives"], destination)
    gate = _Gate(
        policy=policy,
        fulfilment_type=fulfilment_type,
        channel_code=channel_code,
        today=today,
        excluded=exclude_location_ids,
        pickup_location_id=pickup_location_id,
        pickup_code=next((c.code for c in candidates if c.location_id == pickup_location_id), None),
    )
    here = (destination.latitude, destination.longitude) if destination is not None else None

    reasons: dict = {}
    contenders: list = []
    for candidate in candidates:
        refusal = gate.refusal(candidate)
        if refusal is not None:
            reasons[candidate.location_id] = Reason(False, *refusal)
            continue
        available = candidate.available
        stock = {pid: units for pid in demand if (units := available.get(pid, 0)) > 0}
        if not stock:
            text = f"no stock of {_skus(demand, skus)}" if demand else "nothing to place"
            reasons[candidate.location_id] = Reason(False, NO_STOCK if demand else NOT_NEEDED, text)
            continue
        located = candidate.latitude is not None and candidate.longitude is not None
        distance = haversine_km(here, (candidate.latitude, candidate.longitude)) if here and located else None
        contender = _Contender(candidate, stock, demand, distance)
        ranking.prepare(contender)
        reasons[candidate.location_id] = None  # keeps the candidates' order; filled below
        contenders.append(contender)

    chosen, allocations, unfilled = _plan(lines, demand, contenders, ranking=ranking, max_splits=policy["max_splits"])

    lines_by_key = {line.key: line for line in lines}
    whole_order = len(chosen) == 1 and not unfilled
    total = sum(demand.values())
    for contender in chosen:
        served = _served_text(allocations[contender], lines_by_key, whole_order=whole_order, line_count=len(lines))
        text = f"{served}; {_chosen_why(contender, ranking, total=total)}"
        if contender.distance is not None and contender.picked_over[1] != NEAREST:
            text += f"; {ranking.distance_text(contender.distance)}"
        reasons[contender.candidate.location_id] = Reason(True, CHOSEN, text)
    unchosen = _Unchosen(
        chosen=chosen,
        unfilled=unfilled,
        lines_by_key=lines_by_key,
        demand=demand,
        skus=skus,
        ranking=ranking,
        policy=policy,
    )
    for contender in contenders:
        if contender.picked_over is None or contender.idle:
            reasons[contender.candidate.location_id] = unchosen.reason(contender)
    return Plan(
        allocations={c.candidate.location_id: allocations[c] for c in chosen},
        unfilled=unfilled,
        reasons=reasons,
        shipments=len(chosen),
        policy_version=policy_version,
        distances_km={c.candidate.location_id: c.distance for c in chosen if c.distance is not None},
    )
