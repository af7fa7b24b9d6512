"""Policy simulation: the orders of a past period replayed under a draft routing policy beside the active one, so
that a user changes a rule knowing what it will do. The draft is validated like a saved policy and kept on the
simulation only: it is never saved as a version.

What the replay asks: "with today's stock and network, where would each of these orders go under each policy?"

- Orders: every delivery and pickup order placed in the period (its dates in the tenant's time zone), in the order
  they were placed. In-store sales are never routed; cancelled orders and cancelled units needed no fulfilment and
  are left out. A line's units ordered less those cancelled are placed, shipped ones included: the replay places
  the demand, not what is left of it.
- Stock and network: as they stand when the replay starts, read once per channel: what each location of the
  channel's pool can give now (after today's reservations, safety stock and the channel's buffer), its
  capabilities, capacity and coordinates. Units an order still holds count as available to it again, as when it
  is routed for real. Stock is not consumed from one replayed order to the next: the period's receipts are not
  replayed either, so consuming it would leave late orders unfillable for want of stock that did arrive.
- Capacity: counted within the replay, per policy, per location and per day. Each policy keeps its own count of
  the fulfilment orders it has given each location on each day (the day the order was placed, in the location's
  time zone, as the routing worker counts "today"): an order sees the load the replay already put on that day, so
  `daily_capacity` turns a location away once the orders replayed before it that day fill it. Today's real loads
  play no part, and the two policies never share a count. A policy that switches the capacity rule off may load a
  location beyond its capacity: those are its days over capacity.
- Opening days: judged on the day the order was placed (the location's weekday), as routing judges today.
- Pilot start dates are taken as reached: both policies are replayed as they route once their pilots have started,
  so that a pilot planned for next month shows what it will do (judged by the period's dates, it would show
  nothing).
"""

import logging
from collections import Counter
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timedelta

from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from channels.models import Channel
from fulfillment.engine import PICKUP, SHIP, Candidate, Line, Plan, plan_routing
from fulfillment.models import RoutingSimulation
from fulfillment.policy import DAILY_CAPACITY, validate_policy
from fulfillment.selectors import destination_of, local_date, open_on, routing_candidates
from fulfillment.services.policies import active_policy
from inventory.models import Location, Reservation
from inventory.sourcing import today_for
from oms import audit
from oms.api.scope import Scope
from oms.celery import app
from oms.errors import ValidationFailed
from oms.timezones import zone
from orders.models import DeliveryMethod, Order, OrderLine, OrderStatus

log = logging.getLogger("oms.fulfillment")
CANDIDATE_FIELDS = tuple(f.name for f in fields(Candidate))

TASK_NAME = "fulfillment.run_simulation"
MAX_DAYS = 92
MAX_ORDERS = 20_000
BATCH = 500  # orders read per query
PROGRESS_EVERY = 100  # orders between two progress writes
LISTED = 50  # orders listed by number (unfillable, changed); the counts cover them all
# A runner writes its progress every few seconds; one silent for this long has stopped, and another may take over.
STALE_AFTER = timedelta(minutes=2)
# A queued simulation not taken within this time lost its hand-over (the broker was away): give it again.
QUEUED_PATIENCE = timedelta(seconds=30)
MAX_ATTEMPTS = 8
# Pilots are taken as started (see the module's docstring): the engine reads `today` for pilot dates only.
PILOTS_STARTED = date.max

ACTIVE, DRAFT = "active", "draft"
# What run_simulation() did.
RAN, NOTHING_TO_DO, BUSY = "ran", "nothing_to_do", "busy"


class _TakenOver(Exception):
    """Another runner took the simulation over (this one had stopped giving signs of life)."""


# --- starting ------------------------------------------------------------------------------------------------


def _tenant_zone(tenant):
    return zone(tenant.timezone)


def orders_to_replay(*, tenant, date_from: date, date_to: date):
    """The delivery and pickup orders placed from `date_from` to `date_to` (inclusive, the tenant's days), not
    cancelled."""
    zone = _tenant_zone(tenant)
    start = datetime.combine(date_from, time.min, tzinfo=zone)
    end = datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=zone)
    return (
        Order.objects.for_tenant(tenant)
        .filter(placed_at__gte=start, placed_at__lt=end)
        .exclude(delivery_method=DeliveryMethod.IN_STORE)
        .exclude(status=OrderStatus.CANCELLED)
    )


def _draft_errors(draft) -> tuple[dict | None, dict]:
    """(the draft made complete, errors under the request's paths: `policy.<path in the rules>`)."""
    try:
        return validate_policy(draft), {}
    except ValidationFailed as refused:
        errors = refused.extra.get("errors", {})
        return None, {("policy" if path == "non_field_errors" else f"policy.{path}"): m for path, m in errors.items()}


def start_simulation(*, scope: Scope, draft, date_from: date, date_to: date) -> RoutingSimulation:
    """Queue the replay of the period's orders under `draft` beside the active policy; the job goes to the routing
    queue once the simulation is committed. Refused (400, errors under `policy.…`, `from`, `to`): a draft the
    policy editor would refuse, a period ending after today, longer than MAX_DAYS, without orders or with more than
    MAX_ORDERS of them (a replay holds the period in memory and runs every order twice)."""
    scope.forbid_channel_key("simulate a routing policy")
    tenant = scope.tenant
    rules, errors = _draft_errors(draft)
    today = today_for(tenant)
    if date_from > today:
        errors["from"] = [f"The period cannot start after today ({today.isoformat()})."]
    if date_to > today:
        errors["to"] = [f"The period cannot end after today ({today.isoformat()}): only placed orders are replayed."]
    elif date_to < date_from:
        errors["to"] = ["Must be on or after from."]
    elif (date_to - date_from).days + 1 > MAX_DAYS:
        span = (date_to - date_from).days + 1
        errors["to"] = [f"The period spans {span} days; a simulation replays at most {MAX_DAYS} days."]
    if errors:
        raise ValidationFailed(errors=errors)
    count = orders_to_replay(tenant=tenant, date_from=date_from, date_to=date_to).count()
    if count > MAX_ORDERS:
        raise ValidationFailed(
            errors={
                "to": [
                    f"The period holds {count} orders to replay; a simulation replays at most {MAX_ORDERS}: "
                    "shorten the period."
                ]
            }
        )
    if not count:
        raise ValidationFailed(
            errors={
                "to": [
                    f"No delivery or pickup order was placed from {date_from.isoformat()} to {date_to.isoformat()}: "
                    "there is nothing to replay."
                ]
            }
        )
    with transaction.atomic():
        simulation = RoutingSimulation.objects.create(
            tenant=tenant,
            draft=rules,
            active_policy=active_policy(tenant=tenant),
            date_from=date_from,
            date_to=date_to,
            orders_total=count,
            created_by=scope.actor.label[:200],
        )
        audit.record(
            tenant=tenant,
            actor=scope.actor,
            action="routing_simulation.started",
            obj=simulation,
            changes={"from": date_from.isoformat(), "to": date_to.isoformat(), "orders": count},
        )
        simulation_id = simulation.id
        transaction.on_commit(lambda: hand_over(simulation_id), robust=True)
    return simulation


def hand_over(simulation_id: int) -> bool:
    """Give the job to the workers (by the task's name, so that this module needs no task); False when the broker
    cannot take it now: the simulation stays queued and the next look at its progress gives it again."""
    try:
        if app.conf.task_always_eager:
            # In-process set-ups run their tasks where they are sent: the registered task, its modules loaded.
            app.loader.import_default_modules()
            app.tasks[TASK_NAME].apply(args=(simulation_id,))
        else:
            app.send_task(TASK_NAME, args=(simulation_id,), retry=False)
    except Exception:
        log.warning("could not hand the routing simulation over", extra={"simulation_id": simulation_id}, exc_info=True)
        return False
    return True


def needs_hand_over(simulation: RoutingSimulation, now: datetime | None = None) -> bool:
    """Queued long after it was started, or running without a sign of life: its task was lost."""
    now = now or timezone.now()
    if simulation.status == RoutingSimulation.Status.QUEUED:
        return simulation.created_at < now - QUEUED_PATIENCE
    if simulation.status == RoutingSimulation.Status.RUNNING:
        return simulation.heartbeat_at is None or simulation.heartbeat_at < now - STALE_AFTER
    return False


def resume_if_lost(simulation: RoutingSimulation) -> bool:
    """Hand a simulation whose task was lost over again; at most once every 30 s however many pages poll it."""
    if not needs_hand_over(simulation):
        return False
    key = f"fulfillment:simulation-kick:{simulation.id}:{simulation.created_at.timestamp()}:{simulation.attempts}"
    if not cache.add(key, 1, 30):
        return False
    return hand_over(simulation.id)


# --- running -------------------------------------------------------------------------------------------------


def run_simulation(simulation_id: int) -> str:
    """Replay the simulation's orders and store the figures. Safe to run twice: a finished simulation is not run
    again (NOTHING_TO_DO), one another runner works on is left to it (BUSY), and a replay started over after a
    crash reads the same orders and stock the same way, so it gives the same figures."""
    simulation = _claim(simulation_id)
    if isinstance(simulation, str):
        return simulation
    try:
        results = _replay(simulation)
    except _TakenOver:
        return BUSY
    except BaseException:
        # Back to the queue, so that a retry of the task (or a look at the progress) takes it at once.
        _runner(simulation).update(status=RoutingSimulation.Status.QUEUED, heartbeat_at=None)
        raise
    now = timezone.now()
    finished = _runner(simulation).update(
        status=RoutingSimulation.Status.DONE,
        results=results,
        orders_done=F("orders_total"),
        error="",
        heartbeat_at=now,
        finished_at=now,
    )
    return RAN if finished else BUSY


def fail_simulation(*, simulation_id: int, error: str) -> None:
    """The replay stopped for good: say why on the simulation (a finished one stays as it is)."""
    RoutingSimulation.all_tenants.filter(id=simulation_id).exclude(status=RoutingSimulation.Status.DONE).update(
        status=RoutingSimulation.Status.FAILED, error=error[:2000], finished_at=timezone.now()
    )


def _claim(simulation_id: int):
    """The simulation, now held by this runner (one attempt more); or why not: NOTHING_TO_DO, BUSY."""
    simulation = RoutingSimulation.all_tenants.select_related("tenant", "active_policy").filter(id=simulation_id)
    simulation = simulation.first()
    if simulation is None or simulation.finished:
        return NOTHING_TO_DO
    now = timezone.now()
    if simulation.status == RoutingSimulation.Status.RUNNING and not needs_hand_over(simulation, now):
        return BUSY
    if simulation.attempts >= MAX_ATTEMPTS:
        # Each runner died before it could say why (a worker killed at its time limit, say): stop trying.
        fail_simulation(
            simulation_id=simulation.id,
            error=f"The replay was started {simulation.attempts} times and never finished; try a shorter period.",
        )
        return NOTHING_TO_DO
    taken = RoutingSimulation.all_tenants.filter(
        id=simulation.id, status=simulation.status, attempts=simulation.attempts
    ).update(
        status=RoutingSimulation.Status.RUNNING,
        attempts=simulation.attempts + 1,
        orders_done=0,
        heartbeat_at=now,
        started_at=simulation.started_at or now,
    )
    if not taken:
        return BUSY
    simulation.refresh_from_db()
    return simulation


def _runner(simulation):
    """The simulation's row while this runner still holds it."""
    return RoutingSimulation.all_tenants.filter(
        id=simulation.id, attempts=simulation.attempts, status=RoutingSimulation.Status.RUNNING
    )


def _progress(simulation, *, done: int, total: int | None = None) -> None:
    changes = {"orders_done": done, "heartbeat_at": timezone.now()}
    if total is not None:
        changes["orders_total"] = total
    if not _runner(simulation).update(**changes):
        raise _TakenOver


@dataclass
class _Order:
    """A replayed order as the engine and the figures need it."""

    id: int
    number: str
    channel_id: int
    kind: str
    pickup_location_id: int | None
    placed_at: datetime
    destination: object
    lines: list = field(default_factory=list)
    held: dict = field(default_factory=dict)  # {(product_id, location_id): units it reserves now}


class _Network:
    """The candidates of every channel the period's orders came through, read once (stock as it stands now), and
    per order the view each location gives it: what it can give this order, whether it opens that day."""

    def __init__(self, *, tenant, orders):
        self.tenant = tenant
        now = timezone.now()
        products: dict = {}
        for channel_id, product_id in (
            OrderLine.objects.for_tenant(tenant)
            .filter(order__in=orders)
            .values_list("order__channel_id", "product_id")
            .distinct()
        ):
            products.setdefault(channel_id, set()).add(product_id)
        channel_ids = set(products) | set(orders.values_list("channel_id", flat=True).distinct())
        self.channels = {c.id: c for c in Channel.objects.for_tenant(tenant).filter(id__in=channel_ids)}
        self.candidates = {
            channel_id: routing_candidates(
                tenant=tenant, channel=channel, product_ids=products.get(channel_id, set()), now=now
            )
            for channel_id, channel in self.channels.items()
        }
        location_ids = {c.location_id for candidates in self.candidates.values() for c in candidates}
        location_ids |= set(
            orders.exclude(pickup_location=None).values_list("pickup_location_id", flat=True).distinct()
        )
        self.locations = {loc.id: loc for loc in Location.objects.for_tenant(tenant).filter(id__in=location_ids)}
        self._open: dict = {}

    def views(self, order: _Order) -> list:
        """How each location of the order's pool looks to it, in pool order."""
        days: dict = {}
        views = []
        products = {line.product_id for line in order.lines}
        for candidate in self.candidates[order.channel_id]:
            location = self.locations[candidate.location_id]
            day = days.get(location.timezone)
            if day is None:
                day = days[location.timezone] = local_date(location, order.placed_at)
            if (location.id, day) not in self._open:
                self._open[(location.id, day)] = open_on(location, order.placed_at)
            available = {
                product_id: candidate.available.get(product_id, 0) + order.held.get((product_id, location.id), 0)
                for product_id in products
            }
            views.append(_View(candidate, day, self._open[(location.id, day)], available))
        return views


class _View:
    """A location as one order sees it: the candidate as read, with the order's day there, whether it opens that
    day and what it can give this order. The load differs between the policies; the candidate for each load is
    made once and shared (building them is most of a replay's time)."""

    __slots__ = ("location_id", "day", "capacity", "_fields", "_built")

    def __init__(self, candidate: Candidate, day: date, is_open: bool | None, available: dict):
        self.location_id = candidate.location_id
        self.day = day
        self.capacity = candidate.daily_capacity
        self._fields = {
            name: getattr(candidate, name) for name in CANDIDATE_FIELDS if name not in ("is_open", "load_today")
        }
        self._fields.update(is_open=is_open, available=available)
        self._built: dict = {}

    def candidate(self, load: int) -> Candidate:
        built = self._built.get(load)
        if built is None:
            built = self._built[load] = Candidate(**self._fields, load_today=load)
        return built


def _load_batch(tenant, ids: list, locations: dict, placed: dict) -> list[_Order]:
    """The orders with these ids, in this order, with their lines and what they reserve now: three queries."""
    orders = {}
    rows = (
        Order.objects.for_tenant(tenant)
        .filter(id__in=ids)
        .values_list("id", "number", "channel_id", "delivery_method", "shipping_address", "pickup_location_id")
    )
    for order_id, number, channel_id, method, address, pickup_id in rows:
        kind = PICKUP if method == DeliveryMethod.PICKUP else SHIP
        pickup = locations.get(pickup_id) if kind == PICKUP else None
        orders[order_id] = _Order(
            id=order_id,
            number=number,
            channel_id=channel_id,
            kind=kind,
            pickup_location_id=pickup_id if kind == PICKUP else None,
            placed_at=placed[order_id],
            destination=destination_of(address=address, pickup_location=pickup),
        )
    lines = (
        OrderLine.objects.for_tenant(tenant)
        .filter(order_id__in=ids)
        .order_by("order_id", "line_number")
        .values_list("order_id", "id", "sku", "product_id", "quantity", "quantity_cancelled")
    )
    for order_id, line_id, sku, product_id, quantity, cancelled in lines:
        if quantity - cancelled > 0:
            orders[order_id].lines.append(
                Line(key=line_id, sku=sku, product_id=product_id, quantity=quantity - cancelled)
            )
    held = (
        Reservation.objects.for_tenant(tenant)
        .filter(order_line__order_id__in=ids, status=Reservation.Status.ACTIVE)
        .values_list("order_line__order_id", "stock_level__product_id", "stock_level__location_id")
        .annotate(units=Sum("quantity"))
    )
    for order_id, product_id, location_id, units in held:
        orders[order_id].held[(product_id, location_id)] = units
    return [orders[order_id] for order_id in ids if order_id in orders]


class _Tally:
    """One policy's replay: its own capacity count and the figures it adds up."""

    def __init__(self, policy: dict):
        self.policy = policy
        self.loads: Counter = Counter()  # {(location_id, day): fulfilment orders given}
        self.location_orders: Counter = Counter()
        self.location_units: Counter = Counter()
        self.orders = self.served = self.shipments = self.split = 0
        self.km_total, self.km_shipments, self.km_orders = 0.0, 0, 0
        self.unfillable, self.fully, self.units_unfilled = 0, 0, 0
        self.unfillable_listed: list = []

    def plan(self, order: _Order, views: list, channel_code: str) -> Plan:
        loads = self.loads
        # The load matters only where the rule applies and the location has a capacity; elsewhere it is 0, so
        # that both policies share the candidate.
        counted = self.policy["eligibility"][DAILY_CAPACITY]
        candidates = [
            view.candidate(loads[(view.location_id, view.day)] if counted and view.capacity is not None else 0)
            for view in views
        ]
        return plan_routing(
            lines=order.lines,
            candidates=candidates,
            policy=self.policy,
            fulfilment_type=order.kind,
            channel_code=channel_code,
            today=PILOTS_STARTED,
            destination=order.destination,
            pickup_location_id=order.pickup_location_id,
        )

    def add(self, order: _Order, plan: Plan, days: dict) -> None:
        self.orders += 1
        if plan.shipments:
            self.served += 1
            self.shipments += plan.shipments
            self.split += plan.shipments > 1
        for location_id, served in plan.allocations.items():
            # One fulfilment order per location used, on the order's day there: what `daily_capacity` counts.
            self.loads[(location_id, days[location_id])] += 1
            self.location_orders[location_id] += 1
            self.location_units[location_id] += sum(units for _key, units in served)
        if order.destination is not None and plan.distances_km:
            self.km_total += sum(plan.distances_km.values())
            self.km_shipments += len(plan.distances_km)
            self.km_orders += 1
        if plan.unfilled:
            units = sum(quantity for _key, quantity in plan.unfilled)
            fully = not plan.allocations
            self.unfillable += 1
            self.fully += fully
            self.units_unfilled += units
            if len(self.unfillable_listed) < LISTED:
                self.unfillable_listed.append({"id": order.id, "number": order.number, "units": units, "fully": fully})

    def figures(self) -> dict:
        return {
            "orders": self.orders,
            "orders_served": self.served,
            "shipments": self.shipments,
            "shipments_per_order": _ratio(self.shipments, self.served, 3),
            "split_orders": self.split,
            "split_rate": _ratio(self.split, self.served, 4),
            "distance": {
                "mean_km": _ratio(self.km_total, self.km_shipments, 1),
                "orders": self.km_orders,
                "shipments": self.km_shipments,
            },
            "unfillable": {
                "orders": self.unfillable,
                "fully": self.fully,
                "partly": self.unfillable - self.fully,
                "units": self.units_unfilled,
                "first": self.unfillable_listed,
            },
        }

    def location_figures(self, location_id: int, capacity: int | None) -> dict:
        days = {day: load for (loc, day), load in self.loads.items() if loc == location_id}
        peak_day = min(days, key=lambda day: (-days[day], day)) if days else None
        return {
            "orders": self.location_orders[location_id],
            "units": self.location_units[location_id],
            "peak_day": peak_day.isoformat() if peak_day else None,
            "peak_load": days[peak_day] if peak_day else 0,
            "days_full": sum(load >= capacity for load in days.values()) if capacity is not None else 0,
            "days_over": sum(load > capacity for load in days.values()) if capacity is not None else 0,
        }


def _ratio(part, whole, digits: int):
    return round(part / whole, digits) if whole else None


def _minus(draft, active, digits: int = 4):
    if draft is None or active is None:
        return None
    return round(draft - active, digits)


def _signature(plan: Plan) -> tuple:
    return (
        tuple(sorted((location_id, tuple(served)) for location_id, served in plan.allocations.items())),
        tuple(sorted(plan.unfilled)),
    )


def _replay(simulation: RoutingSimulation) -> dict:
    tenant = simulation.tenant
    # Both documents go through today's validation: it fills what an older document leaves out.
    tallies = {
        ACTIVE: _Tally(validate_policy(simulation.active_policy.document)),
        DRAFT: _Tally(validate_policy(simulation.draft)),
    }
    orders = orders_to_replay(tenant=tenant, date_from=simulation.date_from, date_to=simulation.date_to)
    placed = dict(orders.order_by("placed_at", "id").values_list("id", "placed_at"))
    ids = list(placed)  # in the order they were placed: the order capacity is taken in
    _progress(simulation, done=0, total=len(ids))
    network = _Network(tenant=tenant, orders=orders)
    codes = {location_id: location.code for location_id, location in network.locations.items()}
    replay = Counter()
    changed, changed_listed = 0, []
    done = 0
    for start in range(0, len(ids), BATCH):
        for order in _load_batch(tenant, ids[start : start + BATCH], network.locations, placed):
            done += 1
            if not order.lines:
                replay["nothing_to_place"] += 1
            else:
                replay[order.kind] += 1
                replay["without_destination" if order.destination is None else "with_destination"] += 1
                views = network.views(order)
                days = {view.location_id: view.day for view in views}
                channel_code = network.channels[order.channel_id].code
                plans = {}
                for name, tally in tallies.items():
                    plans[name] = tally.plan(order, views, channel_code)
                    tally.add(order, plans[name], days)
                if _signature(plans[ACTIVE]) != _signature(plans[DRAFT]):
                    changed += 1
                    if len(changed_listed) < LISTED:
                        changed_listed.append(_change(order, plans, codes))
            if done % PROGRESS_EVERY == 0:
                _progress(simulation, done=done)
    return _results(simulation, tallies, network, replay, changed, changed_listed)


def _change(order: _Order, plans: dict, codes: dict) -> dict:
    return {
        "id": order.id,
        "number": order.number,
        **{name: [codes[location_id] for location_id in plan.allocations] for name, plan in plans.items()},
        **{f"{name}_unfilled": sum(q for _key, q in plan.unfilled) for name, plan in plans.items()},
    }


def _results(simulation, tallies: dict, network: _Network, replay: Counter, changed: int, listed: list) -> dict:
    active, draft = tallies[ACTIVE].figures(), tallies[DRAFT].figures()
    pool = sorted(
        {c.location_id for candidates in network.candidates.values() for c in candidates},
        key=lambda location_id: network.locations[location_id].code,
    )
    locations = []
    for location_id in pool:
        location = network.locations[location_id]
        capacity = location.daily_capacity
        figures = {name: tally.location_figures(location_id, capacity) for name, tally in tallies.items()}
        locations.append(
            {
                "location": location.code,
                "name": location.name,
                "kind": location.kind,
                "daily_capacity": capacity,
                **figures,
                "difference": {
                    key: figures[DRAFT][key] - figures[ACTIVE][key]
                    for key in ("orders", "units", "peak_load", "days_full", "days_over")
                },
            }
        )
    return {
        "replay": {
            "orders": replay[SHIP] + replay[PICKUP],
            "delivery": replay[SHIP],
            "pickup": replay[PICKUP],
            "nothing_to_place": replay["nothing_to_place"],
            "with_destination": replay["with_destination"],
            "without_destination": replay["without_destination"],
        },
        ACTIVE: {"version": simulation.active_policy.version, **active},
        DRAFT: draft,
        "difference": {
            "orders_served": draft["orders_served"] - active["orders_served"],
            "shipments": draft["shipments"] - active["shipments"],
            "shipments_per_order": _minus(draft["shipments_per_order"], active["shipments_per_order"], 3),
            "split_orders": draft["split_orders"] - active["split_orders"],
            "split_rate": _minus(draft["split_rate"], active["split_rate"], 4),
            "mean_km": _minus(draft["distance"]["mean_km"], active["distance"]["mean_km"], 1),
            "unfillable_orders": draft["unfillable"]["orders"] - active["unfillable"]["orders"],
            "unfillable_units": draft["unfillable"]["units"] - active["unfillable"]["units"],
        },
        "locations": locations,
        "changed": {"orders": changed, "first": listed},
    }


def resume_lost_simulations(*, limit: int = 50) -> int:
    """Every tenant's simulations whose task was lost (a broker away when it was started, a worker that died),
    handed over again; what beat runs, so that none stays queued when nobody looks at it."""
    waiting = RoutingSimulation.all_tenants.filter(
        status__in=(RoutingSimulation.Status.QUEUED, RoutingSimulation.Status.RUNNING)
    ).order_by("id")[:limit]
    return sum(resume_if_lost(simulation) for simulation in waiting)
