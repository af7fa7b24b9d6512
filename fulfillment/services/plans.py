"""Applying a routing answer: the placements it makes, the decision recorded with its reasons and policy version,
and one fulfilment order per chosen location. Initial allocation, rejections, re-routes and backorders share them."""

from fulfillment.models import FulfillmentLine, FulfillmentOrder, RoutingDecision
from oms.models import Tenant
from oms.outbox import emit


def placements_of(answer) -> dict:
    """{order line id: [(location, units)]}: where the plan puts each line's units."""
    placements: dict = {}
    for location_id, served in answer.plan.allocations.items():
        for line_key, units in served:
            placements.setdefault(line_key, []).append((answer.locations[location_id], units))
    return placements


def record_decision(*, tenant: Tenant, order, answer, placements: dict, kind: str) -> RoutingDecision:
    plan = answer.plan
    return RoutingDecision.objects.create(
        tenant=tenant,
        order=order,
        kind=kind,
        policy_version=answer.policy_version,
        plan=_plan_record(placements),
        reasons=[
            {"location": answer.locations[location_id].code, "chosen": r.chosen, "code": r.code, "text": r.text}
            for location_id, r in plan.reasons.items()
        ],
        unfilled=[[key, units] for key, units in plan.unfilled],
    )


def _plan_record(placements: dict) -> dict:
    """{location code: [[order line id, units]]}: what the decision sent where, as stored."""
    record: dict = {}
    for line_id, places in placements.items():
        for location, units in places:
            record.setdefault(location.code, []).append([line_id, units])
    return record


def create_fulfillments(*, tenant: Tenant, order, decision, placements: dict, plan) -> list[FulfillmentOrder]:
    """One pending fulfilment order per location of the placements, with its lines; `fulfillment.created` each."""
    by_location: dict = {}
    for line_id, places in placements.items():
        for location, units in places:
            by_location.setdefault(location, []).append((line_id, units))
    created = []
    for location, served in sorted(by_location.items(), key=lambda item: item[0].id):
        reason = plan.reasons.get(location.id)
        fulfillment = FulfillmentOrder.objects.create(
            tenant=tenant, order=order, location=location, decision=decision, reason=reason.text if reason else ""
        )
        FulfillmentLine.objects.bulk_create(
            [
                FulfillmentLine(tenant=tenant, fulfillment=fulfillment, order_line_id=line_id, quantity=units)
                for line_id, units in served
            ]
        )
        emit(
            tenant,
            "fulfillment.created",
            {
                "fulfillment_id": fulfillment.id,
                "order_id": order.id,
                "number": order.number,
                "channel": order.channel.code,
                "location": location.code,
                "reason": decision.kind,
                "lines": [{"order_line": line_id, "quantity": units} for line_id, units in served],
            },
        )
        created.append(fulfillment)
    return created
