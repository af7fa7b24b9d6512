"""Applying a routing answer: the placements it makes, the decision recorded with its reasons and policy version,
and one fulfilment order per chosen location. Initial allocation, rejections, re-routes and backorders share them.

A pickup order's units placed elsewhere than its pickup store travel to the store by a stock transfer: the store
gets a fulfilment order `awaiting_transfer` per sending location, linked to the transfer created for it
(fulfillment.services.store_transfers)."""

from fulfillment.models import FulfillmentLine, FulfillmentOrder, FulfillmentStatus, RoutingDecision
from fulfillment.services.store_transfers import request_transfer
from oms.db import insert_rows
from oms.models import Tenant
from oms.outbox import emit_many


def placements_of(answer) -> dict:
    """{order line id: [(location, units)]}: where the plan puts each line's units."""
    placements: dict = {}
    for location_id, served in answer.plan.allocations.items():
        for line_key, units in served:
            placements.setdefault(line_key, []).append((answer.locations[location_id], units))
    return placements


def record_decision(*, tenant: Tenant, order, answer, placements: dict, kind: str) -> RoutingDecision:
    return record_decisions(tenant=tenant, decided=[(order, answer, placements, kind)])[0]


def record_decisions(*, tenant: Tenant, decided: list) -> list[RoutingDecision]:
    """[(order, answer, placements, kind)]: the decisions, with the plan, every location's reason and the policy
    version, written in one statement."""
    decisions = [
        RoutingDecision(
            tenant=tenant,
            order=order,
            kind=kind,
            policy_version=answer.policy_version,
            plan=_plan_record(placements),
            reasons=[
                {"location": answer.locations[location_id].code, "chosen": r.chosen, "code": r.code, "text": r.text}
                for location_id, r in answer.plan.reasons.items()
            ],
            unfilled=[[key, units] for key, units in answer.plan.unfilled],
        )
        for order, answer, placements, kind in decided
    ]
    insert_rows(decisions)
    return decisions


def _plan_record(placements: dict) -> dict:
    """{location code: [[order line id, units]]}: what the decision sent where, as stored."""
    record: dict = {}
    for line_id, places in placements.items():
        for location, units in places:
            record.setdefault(location.code, []).append([line_id, units])
    return record


def create_fulfillments(*, tenant: Tenant, order, decision, placements: dict, plan) -> list[FulfillmentOrder]:
    """One pending fulfilment order per location of the placements, with its lines; `fulfillment.created` each."""
    return create_fulfillments_for(tenant=tenant, planned=[(order, decision, placements, plan)])


def create_fulfillments_for(*, tenant: Tenant, planned: list) -> list[FulfillmentOrder]:
    """create_fulfillments for several orders [(order, decision, placements, plan)]: three statements for all."""
    created, served_by = [], []
    for order, decision, placements, plan in planned:
        by_location: dict = {}
        for line_id, places in placements.items():
            for location, units in places:
                by_location.setdefault(location, []).append((line_id, units))
        store = order.pickup_location if order.delivery_method == "pickup" else None
        for location, served in sorted(by_location.items(), key=lambda item: item[0].id):
            reason = plan.reasons.get(location.id)
            fulfillment = FulfillmentOrder(
                tenant=tenant, order=order, location=location, decision=decision, reason=reason.text if reason else ""
            )
            if store is not None and location.id != store.id:
                fulfillment.location = store
                fulfillment.status = FulfillmentStatus.AWAITING_TRANSFER
                fulfillment.transfer = request_transfer(
                    tenant=tenant, order=order, source=location, store=store, served=served
                )
            created.append(fulfillment)
            served_by.append(served)
    insert_rows(created)
    insert_rows(
        [
            FulfillmentLine(tenant=tenant, fulfillment=fulfillment, order_line_id=line_id, quantity=units)
            for fulfillment, served in zip(created, served_by, strict=True)
            for line_id, units in served
        ]
    )
    emit_many(
        tenant,
        [
            (
                "fulfillment.created",
                {
                    "fulfillment_id": fulfillment.id,
                    "order_id": fulfillment.order.id,
                    "number": fulfillment.order.number,
                    "channel": fulfillment.order.channel.code,
                    "location": fulfillment.location.code,
                    "reason": fulfillment.decision.kind,
                    "status": fulfillment.status,
                    "transfer": fulfillment.transfer.number if fulfillment.transfer else None,
                    "lines": [{"order_line": line_id, "quantity": units} for line_id, units in served],
                },
            )
            for fulfillment, served in zip(created, served_by, strict=True)
        ],
    )
    return created
