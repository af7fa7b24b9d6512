"""The routing engine: a pure function from an order's lines, the candidate locations and the policy to a plan and a
reason for every location. It reads nothing and writes nothing; fulfillment.routing gathers its inputs."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from inventory.geo import haversine_km

SHIP, PICKUP = "ship", "pickup"
PILOT_KEY = {SHIP: "ship_from_store", PICKUP: "click_collect"}
PILOT_NAME = {SHIP: "ship-from-store", PICKUP: "click & collect"}


@dataclass(frozen=True)
class Line:
    key: object
    sku: str
    product_id: int
    quantity: int


@dataclass(frozen=True)
class Candidate:
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
    latitude: float
    longitude: float
    approximate: bool = False


@dataclass(frozen=True)
class Reason:
    chosen: bool
    code: str
    text: str


@dataclass
class Plan:
    allocations: dict  # {location_id: [(line_key, quantity)]}
    unfilled: list  # [(line_key, quantity)]
    reasons: dict  # {location_id: Reason}
    policy_version: int | None = None

    @property
    def shipments(self) -> int:
        return len(self.allocations)


def _ineligible(c: Candidate, *, policy, fulfilment_type, channel_code, today, excluded, pickup_location_id):
    """(code, text) saying why the location cannot take part, or None."""
    rules = policy["eligibility"]
    if not c.active:
        return "inactive", "the location is inactive"
    if not c.in_pool:
        return "not_in_pool", "not in the channel's sourcing pool"
    if c.location_id in excluded:
        return "excluded", "excluded by a re-route"
    if fulfilment_type == PICKUP and pickup_location_id is not None and c.location_id != pickup_location_id:
        return "not_pickup_store", "the customer collects at another store"
    if rules["capability"]:
        if fulfilment_type == SHIP and not c.ships:
            return "no_capability", "does not ship orders"
        if fulfilment_type == PICKUP and not c.pickup:
            return "no_capability", "offers no pickup"
    if c.kind == "store":
        entries = (policy.get("pilot") or {}).get(PILOT_KEY[fulfilment_type])
        if entries is not None:
            name = PILOT_NAME[fulfilment_type]
            entry = next((e for e in entries if e["location"] == c.code), None)
            if entry is None:
                return "pilot", f"{name} not enabled at this store"
            if date.fromisoformat(entry["from"]) > today:
                return "pilot", f"{name} not enabled before {entry['from']}"
            if entry.get("channels") and channel_code not in entry["channels"]:
                return "pilot", f"{name} not enabled for channel {channel_code}"
    if rules["opening_hours"] and c.is_open is False:
        return "closed", "closed today"
    if rules["daily_capacity"] and c.daily_capacity is not None and c.load_today >= c.daily_capacity:
        return "capacity", f"over daily capacity {c.load_today}/{c.daily_capacity}"
    return None


def _distance(c: Candidate, destination: Destination | None) -> float | None:
    if destination is None or c.latitude is None or c.longitude is None:
        return None
    return haversine_km((destination.latitude, destination.longitude), (c.latitude, c.longitude))


def _rank_key(c: Candidate, objectives, distance, stock) -> tuple:
    """The candidate's place by the policy's objectives after `fewest_shipments` (handled by the plan itself);
    ties fall to the pool's priority, then the id, so that the same input always gives the same plan."""
    key = []
    for objective in objectives:
        if objective == "warehouses_first":
            key.append(0 if c.kind == "warehouse" else 1)
        elif objective == "stores_first":
            key.append(0 if c.kind == "store" else 1)
        elif objective == "nearest":
            key.append((distance is None, distance or 0.0))
        elif objective == "pool_priority":
            key.append(c.pool_rank)
        elif objective == "most_stock":
            key.append(-stock)
    key.extend((c.pool_rank, c.location_id))
    return tuple(key)


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
    pickup_location_id: int | None = None,
    policy_version: int | None = None,
) -> Plan:
    """The plan for `lines` among `candidates` under `policy` (validated), with a reason for every candidate."""
    reasons: dict = {}
    needed = {}
    for line in lines:
        needed[line.product_id] = needed.get(line.product_id, 0) + line.quantity
    skus = {line.product_id: line.sku for line in lines}
    eligible = []
    for c in candidates:
        refusal = _ineligible(
            c,
            policy=policy,
            fulfilment_type=fulfilment_type,
            channel_code=channel_code,
            today=today,
            excluded=exclude_location_ids,
            pickup_location_id=pickup_location_id,
        )
        if refusal is not None:
            reasons[c.location_id] = Reason(False, *refusal)
            continue
        lacking = [skus[pid] for pid in needed if c.available.get(pid, 0) <= 0]
        if len(lacking) == len(needed):
            reasons[c.location_id] = Reason(False, "no_stock", "no stock of " + ", ".join(sorted(lacking)))
            continue
        eligible.append(c)
    objectives = [o for o in policy["objectives"] if o != "fewest_shipments"]
    fewest = "fewest_shipments" in policy["objectives"]
    distances = {c.location_id: _distance(c, destination) for c in eligible}
    # Most stock: all the units of the order's products a location holds, not only what this order needs.
    stock = {c.location_id: sum(c.available.get(pid, 0) for pid in needed) for c in eligible}
    ranked = sorted(eligible, key=lambda c: _rank_key(c, objectives, distances[c.location_id], stock[c.location_id]))
    whole = [c for c in ranked if all(c.available.get(pid, 0) >= qty for pid, qty in needed.items())]
    if fewest and whole:
        chosen_order = [whole[0]]
    else:
        chosen_order = ranked
    allocations: dict = {}
    remaining = {line.key: line.quantity for line in lines}
    left = {c.location_id: dict(c.available) for c in eligible}
    max_splits = policy["max_splits"]
    pool = list(chosen_order)
    while pool and any(remaining.values()) and len(allocations) < max_splits:
        # Greedy: the best-ranked location serving the most of what is left (with fewest_shipments), else the
        # best-ranked location that serves anything.
        def serves(c):
            return sum(min(left[c.location_id].get(line.product_id, 0), remaining[line.key]) for line in lines)

        best = max(pool, key=serves) if fewest else next((c for c in pool if serves(c) > 0), None)
        if best is None or serves(best) == 0:
            break
        pool.remove(best)
        taken = []
        for line in lines:
            take = min(left[best.location_id].get(line.product_id, 0), remaining[line.key])
            if take > 0:
                left[best.location_id][line.product_id] -= take
                remaining[line.key] -= take
                taken.append((line.key, take))
        allocations[best.location_id] = taken
    unfilled = [(key, quantity) for key, quantity in remaining.items() if quantity > 0]
    for c in eligible:
        if c.location_id in allocations:
            served = allocations[c.location_id]
            what = "serves all lines" if not unfilled and len(allocations) == 1 else f"serves {len(served)} line(s)"
            why = _why(c, objectives, distances[c.location_id], destination)
            reasons[c.location_id] = Reason(True, "chosen", f"{what}{'; ' + why if why else ''}")
        elif fewest and whole and c.location_id != whole[0].location_id:
            winner = whole[0]
            shipments = _shipments_needed(c, lines)
            reasons[c.location_id] = Reason(
                False,
                "outranked",
                f"would need {shipments} shipments, {winner.code} can do it in 1"
                if shipments > 1
                else f"{winner.code} ranks first by the policy",
            )
        elif len(allocations) >= max_splits:
            reasons[c.location_id] = Reason(False, "max_splits", f"the order may use at most {max_splits} locations")
        else:
            reasons[c.location_id] = Reason(False, "not_needed", "other locations serve the order")
    return Plan(allocations=allocations, unfilled=unfilled, reasons=reasons, policy_version=policy_version)


def _shipments_needed(c: Candidate, lines) -> int:
    """1 when the location could serve every line alone, 2 otherwise (it would need a second location)."""
    return 1 if all(c.available.get(line.product_id, 0) >= line.quantity for line in lines) else 2


def _why(c: Candidate, objectives, distance, destination) -> str:
    parts = []
    if "nearest" in objectives and distance is not None:
        area = " to the postal code's area" if destination is not None and destination.approximate else ""
        parts.append(f"nearest{area} ({distance:.1f} km)")
    if "warehouses_first" in objectives and c.kind == "warehouse":
        parts.append("a warehouse")
    if "stores_first" in objectives and c.kind == "store":
        parts.append("a store")
    return ", ".join(parts)
