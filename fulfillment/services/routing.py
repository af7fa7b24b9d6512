"""Routing an order: gather what the engine needs (the lines still to place, the candidate locations, where the
goods go, the active policy) and ask it. A dry run stops there: it answers the plan and a reason for every location
without touching stock."""

from dataclasses import dataclass, replace

from fulfillment.engine import CHOSEN, NO_STOCK, Line, Plan, Reason, plan_routing
from fulfillment.selectors import PoolSnapshot, destination_of, pool_snapshot
from fulfillment.services.policies import active_policy
from inventory.models import Location, Product
from inventory.sourcing import today_for
from oms.api.scope import Scope
from oms.errors import ValidationFailed
from oms.models import Tenant
from orders.models import DeliveryMethod
from orders.selectors import order_detail

SHIP, PICKUP = "ship", "pickup"
# The reason of a location chosen to send a pickup store the units it lacks, by a stock transfer.
TRANSFER_TO_STORE = "transfer_to_store"


@dataclass(frozen=True)
class RoutingQuestion:
    """What is to be routed: for which channel, how it is delivered, which units of which products, where to."""

    channel: object
    fulfilment_type: str
    lines: tuple
    address: dict | None = None
    pickup_location: Location | None = None


@dataclass(frozen=True)
class RoutingAnswer:
    policy_version: int
    question: RoutingQuestion
    plan: Plan
    locations: dict  # {location_id: Location} of every candidate, to name them


def question_for_order(order, lines) -> RoutingQuestion:
    """An order's units still to place: those neither shipped nor cancelled."""
    wanted = tuple(
        Line(key=line.id, sku=line.sku, product_id=line.product_id, quantity=remaining)
        for line in lines
        if (remaining := line.quantity - line.quantity_shipped - line.quantity_cancelled) > 0
    )
    kind = PICKUP if order.delivery_method == DeliveryMethod.PICKUP else SHIP
    return RoutingQuestion(
        channel=order.channel,
        fulfilment_type=kind,
        lines=wanted,
        address=order.shipping_address,
        pickup_location=order.pickup_location if kind == PICKUP else None,
    )


def question_for_visible_order(*, scope: Scope, order_id) -> RoutingQuestion:
    """The question for an order the caller may see (another tenant's or channel's is 404)."""
    order = order_detail(scope=scope, order_id=order_id)
    return question_for_order(order, order.lines_list)


def question_for_basket(
    *, scope: Scope, channel_code: str | None, delivery: dict, lines: list[dict]
) -> RoutingQuestion:
    """The question for a basket not ordered yet: SKUs and quantities, a delivery method and its destination."""
    channel = scope.channel_for(channel_code)
    skus = {item["sku"] for item in lines}
    products = {p.sku: p for p in Product.objects.for_tenant(scope.tenant).filter(sku__in=skus)}
    errors = {
        f"lines[{index}].sku": [f"Unknown SKU {item['sku']!r}."]
        for index, item in enumerate(lines)
        if item["sku"] not in products
    }
    pickup = None
    if delivery["method"] == PICKUP:
        code = delivery.get("pickup_location") or ""
        pickup = Location.objects.for_tenant(scope.tenant).filter(code=code).first()
        if pickup is None:
            errors["delivery.pickup_location"] = [f"No location with code {code!r}." if code else "Name the store."]
    if errors:
        raise ValidationFailed(errors=errors)
    return RoutingQuestion(
        channel=channel,
        fulfilment_type=delivery["method"],
        lines=tuple(
            Line(key=f"lines[{index}]", sku=item["sku"], product_id=products[item["sku"]].id, quantity=item["quantity"])
            for index, item in enumerate(lines)
        ),
        address=delivery.get("address"),
        pickup_location=pickup,
    )


def locations_excluded(*, tenant: Tenant, codes: list[str]) -> set:
    """The ids of the locations a re-route or a dry run leaves out; an unknown code is refused under its path."""
    found = dict(Location.objects.for_tenant(tenant).filter(code__in=codes).values_list("code", "id"))
    unknown = {
        f"exclude[{i}]": [f"No location with code {code!r}."] for i, code in enumerate(codes) if code not in found
    }
    if unknown:
        raise ValidationFailed(errors=unknown)
    return set(found.values())


def route(
    *, tenant: Tenant, question: RoutingQuestion, exclude_location_ids=frozenset(), held: dict | None = None
) -> RoutingAnswer:
    """The engine's plan for the question under the tenant's active policy, from stock as it stands now (`held`:
    the units the order already reserves, available to it again)."""
    snapshot = pool_snapshot(
        tenant=tenant, channel=question.channel, product_ids={line.product_id for line in question.lines}
    )
    return route_in(
        snapshot,
        policy=active_policy(tenant=tenant),
        today=today_for(tenant),
        question=question,
        exclude_location_ids=exclude_location_ids,
        held=held,
    )


def route_in(
    snapshot: PoolSnapshot,
    *,
    policy,
    today,
    question: RoutingQuestion,
    exclude_location_ids=frozenset(),
    held: dict | None = None,
) -> RoutingAnswer:
    """The engine's plan for the question from a pool already read (one order, or each order of a batch)."""
    pickup = question.pickup_location
    plan = plan_routing(
        lines=list(question.lines),
        candidates=snapshot.candidates({line.product_id for line in question.lines}, held=held),
        policy=policy.document,
        fulfilment_type=question.fulfilment_type,
        channel_code=question.channel.code,
        today=today,
        destination=destination_of(address=question.address, pickup_location=pickup),
        exclude_location_ids=frozenset(exclude_location_ids),
        pickup_location_id=pickup.id if pickup is not None else None,
        policy_version=policy.version,
    )
    if pickup is not None and plan.unfilled:
        plan = _through_transfers(
            snapshot,
            plan,
            policy=policy,
            today=today,
            question=question,
            exclude_location_ids=frozenset(exclude_location_ids),
            held=held,
        )
    locations = {location_id: snapshot.by_id[location_id] for location_id in plan.reasons}
    return RoutingAnswer(policy_version=policy.version, question=question, plan=plan, locations=locations)


def _through_transfers(snapshot: PoolSnapshot, plan: Plan, *, policy, today, question, exclude_location_ids, held):
    """A pickup store short of units gets them from locations that ship, routed like a shipment to the store by
    the same engine and policy; each chosen location then sends them by a stock transfer (plans.py creates it).
    Only a store short of stock is helped so: one left out for another reason keeps the plan as it is.
    The store keeps its own reason; the others say whether and why they send."""
    store = question.pickup_location
    own = plan.reasons.get(store.id)
    if own is None or own.code not in (CHOSEN, NO_STOCK):
        return plan  # the store is left out for another reason (closed today, not in the pilot): no transfer helps
    missing = dict(plan.unfilled)
    lines = [replace(line, quantity=missing[line.key]) for line in question.lines if missing.get(line.key)]
    sources = plan_routing(
        lines=lines,
        candidates=snapshot.candidates({line.product_id for line in lines}, held=held),
        policy=policy.document,
        fulfilment_type=SHIP,
        channel_code=question.channel.code,
        today=today,
        destination=destination_of(address=None, pickup_location=store),
        exclude_location_ids=exclude_location_ids | {store.id},
        pickup_location_id=None,
        policy_version=policy.version,
    )
    if not sources.allocations:
        return plan
    reasons = {}
    for location_id, reason in sources.reasons.items():
        if location_id == store.id:
            reasons[location_id] = plan.reasons.get(location_id, reason)
        elif location_id in sources.allocations:
            reasons[location_id] = Reason(True, TRANSFER_TO_STORE, f"sends to {store.code} by transfer: {reason.text}")
        else:
            reasons[location_id] = reason
    allocations = {**plan.allocations, **sources.allocations}
    return Plan(
        allocations=allocations,
        unfilled=sources.unfilled,
        reasons=reasons,
        shipments=len(allocations),
        policy_version=plan.policy_version,
        distances_km={**plan.distances_km, **sources.distances_km},
    )
