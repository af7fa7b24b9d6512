"""Stock sync for ERP/WMS: POST /api/v1/inventory/adjustments/ (bulk deltas) and /inventory/snapshots/ (bulk
absolute counts as of a time); per-row results, Idempotency-Key."""

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from inventory import sync
from inventory.api.operations import StockOperationView
from oms.actors import actor_from_request
from oms.api.fields import AwareDateTimeField, StrictInput, sku_field
from oms.api.idempotency import idempotent


class AdjustmentRowIn(StrictInput, serializers.Serializer):
    """Documents one row; rows are checked one by one by the service so that a bad row only rejects itself."""

    sku = sku_field()
    location = serializers.CharField()
    delta = serializers.IntegerField(help_text="Signed change of on-hand units; not 0.")
    reason = serializers.CharField(required=False)
    kind = serializers.ChoiceField(choices=["adjustment", "receipt"], required=False, default="adjustment")


class SnapshotRowIn(StrictInput, serializers.Serializer):
    sku = sku_field()
    location = serializers.CharField()
    quantity = serializers.IntegerField(min_value=0, help_text="Units counted at `as_of`.")


class AdjustmentsIn(StrictInput, serializers.Serializer):
    rows = serializers.ListField(
        allow_empty=False,
        max_length=sync.MAX_ROWS,
        help_text=f"At most {sync.MAX_ROWS} rows of {{sku, location, delta, reason}}.",
    )


class SnapshotIn(StrictInput, serializers.Serializer):
    as_of = AwareDateTimeField(required=False, help_text="When the counts were taken (default: now).")
    rows = serializers.ListField(
        allow_empty=False,
        max_length=sync.MAX_ROWS,
        help_text=f"At most {sync.MAX_ROWS} rows of {{sku, location, quantity}}.",
    )

    def validate_as_of(self, value):
        if value > timezone.now() + timedelta(minutes=5):
            raise serializers.ValidationError("A count cannot be dated in the future.")
        return value


class RejectedRowOut(serializers.Serializer):
    index = serializers.IntegerField()
    sku = serializers.CharField()
    location = serializers.CharField()
    reason = serializers.CharField()


class RowResultOut(serializers.Serializer):
    index = serializers.IntegerField()
    sku = serializers.CharField()
    location = serializers.CharField()
    status = serializers.ChoiceField(choices=["applied", "unchanged", "rejected"])
    change = serializers.IntegerField(required=False, help_text="Units added (or removed) by the row.")
    reason = serializers.CharField(required=False)


class SyncResultOut(serializers.Serializer):
    batch = serializers.CharField(help_text="Reference written on the batch's movements.")
    accepted = serializers.IntegerField()
    rejected = RejectedRowOut(many=True)
    results = RowResultOut(many=True)


class StockAdjustments(StockOperationView):
    access = "stock_changes"

    @extend_schema(
        request=AdjustmentsIn,
        responses=SyncResultOut,
        description="Apply stock deltas. 200 with per-row results even when some rows are rejected.",
    )
    @idempotent
    def post(self, request):
        data = AdjustmentsIn(data=request.data)
        data.is_valid(raise_exception=True)
        result = sync.apply_adjustments(
            tenant=request.tenant, rows=data.validated_data["rows"], actor=actor_from_request(request)
        )
        return Response(result.as_dict())


class StockSnapshots(StockOperationView):
    access = "stock_changes"

    @extend_schema(
        request=SnapshotIn,
        responses=SyncResultOut,
        description="Apply absolute counts taken at `as_of`: new on-hand = counted + movements recorded "
        "after `as_of` (the difference is posted as a `count` movement). A row that would "
        "leave less on hand than is reserved is rejected, never clamped; a row older than a "
        "count already applied to that stock row is rejected as stale. 200 with per-row "
        "results even when some rows are rejected; 400 only for a malformed body.",
    )
    @idempotent
    def post(self, request):
        data = SnapshotIn(data=request.data)
        data.is_valid(raise_exception=True)
        result = sync.apply_snapshot(
            tenant=request.tenant,
            rows=data.validated_data["rows"],
            as_of=data.validated_data.get("as_of") or timezone.now(),
            actor=actor_from_request(request),
        )
        return Response(result.as_dict())
