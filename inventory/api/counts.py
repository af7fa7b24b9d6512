"""Cycle counts: GET/POST /api/v1/inventory/counts/ (list, post a finished count: variances adjusted at once),
GET .../{id}/."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from inventory import counts
from inventory.api.operations import StockOperationView, location_param, operation_query
from inventory.models import CycleCount
from inventory.units import MAX_UNITS
from oms.actors import actor_from_request
from oms.api.common import query_parameters, read_query
from oms.api.fields import AwareDateTimeField, StrictInput, sku_field
from oms.api.idempotency import idempotent
from oms.api.scope import scope_of
from oms.errors import PermissionDenied


class CountLineIn(StrictInput, serializers.Serializer):
    sku = sku_field()
    counted = serializers.IntegerField(min_value=0, max_value=MAX_UNITS)
    lot = serializers.CharField(
        max_length=64,
        required=False,
        default="",
        allow_blank=True,
        help_text="Lot-tracked products: the lot counted. Without it the line counts the "
        "SKU as a whole: a shortfall is taken earliest expiry first and a "
        "surplus is refused (units found must name their lot).",
    )
    expires_on = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The lot's expiry date; required for a lot the location does not "
        "hold yet, checked against the known date otherwise.",
    )


class CountIn(StrictInput, serializers.Serializer):
    location = serializers.CharField(max_length=40)
    counted_at = AwareDateTimeField(required=False, help_text="When the shelf was counted (default: now).")
    note = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    lines = CountLineIn(many=True, allow_empty=False, max_length=counts.MAX_LINES)

    def validate_lines(self, lines):
        keys = [(line["sku"], line["lot"].strip()) for line in lines]
        if len(set(keys)) != len(keys):
            raise serializers.ValidationError("Each SKU (or lot of a SKU) appears once.")
        return lines


class CountLineOut(serializers.Serializer):
    sku = serializers.CharField(source="product.sku")
    lot = serializers.SerializerMethodField(help_text="the lot counted; null when the line counts the SKU as a whole")
    expires_on = serializers.DateField(allow_null=True)
    counted = serializers.IntegerField(allow_null=True)
    counted_at = serializers.DateTimeField(allow_null=True)
    expected = serializers.IntegerField(allow_null=True)
    variance = serializers.IntegerField(allow_null=True)

    def get_lot(self, line) -> str | None:
        return line.lot_code or None


class CountOut(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    status = serializers.CharField()
    location = serializers.CharField(source="location.code")
    note = serializers.CharField()
    created_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)
    lines = CountLineOut(many=True)


QUERY = operation_query(CycleCount.Status.values)


class CountListCreate(StockOperationView):
    access = "counts"

    @extend_schema(
        responses=CountOut(many=True),
        parameters=query_parameters(QUERY),
    )
    def get(self, request):
        query = read_query(request, QUERY)
        location = location_param(request)
        queryset = counts.count_list(
            tenant=request.tenant,
            locations=scope_of(request).assigned_stores,
            status=query["status"],
        )
        if location is not None:
            queryset = queryset.filter(location=location)
        return self.paginated(request, queryset.prefetch_related("lines__product"), CountOut)

    @extend_schema(
        request=CountIn,
        responses={201: CountOut},
        description="Post a finished count: expected figures are taken from the ledger at `counted_at`, "
        "variances are posted as `count` movements. Lot-tracked products are counted as a "
        "whole (no `lot`) or lot by lot, not both: a lot line posts its variance to that lot "
        "(created with `expires_on` when new). A surplus on a line without a lot is refused "
        "(400 naming `lines[i].lot`); any refused line refuses the whole count.",
    )
    @idempotent
    def post(self, request):
        data = CountIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        allowed = scope_of(request).assigned_stores
        if allowed is not None and values["location"] not in {loc.code for loc in allowed}:
            raise PermissionDenied("Store clerks count their own stores only.")
        count = counts.count_and_post(
            tenant=request.tenant,
            actor=actor_from_request(request),
            location=values["location"],
            note=values["note"],
            counted=[
                counts.Counted(sku=line["sku"], counted=line["counted"], lot=line["lot"], expires_on=line["expires_on"])
                for line in values["lines"]
            ],
            counted_at=values.get("counted_at"),
        )
        count = counts.count_detail(tenant=request.tenant, count_id=count.id)
        return Response(CountOut(count).data, status=201)


class CountDetail(StockOperationView):
    access = "counts"

    @extend_schema(responses=CountOut)
    def get(self, request, pk: int):
        count = counts.count_detail(tenant=request.tenant, count_id=pk, locations=scope_of(request).assigned_stores)
        return Response(CountOut(count).data)
