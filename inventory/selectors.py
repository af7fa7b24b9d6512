"""Read queries for the inventory endpoints and pages, scoped to a tenant and, where asked, to locations."""

from django.db.models import Prefetch

from inventory.models import Location, LocationKind, Lot, Product, Reservation, ReservationLot, StockLevel
from oms.api.scope import Scope, rows
from oms.errors import NotFound
from oms.models import Tenant


def product_list(*, tenant):
    return Product.objects.for_tenant(tenant)


def location_list(*, tenant: Tenant, location_ids: set | None = None):
    """All of a tenant's locations, or only those in `location_ids` (a store clerk's stores)."""
    queryset = Location.objects.for_tenant(tenant)
    return queryset.filter(id__in=location_ids) if location_ids is not None else queryset


def stores_for(*, scope: Scope) -> list:
    """The stores whose screens the caller may open: a clerk's assigned stores, every active store otherwise."""
    stores = Location.objects.for_tenant(scope.tenant).filter(kind=LocationKind.STORE, active=True)
    return list(scope.narrow_to_stores(stores, "pk").order_by("code"))


def store_for(*, scope: Scope, code: str):
    """One of the caller's stores by code; any other code (another store, another tenant's) is NotFound."""
    for store in stores_for(scope=scope):
        if store.code == code:
            return store
    raise NotFound("No such store.")


def stock_level_list(*, tenant: Tenant, location_ids: set | None = None):
    """Stock rows with their product, location and (for lot-tracked products) lots, in three queries a page."""
    queryset = (
        StockLevel.objects.for_tenant(tenant)
        .select_related("product", "location")
        .prefetch_related(Prefetch("lots", queryset=Lot.objects.for_tenant(tenant).order_by("expires_on", "id")))
    )
    return queryset.filter(location_id__in=location_ids) if location_ids is not None else queryset


def reservation_list(*, scope: Scope | None):
    """The reservations a caller may see: the tenant's, at a clerk's stores only, of a channel key's channel only;
    none without a scope."""
    if scope is None:
        return Reservation.objects.none()
    tenant = scope.tenant
    queryset = (
        rows(Reservation, scope)
        .select_related("stock_level__product", "stock_level__location", "channel")
        .prefetch_related(
            Prefetch(
                "lot_allocations",
                queryset=ReservationLot.objects.for_tenant(tenant)
                .select_related("lot")
                .order_by("lot__expires_on", "lot_id"),
            )
        )
    )
    return scope.narrow_to_channel(scope.narrow_to_stores(queryset, "stock_level__location_id"))
