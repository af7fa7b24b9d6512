"""Read queries for the inventory endpoints and pages, scoped to a tenant and, where asked, to locations."""

from django.db.models import Prefetch

from inventory.models import Location, Lot, Product, Reservation, ReservationLot, StockLevel


def product_list(*, tenant):
    return Product.objects.for_tenant(tenant)


def location_list(*, tenant, location_ids: set | None = None):
    """All of a tenant's locations, or only those in `location_ids` (a store clerk's stores)."""
    queryset = Location.objects.for_tenant(tenant)
    return queryset.filter(id__in=location_ids) if location_ids is not None else queryset


def stock_level_list(*, tenant, location_ids: set | None = None):
    """Stock rows with their product, location and (for lot-tracked products) lots, in three queries a page."""
    queryset = (
        StockLevel.objects.for_tenant(tenant)
        .select_related("product", "location")
        .prefetch_related(Prefetch("lots", queryset=Lot.objects.for_tenant(tenant).order_by("expires_on", "id")))
    )
    return queryset.filter(location_id__in=location_ids) if location_ids is not None else queryset


def reservation_list(*, tenant, location_ids: set | None = None, channel=None):
    queryset = (
        Reservation.objects.for_tenant(tenant)
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
    if location_ids is not None:
        queryset = queryset.filter(stock_level__location_id__in=location_ids)
    if channel is not None:
        queryset = queryset.filter(channel=channel)
    return queryset
