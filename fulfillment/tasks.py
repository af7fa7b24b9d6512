"""Routing on the `routing` queue: thin, idempotent tasks that load fresh state and call the allocation service.

An order reaches them through the outbox (`order.placed`, `order.released`): the event's handler hands the order to
the routing queue after its transaction commits. If the broker is away at that moment, the sweep on beat hands over
every order still placed a minute later, so none is left unrouted."""

from datetime import timedelta

from celery import shared_task
from django.db import DatabaseError, transaction
from django.utils import timezone

from fulfillment.services import pickup
from fulfillment.services.allocation import allocate_waiting
from fulfillment.services.backorders import route_backorders
from inventory.models import Product
from oms import rls
from oms.models import Tenant
from orders.models import DeliveryMethod, Order, OrderLine, OrderStatus

RELIABLE = {"acks_late": True, "reject_on_worker_lost": True}
SWEEP_AFTER = timedelta(seconds=60)
SWEEP_BATCH = 500


@shared_task(name="fulfillment.allocate_order", bind=True, max_retries=8, **RELIABLE)
def allocate_order_task(self, tenant_id: int, order_id: int):
    """Allocate the order, and with it the tenant's other orders waiting for routing (one batch): their own tasks
    then find them allocated. Orders of the batch that lost a race for stock are handed over again shortly."""
    tenant = Tenant.objects.filter(id=tenant_id, active=True).first()
    if tenant is None:
        return None
    rls.bind(tenant.id)
    try:
        outcome = allocate_waiting(tenant=tenant, first=order_id)
    except DatabaseError as exc:
        raise self.retry(exc=exc, countdown=min(2**self.request.retries, 60)) from exc
    for lost in outcome.lost:
        if lost != order_id:
            allocate_order_task.apply_async((tenant_id, lost), countdown=1)
    if order_id in outcome.lost:
        raise self.retry(countdown=min(2**self.request.retries, 60))
    return len(outcome.decisions)


def route_after_order_event(event) -> None:
    """Outbox handler for `order.placed`, `order.released` and `order.updated` (a pickup store changed sends the
    order back to routing): the order goes to the routing queue once this event's transaction commits (robust: a
    broker that is away leaves the order to the sweep). The task does nothing for an order already allocated."""
    order_id = (event.payload or {}).get("order_id")
    if isinstance(order_id, int):
        tenant_id = event.tenant_id
        transaction.on_commit(lambda: allocate_order_task.delay(tenant_id, order_id), robust=True)


@shared_task(name="fulfillment.sweep_unrouted", **RELIABLE)
def sweep_unrouted() -> int:
    """Hand over the orders still placed a minute after their last change (a hand-over that never arrived)."""
    with rls.all_tenants("unrouted order sweep"):
        return _sweep_unrouted()


def _sweep_unrouted() -> int:
    stale = (
        Order.all_tenants.filter(
            status__in=(OrderStatus.PLACED, OrderStatus.BACKORDERED),
            allocated_at__isnull=True,
            updated_at__lt=timezone.now() - SWEEP_AFTER,
        )
        .exclude(delivery_method=DeliveryMethod.IN_STORE)
        .order_by("updated_at")
        .values_list("tenant_id", "id")[:SWEEP_BATCH]
    )
    count = 0
    for tenant_id, order_id in stale:
        allocate_order_task.delay(tenant_id, order_id)
        count += 1
    return count


def _skus_of(payload: dict) -> set[str] | None:
    """The SKUs an inventory event names (None when it names none: every backorder is then looked at)."""
    skus = set()
    if isinstance(payload.get("sku"), str):
        skus.add(payload["sku"])
    for sku in payload.get("skus") or []:
        if isinstance(sku, str):
            skus.add(sku)
    rows = payload.get("rows")
    if isinstance(rows, list):
        skus.update(row["sku"] for row in rows if isinstance(row, dict) and isinstance(row.get("sku"), str))
    return skus or None


def route_backorders_after_stock_event(event) -> int:
    """Outbox handler for `stock.adjusted` (receipts, returns, transfers in, counts, snapshots): backordered lines
    of those SKUs are routed to the new units, oldest order first. Running it twice places nothing more."""
    skus = _skus_of(event.payload or {})
    product_ids = None
    if skus is not None:
        product_ids = list(Product.objects.for_tenant(event.tenant).filter(sku__in=skus).values_list("id", flat=True))
        if not product_ids:
            return 0
    return route_backorders(tenant=event.tenant, product_ids=product_ids)


@shared_task(name="fulfillment.sweep_backorders", **RELIABLE)
def sweep_backorders() -> int:
    """On beat: route every tenant's backorders, in case a stock event was missed or stock freed up otherwise
    (a cancelled order, an expired cart hold)."""
    with rls.all_tenants("backorder sweep: the tenants with backorders"):
        tenant_ids = list(
            OrderLine.all_tenants.filter(quantity_backordered__gt=0)
            .exclude(order__status__in=(OrderStatus.CANCELLED, OrderStatus.COMPLETED, OrderStatus.ON_HOLD))
            .values_list("tenant_id", flat=True)
            .distinct()
        )
    placed = 0
    for tenant in Tenant.objects.filter(id__in=tenant_ids, active=True):
        with rls.tenant(tenant.id):
            placed += route_backorders(tenant=tenant)
    return placed


@shared_task(name="fulfillment.sweep_pickups", **RELIABLE)
def sweep_pickups() -> dict:
    """On beat (every 15 min): pickup orders a day from the end of their hold get their reminder (once), those past
    it are cancelled uncollected. Safe to run twice and in parallel: each one is done under its rows' locks, after
    checking it is still due."""
    with rls.all_tenants("pickup sweep: the pickup orders due"):
        to_remind, to_expire = pickup.pickups_due()
    tenants = {t.id: t for t in Tenant.objects.filter(id__in={t for t, _ in to_remind + to_expire}, active=True)}
    done = {"reminded": 0, "expired": 0}
    for key, work, step in (("reminded", to_remind, pickup.remind), ("expired", to_expire, pickup.expire)):
        for tenant_id, fulfillment_id in work:
            tenant = tenants.get(tenant_id)
            if tenant is None:
                continue
            with rls.tenant(tenant.id):
                done[key] += step(tenant=tenant, fulfillment_id=fulfillment_id)
    return done


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

    from fulfillment.models import RoutingSimulation
    from fulfillment.services import simulation

    if rls.bind_to_row(RoutingSimulation, simulation_id) is None:
        return None
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


@shared_task(name="fulfillment.sweep_simulations", **RELIABLE)
def sweep_simulations() -> int:
    """On beat: routing simulations whose task was lost are handed over again."""
    from fulfillment.services.simulation import resume_lost_simulations

    with rls.all_tenants("routing simulation sweep"):
        return resume_lost_simulations()
