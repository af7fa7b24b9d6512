"""A customer's personal data through the API (GDPR): the export of everything OMS holds about them, and their
erasure by pseudonymisation. The tenant's admins only; what each covers is in orders.services.privacy."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from oms.api.scope import scope_of
from orders import services
from orders.services import privacy


class PrivacyCustomerOut(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.CharField(help_text="after erasure, a pseudonym at the reserved domain `invalid`")
    name = serializers.CharField()
    phone = serializers.CharField()
    created_at = serializers.DateTimeField(required=False)
    erased_at = serializers.DateTimeField(allow_null=True, help_text="null until the customer is erased")
    erased_by = serializers.CharField(help_text="who erased the customer; empty until then")


def _rows(help_text: str):
    return serializers.ListField(child=serializers.DictField(), help_text=help_text)


class CustomerExportOut(serializers.Serializer):
    """Everything OMS holds about one customer: dates and times in ISO 8601, amounts as strings."""

    format = serializers.CharField(help_text="`oms.customer-export.v1`")
    exported_at = serializers.DateTimeField()
    tenant = serializers.CharField(help_text="the merchant holding the data")
    customer = PrivacyCustomerOut()
    orders = _rows(
        "id, number, channel, external_ref, status, placed_at, created_at, updated_at, allocated_at, completed_at, "
        "currency, amounts (subtotal, discount_total, tax_total, shipping_total, shipping_tax, total), promotions, "
        "payment_status, hold, metadata, delivery {method, address, location, service_level}, promised_delivery, "
        "lines, timeline [{at, by, kind, message, before, after}], fulfillments"
    )
    invoices = _rows(
        "invoices and credit notes of their orders: number, kind, order_number, issued_at, amounts, seller and "
        "buyer as printed, lines"
    )
    feedback = _rows("satisfaction responses to their orders: order_number, score, comment, source, created_at")
    shipments = _rows("carrier, service, tracking numbers and link, parcels, status, dates, lines, tracking events")
    reservations = _rows("stock held for their order lines, and cart holds whose reference names them")
    events = _rows("events about their orders (webhook payloads): event_id, topic, created_at, payload, deliveries")
    audit = _rows("audit entries about them or their orders: at, actor, action, object, changes")
    admin_log = _rows("changes made to their record or orders in the administration: at, action, object, change")
    stored_answers = _rows("answers kept for Idempotency-Key replays that name them: method, path, status, body")


class CustomerErasureOut(PrivacyCustomerOut):
    """The customer as erasure left it: a pseudonym, no phone, when and by whom."""


class _CustomerPrivacyView(APIView):
    access = "customer_privacy"

    def check_permissions(self, request):
        # Another tenant's (or an unknown) customer is a 404 for every caller, before its role is weighed: the
        # answer then says nothing about which ids exist elsewhere (docs/roles.md).
        scope = scope_of(request)
        if scope is not None:
            privacy.customer_of(tenant=scope.tenant, customer_id=self.kwargs.get("pk"))
        super().check_permissions(request)


class CustomerExport(_CustomerPrivacyView):
    @extend_schema(
        summary="Export a customer's personal data",
        description="One JSON document with everything OMS holds about the customer, sent as a download "
        "(`Content-Disposition: attachment`). Tenant admins only; the export is audited (`customer.exported`).",
        responses=CustomerExportOut,
    )
    def get(self, request, pk: int):
        scope = scope_of(request)
        document = services.export_customer(tenant=scope.tenant, customer_id=pk, actor=scope.actor)
        response = Response(document)
        response["Content-Disposition"] = f'attachment; filename="{privacy.export_filename(pk)}"'
        return response


class CustomerErase(_CustomerPrivacyView):
    @extend_schema(
        summary="Erase a customer's personal data",
        description="Replaces the customer's name, e-mail, phone and addresses by a pseudonym on the customer, "
        "their orders and every copy OMS keeps; orders, amounts and stock stay; issued invoices keep the buyer "
        "identity the law requires. Idempotent: erasing an erased customer answers 200 with the same state. 409 "
        "`orders_in_progress` while an order of theirs is still to be delivered. Tenant admins only; audited "
        "(`customer.erased`).",
        request=None,
        responses=CustomerErasureOut,
    )
    def post(self, request, pk: int):
        scope = scope_of(request)
        customer = services.erase_customer(tenant=scope.tenant, customer_id=pk, actor=scope.actor)
        return Response(CustomerErasureOut(customer).data)
