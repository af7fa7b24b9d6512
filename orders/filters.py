"""Filters of the order list, shared by the API and the pages."""

import django_filters

from oms.api.filters import AwareDateTimeFilter, IdFilter
from orders.models import Invoice, InvoiceKind, Order, OrderStatus


class OrderFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=OrderStatus.choices)
    channel = django_filters.CharFilter(field_name="channel__code")
    customer_email = django_filters.CharFilter(field_name="customer__email", lookup_expr="iexact")
    customer = IdFilter(field_name="customer_id")
    external_ref = django_filters.CharFilter()
    number = django_filters.CharFilter()
    created_after = AwareDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = AwareDateTimeFilter(field_name="created_at", lookup_expr="lt")
    updated_after = AwareDateTimeFilter(field_name="updated_at", lookup_expr="gte")
    updated_before = AwareDateTimeFilter(field_name="updated_at", lookup_expr="lt")

    class Meta:
        model = Order
        fields = []


class InvoiceFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=InvoiceKind.choices)
    order = IdFilter(field_name="order_id")
    issued_after = AwareDateTimeFilter(field_name="issued_at", lookup_expr="gte")
    issued_before = AwareDateTimeFilter(field_name="issued_at", lookup_expr="lt")

    class Meta:
        model = Invoice
        fields = []
