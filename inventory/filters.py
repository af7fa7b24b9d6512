"""django-filter FilterSets for the inventory lists. A malformed filter value is a 400 naming the filter."""

import django_filters
from django.db.models import Q

from inventory.models import Location, LocationKind, Product, Reservation, StockLevel
from oms.api.filters import AwareDateTimeFilter, CodeListFilter, StrictBooleanFilter


class ProductFilter(django_filters.FilterSet):
    sku = CodeListFilter(field_name="sku")
    barcode = django_filters.CharFilter(field_name="barcode")
    active = StrictBooleanFilter(field_name="active")
    tracks_lots = StrictBooleanFilter(field_name="tracks_lots")
    updated_after = AwareDateTimeFilter(field_name="updated_at", lookup_expr="gt")
    q = django_filters.CharFilter(method="search", label="search in SKU, name and barcode")

    class Meta:
        model = Product
        fields = []

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(sku__icontains=value) | Q(name__icontains=value) | Q(barcode=value))


class LocationFilter(django_filters.FilterSet):
    code = CodeListFilter(field_name="code")
    kind = django_filters.ChoiceFilter(field_name="kind", choices=LocationKind.choices)
    active = StrictBooleanFilter(field_name="active")
    ships = StrictBooleanFilter(field_name="ships")
    pickup = StrictBooleanFilter(field_name="pickup")
    accepts_returns = StrictBooleanFilter(field_name="accepts_returns")
    updated_after = AwareDateTimeFilter(field_name="updated_at", lookup_expr="gt")

    class Meta:
        model = Location
        fields = []


class StockLevelFilter(django_filters.FilterSet):
    sku = CodeListFilter(field_name="product__sku")
    location = CodeListFilter(field_name="location__code")
    updated_after = AwareDateTimeFilter(field_name="updated_at", lookup_expr="gt")

    class Meta:
        model = StockLevel
        fields = []


class ReservationFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(field_name="status", choices=Reservation.Status.choices)
    sku = CodeListFilter(field_name="stock_level__product__sku")
    location = CodeListFilter(field_name="stock_level__location__code")
    channel = CodeListFilter(field_name="channel__code")
    reference = django_filters.CharFilter(field_name="reference")

    class Meta:
        model = Reservation
        fields = []
