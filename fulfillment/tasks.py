"""Routing on the `routing` queue: thin, idempotent tasks that load fresh state and call the allocation service.

An order reaches them through the outbox (`order.placed`, `order.released`): the event's handler hands the order to
the routing queue after its transaction commits. If the broker is away at that moment, the sweep on beat hands over
every order still placed a minute later, so none is left unrouted."""

from datetime import timedelta

from celery import shared_task
from django.db import DatabaseError, transaction
from django.utils import timezone

from fulfillment.services.allocation import allocate_order
from oms.errors import InsufficientStock
from oms.models import Tenant
from orders.models import DeliveryMethod, Order, OrderStatus

RELIABLE = {"acks_late": True, "reject_on_worker_lost": True}
SWEEP_AFTER = timedelta(seconds=60)
SWEEP_BATCH = 500


@shared_task(name="fulfillment.allocate_order", bind=True, max_retries=8, **RELIABLE)
def allocate_order_task(self, tenant_id: int, order_id: int):
    tenant = Tenant.objects.filter(id=tenant_id, active=True).first()
    if tenant is None:
        return None
    try:
        decision = allocate_order(tenant=tenant, order_id=order_id)
    except (DatabaseError, InsufficientStock) as exc:
        # A lost race for the last units at the chosen location, or the database away: plan again later.
        raise self.retry(exc=exc, countdown=min(2**self.request.retries, 60)) from exc
    return decision.id if decision is not None else None


def route_after_order_event(event) -> None:
    """Outbox handler for `order.placed` and `order.released`: the order goes to the routing queue once this
    event's transaction commits (robust: a broker that is away leaves the order to the sweep)."""
    order_id = (event.payload or {}).get("order_id")
    if isinstance(order_id, int):
        tenant_id = event.tenant_id
        transaction.on_commit(lambda: allocate_order_task.delay(tenant_id, order_id), robust=True)


@shared_task(name="fulfillment.sweep_unrouted", **RELIABLE)
def sweep_unrouted() -> int:
    """Hand over the orders still placed a minute after their last change (a hand-over that never arrived)."""
    stale = (
        Order.all_tenants.filter(status=OrderStatus.PLACED, updated_at__lt=timezone.now() - SWEEP_AFTER)
        .exclude(delivery_method=DeliveryMethod.IN_STORE)
        .order_by("updated_at")
        .values_list("tenant_id", "id")[:SWEEP_BATCH]
    )
    count = 0
    for tenant_id, order_id in stale:
        allocate_order_task.delay(tenant_id, order_id)
        count += 1
    return count


# --- policy simulation ---------------------------------------------------------------------------------------
# Started from the routing page or POST /api/v1/routing/simulations/ (fulfillment.services.simulation hands it over
# by this name). Safe to run twice: a finished simulation is not run again, and one another worker holds is left
# to it. Whatever stops it for good marks it failed with the reason, so that none stays "running" for ever.

SIMULATION_TIME_LIMIT = 30 * 60


@shared_task(
    name="fulfillment.run_simulation",
    bind=True,
    max_retries=5,
    soft_time_limit=SIMULATION_TIME_LIMIT,
    time_limit=SIMULATION_TIME_LIMIT + 60,
    **RELIABLE,
)
def run_simulation_task(self, simulation_id: int):
    # Imported here so that this block stands alone at the end of the module.
    import logging

    from celery.exceptions import SoftTimeLimitExceeded

    from fulfillment.services import simulation

    try:
        outcome = simulation.run_simulation(simulation_id)
    except SoftTimeLimitExceeded:
        minutes = SIMULATION_TIME_LIMIT // 60
        simulation.fail_simulation(
            simulation_id=simulation_id,
            error=f"The replay took longer than {minutes} minutes and was stopped; try a shorter period.",
        )
        return None
    except DatabaseError as exc:
        if self.request.retries < self.max_retries and not self.request.is_eager:
            raise self.retry(exc=exc, countdown=min(2**self.request.retries * 5, 300)) from exc
        simulation.fail_simulation(simulation_id=simulation_id, error=f"The database could not be read: {exc}")
        raise
    except Exception as exc:
        logging.getLogger("oms.fulfillment").exception(
            "routing simulation failed", extra={"simulation_id": simulation_id}
        )
        simulation.fail_simulation(
            simulation_id=simulation_id, error=f"The replay stopped: {type(exc).__name__}: {exc}"
        )
        raise
    if outcome == simulation.BUSY and self.request.retries < self.max_retries and not self.request.is_eager:
        # Another worker holds it: look again once it would have given a sign of life (it may have died).
        raise self.retry(countdown=int(simulation.STALE_AFTER.total_seconds()) + 5)
    return outcome
