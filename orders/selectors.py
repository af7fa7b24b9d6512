"""Read queries for orders, customers and invoices, with everything a page or an answer shows in few queries."""

from django.db.models import Exists, OuterRef, Prefetch, Q

from inventory.models import Reservation
from oms.api.scope import Scope, rows
from oms.errors import NotFound
from orders.models import Customer, Feedback, Invoice, Order, OrderEvent, OrderLine


def orders_for(*, scope: Scope | None):
    """The orders a caller may see: the tenant's, narrowed to its channel for a channel-bound API key."""
    return scope.narrow_to_channel(rows(Order, scope)) if scope is not None else Order.objects.none()


def order_list(*, scope: Scope | None, search: str = ""):
    queryset = (
        orders_for(scope=scope)
        .select_related("channel", "customer", "pickup_location")
        .prefetch_related(Prefetch("lines", queryset=OrderLine.all_tenants.order_by("line_number")))
    )
    search = search.strip()
    if search:
        queryset = queryset.filter(
            Q(number__icontains=search)
            | Q(external_ref__icontains=search)
            | Q(customer__email__icontains=search)
            | Q(customer__name__icontains=search)
        )
    return queryset.order_by("-id")


# What the apps above orders add to an order's detail (fulfilment: its fulfilment orders, shipments and routing
# decisions), registered from their AppConfig.ready(): orders may not import them.
_DETAIL_PARTS: list = []


def register_detail_part(attach) -> None:
    """`attach(order)` sets attributes on a fetched order that its detail (API and page) shows."""
    if attach not in _DETAIL_PARTS:
        _DETAIL_PARTS.append(attach)


def hydrate(order: Order) -> Order:
    """Attach lines (with their reservations), timeline, invoices and shipments to a fetched order."""
    reservations = (
        Reservation.all_tenants.filter(tenant_id=order.tenant_id).select_related("stock_level__location").order_by("id")
    )
    lines = list(
        OrderLine.all_tenants.filter(order=order)
        .order_by("line_number")
        .prefetch_related(Prefetch("reservations", queryset=reservations))
    )
    for line in lines:
        line.allocation_list = list(line.reservations.all())
    order.lines_list = lines
    order.timeline_list = list(OrderEvent.all_tenants.filter(order=order).order_by("at", "id"))
    order.invoice_list = list(Invoice.all_tenants.filter(order=order).order_by("sequence"))
    order.feedback_response = Feedback.all_tenants.filter(tenant_id=order.tenant_id, order=order).first()
    for attach in _DETAIL_PARTS:
        attach(order)
    return order


def require_order(*, scope: Scope | None, order_id) -> None:
    """NotFound unless the caller may see this order: the lookup an action makes before it reads its body."""
    try:
        found = orders_for(scope=scope).filter(id=order_id).exists()
    except (ValueError, TypeError):
        found = False
    if not found:
        raise NotFound("No such order.")


def order_detail(*, scope: Scope | None, order_id) -> Order:
    try:
        order = orders_for(scope=scope).select_related("channel", "customer", "pickup_location").get(id=order_id)
    except (Order.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such order.") from None
    return hydrate(order)


def order_feedback(*, scope: Scope | None, order_id) -> Feedback:
    """The order's satisfaction response, as the caller may see the order: NotFound for none, and for an order it
    may not see."""
    require_order(scope=scope, order_id=order_id)
    found = rows(Feedback, scope).select_related("order").filter(order_id=order_id).first()
    if found is None:
        raise NotFound("No satisfaction response for this order yet.")
    return found


def customers_for(*, scope: Scope | None):
    """The customers a caller may see: the tenant's, or for a channel-bound API key only those who ordered on
    its channel (a shop does not learn who buys in the stores or on a marketplace)."""
    queryset = rows(Customer, scope)
    if scope is not None and scope.channel is not None:
        queryset = queryset.filter(Exists(orders_for(scope=scope).filter(customer=OuterRef("pk"))))
    return queryset


def customer_list(*, scope: Scope | None, search: str = ""):
    queryset = customers_for(scope=scope)
    if search.strip():
        queryset = queryset.filter(Q(email__icontains=search.strip()) | Q(name__icontains=search.strip()))
    return queryset.order_by("-id")


def customer_detail(*, scope: Scope | None, customer_id) -> Customer:
    try:
        return customers_for(scope=scope).get(id=customer_id)
    except (Customer.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such customer.") from None


def customer_orders(*, scope: Scope | None, customer):
    return order_list(scope=scope).filter(customer=customer)


def invoices_for(*, scope: Scope | None):
    queryset = rows(Invoice, scope).select_related("order__channel", "credited_invoice")
    if scope is not None:
        queryset = scope.narrow_to_channel(queryset, "order__channel")
    return queryset.order_by("-sequence")
