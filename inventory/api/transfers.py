"""Transfers between locations: GET/POST /api/v1/inventory/transfers/ (list, create a draft),
GET .../{id}/, POST .../{id}/ship/, .../receive/, .../cancel/."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from inventory import transfers
from inventory.api.operations import StockOperationView, location_param, operation_query
from inventory.models import Transfer
from inventory.units import MAX_UNITS
from oms.actors import actor_from_request
from oms.api.common import query_parameters, read_query
from oms.api.fields import StrictInput, sku_field
from oms.api.idempotency import idempotent
from oms.api.scope import scope_of


class TransferLineIn(StrictInput, serializers.Serializer):
    sku = sku_field()
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_UNITS)


class TransferIn(StrictInput, serializers.Serializer):
    source = serializers.CharField(max_length=40)
    destination = serializers.CharField(max_length=40)
    note = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    lines = TransferLineIn(many=True, allow_empty=False, max_length=transfers.MAX_LINES)


class ReceivedLineIn(StrictInput, serializers.Serializer):
    sku = sku_field()
    received = serializers.IntegerField(min_value=0)


class ReceiveIn(StrictInput, serializers.Serializer):
    lines = ReceivedLineIn(
        many=True, required=False, help_text="Units received per SKU; SKUs not listed arrived in full."
    )


class TransferLineOut(serializers.Serializer):
    sku = serializers.CharField(source="product.sku")
    quantity = serializers.IntegerField()
    received_quantity = serializers.IntegerField(allow_null=True)


class TransferOut(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    status = serializers.CharField()
    source = serializers.CharField(source="source.code")
    destination = serializers.CharField(source="destination.code")
    note = serializers.CharField()
    created_at = serializers.DateTimeField()
    shipped_at = serializers.DateTimeField(allow_null=True)
    received_at = serializers.DateTimeField(allow_null=True)
    cancelled_at = serializers.DateTimeField(allow_null=True)
    lines = TransferLineOut(many=True)


class TransferView(StockOperationView):
    """Transfers: read by every member (a store clerk, those of their stores) and by integration keys; moved by
    back office and admins. A sales channel's key has no business with them: 403, read or write."""

    access = "transfers"

    def visible(self, request, pk) -> Transfer:
        """The transfer named in the URL, looked up before any body is read: 404 for another tenant's."""
        return transfers.transfer_detail(scope=scope_of(request), transfer_id=pk)


QUERY = operation_query(Transfer.Status.values)


class TransferListCreate(TransferView):
    @extend_schema(
        responses=TransferOut(many=True),
        parameters=query_parameters(QUERY),
    )
    def get(self, request):
        query = read_query(request, QUERY)
        queryset = transfers.transfer_list(
            scope=scope_of(request),
            status=query["status"],
            location=location_param(request),
        ).prefetch_related("lines__product")
        return self.paginated(request, queryset, TransferOut)

    @extend_schema(request=TransferIn, responses={201: TransferOut})
    @idempotent
    def post(self, request):
        data = TransferIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        transfer = transfers.create_transfer(
            tenant=request.tenant,
            actor=actor_from_request(request),
            source=values["source"],
            destination=values["destination"],
            note=values["note"],
            lines=[(line["sku"], line["quantity"]) for line in values["lines"]],
        )
        return Response(TransferOut(self.visible(request, transfer.id)).data, status=201)


class TransferDetail(TransferView):
    @extend_schema(responses=TransferOut)
    def get(self, request, pk: int):
        return Response(TransferOut(self.visible(request, pk)).data)


class TransferShip(TransferView):
    @extend_schema(request=None, responses=TransferOut)
    @idempotent
    def post(self, request, pk: int):
        self.visible(request, pk)
        transfers.ship_transfer(tenant=request.tenant, actor=actor_from_request(request), transfer_id=pk)
        return Response(TransferOut(self.visible(request, pk)).data)


class TransferReceive(TransferView):
    @extend_schema(request=ReceiveIn, responses=TransferOut)
    @idempotent
    def post(self, request, pk: int):
        self.visible(request, pk)
        data = ReceiveIn(data=request.data)
        data.is_valid(raise_exception=True)
        received = {line["sku"]: line["received"] for line in data.validated_data.get("lines", [])}
        transfers.receive_transfer(
            tenant=request.tenant, actor=actor_from_request(request), transfer_id=pk, received=received
        )
        return Response(TransferOut(self.visible(request, pk)).data)


class TransferCancel(TransferView):
    @extend_schema(request=None, responses=TransferOut)
    @idempotent
    def post(self, request, pk: int):
        self.visible(request, pk)
        transfers.cancel_transfer(tenant=request.tenant, actor=actor_from_request(request), transfer_id=pk)
        return Response(TransferOut(self.visible(request, pk)).data)
