"""Stock operations API: ERP/WMS sync (adjustments, snapshots), transfers, cycle counts, low-stock alert rules.

POST /api/v1/inventory/adjustments/             bulk deltas, per-row results, Idempotency-Key
POST /api/v1/inventory/snapshots/               bulk absolute counts as of a time, per-row results, Idempotency-Key
GET/POST /api/v1/inventory/transfers/           list, create (draft)
GET /api/v1/inventory/transfers/{id}/           read; POST .../ship/, .../receive/, .../cancel/
GET/POST /api/v1/inventory/counts/              list, post a finished count (variances adjusted at once)
GET /api/v1/inventory/counts/{id}/
GET/POST /api/v1/inventory/alert-rules/         low-stock thresholds per SKU and location or channel
GET/DELETE /api/v1/inventory/alert-rules/{id}/
"""
from datetime import timedelta

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory import alerts, counts, sync, transfers
from inventory.api.common import forbid_channel_key
from inventory.models import CycleCount, Location, Transfer
from oms.actors import actor_from_request
from oms.api.fields import AwareDateTimeField
from oms.api.idempotency import idempotent
from oms.api.pagination import StableCursorPagination
from oms.errors import NotFound, PermissionDenied
from oms.models import Role
from oms.permissions import OPERATIONS_ROLES, STAFF_ROLES


class OpsView(APIView):
    """Stock operations change stock: a sales channel's key may read them, never post them."""

    pagination_class = StableCursorPagination

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            forbid_channel_key(request, "change stock")

    def paginated(self, request, queryset, serializer_class):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(serializer_class(page, many=True).data)


# --- sync -----------------------------------------------------------------------------------------------------

class AdjustmentRowIn(serializers.Serializer):
    """Documents one row; rows are checked one by one by the service so that a bad row only rejects itself."""

    sku = serializers.CharField()
    location = serializers.CharField()
    delta = serializers.IntegerField(help_text="Signed change of on-hand units; not 0.")
    reason = serializers.CharField(required=False)
    kind = serializers.ChoiceField(choices=["adjustment", "receipt"], required=False, default="adjustment")


class SnapshotRowIn(serializers.Serializer):
    sku = serializers.CharField()
    location = serializers.CharField()
    quantity = serializers.IntegerField(min_value=0, help_text="Units counted at `as_of`.")


class AdjustmentsIn(serializers.Serializer):
    rows = serializers.ListField(allow_empty=False, max_length=sync.MAX_ROWS,
                                 help_text=f"At most {sync.MAX_ROWS} rows of {{sku, location, delta, reason}}.")


class SnapshotIn(serializers.Serializer):
    as_of = AwareDateTimeField(required=False, help_text="When the counts were taken (default: now).")
    rows = serializers.ListField(allow_empty=False, max_length=sync.MAX_ROWS,
                                 help_text=f"At most {sync.MAX_ROWS} rows of {{sku, location, quantity}}.")

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


class StockAdjustments(OpsView):
    write_roles = STAFF_ROLES

    @extend_schema(request=AdjustmentsIn, responses=SyncResultOut,
                   description="Apply stock deltas. 200 with per-row results even when some rows are rejected.")
    @idempotent
    def post(self, request):
        data = AdjustmentsIn(data=request.data)
        data.is_valid(raise_exception=True)
        result = sync.apply_adjustments(tenant=request.tenant, rows=data.validated_data["rows"],
                                        actor=actor_from_request(request))
        return Response(result.as_dict())


class StockSnapshots(OpsView):
    write_roles = STAFF_ROLES

    @extend_schema(request=SnapshotIn, responses=SyncResultOut,
                   description="Apply absolute counts taken at `as_of`: new on-hand = counted + movements recorded "
                               "after `as_of` (the difference is posted as a `count` movement). A row that would "
                               "leave less on hand than is reserved is rejected, never clamped; a row older than a "
                               "count already applied to that stock row is rejected as stale. 200 with per-row "
                               "results even when some rows are rejected; 400 only for a malformed body.")
    @idempotent
    def post(self, request):
        data = SnapshotIn(data=request.data)
        data.is_valid(raise_exception=True)
        result = sync.apply_snapshot(tenant=request.tenant, rows=data.validated_data["rows"],
                                     as_of=data.validated_data.get("as_of") or timezone.now(),
                                     actor=actor_from_request(request))
        return Response(result.as_dict())


# --- transfers ------------------------------------------------------------------------------------------------

class TransferLineIn(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000_000)


class TransferIn(serializers.Serializer):
    source = serializers.CharField(max_length=40)
    destination = serializers.CharField(max_length=40)
    note = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    lines = TransferLineIn(many=True, allow_empty=False, max_length=transfers.MAX_LINES)


class ReceivedLineIn(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    received = serializers.IntegerField(min_value=0)


class ReceiveIn(serializers.Serializer):
    lines = ReceivedLineIn(many=True, required=False,
                           help_text="Units received per SKU; SKUs not listed arrived in full.")


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


def _location_param(request, name="location"):
    code = request.query_params.get(name, "").replace("\x00", "\ufffd").strip()
    if not code:
        return None
    location = Location.objects.for_tenant(request.tenant).filter(code=code).first()
    if location is None:
        raise NotFound(f"Unknown location {code}.")
    return location


class TransferListCreate(OpsView):
    write_roles = STAFF_ROLES

    @extend_schema(responses=TransferOut(many=True), parameters=[
        OpenApiParameter("status", enum=Transfer.Status.values), OpenApiParameter("location", str)])
    def get(self, request):
        queryset = transfers.transfer_list(tenant=request.tenant,
                                           status=request.query_params.get("status", "").replace("\x00", "\ufffd"),
                                           location=_location_param(request)).prefetch_related("lines__product")
        return self.paginated(request, queryset, TransferOut)

    @extend_schema(request=TransferIn, responses={201: TransferOut})
    @idempotent
    def post(self, request):
        data = TransferIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        transfer = transfers.create_transfer(
            tenant=request.tenant, actor=actor_from_request(request), source=values["source"],
            destination=values["destination"], note=values["note"],
            lines=[(line["sku"], line["quantity"]) for line in values["lines"]])
        return Response(TransferOut(transfers.transfer_detail(tenant=request.tenant, transfer_id=transfer.id)).data,
                        status=201)


class TransferDetail(OpsView):
    @extend_schema(responses=TransferOut)
    def get(self, request, pk: int):
        return Response(TransferOut(transfers.transfer_detail(tenant=request.tenant, transfer_id=pk)).data)


class TransferShip(OpsView):
    write_roles = STAFF_ROLES

    @extend_schema(request=None, responses=TransferOut)
    @idempotent
    def post(self, request, pk: int):
        transfers.ship_transfer(tenant=request.tenant, actor=actor_from_request(request), transfer_id=pk)
        return Response(TransferOut(transfers.transfer_detail(tenant=request.tenant, transfer_id=pk)).data)


class TransferReceive(OpsView):
    write_roles = STAFF_ROLES

    @extend_schema(request=ReceiveIn, responses=TransferOut)
    @idempotent
    def post(self, request, pk: int):
        data = ReceiveIn(data=request.data)
        data.is_valid(raise_exception=True)
        received = {line["sku"]: line["received"] for line in data.validated_data.get("lines", [])}
        transfers.receive_transfer(tenant=request.tenant, actor=actor_from_request(request), transfer_id=pk,
                                   received=received)
        return Response(TransferOut(transfers.transfer_detail(tenant=request.tenant, transfer_id=pk)).data)


class TransferCancel(OpsView):
    write_roles = STAFF_ROLES

    @extend_schema(request=None, responses=TransferOut)
    @idempotent
    def post(self, request, pk: int):
        transfers.cancel_transfer(tenant=request.tenant, actor=actor_from_request(request), transfer_id=pk)
        return Response(TransferOut(transfers.transfer_detail(tenant=request.tenant, transfer_id=pk)).data)


# --- cycle counts ---------------------------------------------------------------------------------------------

class CountLineIn(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    counted = serializers.IntegerField(min_value=0, max_value=1_000_000_000)
    lot = serializers.CharField(max_length=64, required=False, default="", allow_blank=True,
                                help_text="Lot-tracked products: the lot counted. Without it the line counts the "
                                          "SKU as a whole: a shortfall is taken earliest expiry first and a "
                                          "surplus is refused (units found must name their lot).")
    expires_on = serializers.DateField(required=False, allow_null=True, default=None,
                                       help_text="The lot's expiry date; required for a lot the location does not "
                                                 "hold yet, checked against the known date otherwise.")


class CountIn(serializers.Serializer):
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


def _clerk_locations(request):
    """A store clerk signed in on the pages acts for their own stores only; everybody else for all."""
    membership = getattr(request, "membership", None)
    if getattr(request, "api_key", None) is None and membership is not None and membership.role == Role.STORE_CLERK:
        return list(membership.locations.all())
    return None


class CountListCreate(OpsView):
    write_roles = OPERATIONS_ROLES

    @extend_schema(responses=CountOut(many=True), parameters=[
        OpenApiParameter("status", enum=CycleCount.Status.values), OpenApiParameter("location", str)])
    def get(self, request):
        location = _location_param(request)
        queryset = counts.count_list(tenant=request.tenant, locations=_clerk_locations(request),
                                     status=request.query_params.get("status", "").replace("\x00", "\ufffd"))
        if location is not None:
            queryset = queryset.filter(location=location)
        return self.paginated(request, queryset.prefetch_related("lines__product"), CountOut)

    @extend_schema(request=CountIn, responses={201: CountOut},
                   description="Post a finished count: expected figures are taken from the ledger at `counted_at`, "
                               "variances are posted as `count` movements. Lot-tracked products are counted as a "
                               "whole (no `lot`) or lot by lot, not both: a lot line posts its variance to that lot "
                               "(created with `expires_on` when new). A surplus on a line without a lot is refused "
                               "(400 naming `lines[i].lot`); any refused line refuses the whole count.")
    @idempotent
    def post(self, request):
        data = CountIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        allowed = _clerk_locations(request)
        if allowed is not None and values["location"] not in {loc.code for loc in allowed}:
            raise PermissionDenied("Store clerks count their own stores only.")
        count = counts.count_and_post(tenant=request.tenant, actor=actor_from_request(request),
                                      location=values["location"], note=values["note"],
                                      counted=[counts.Counted(sku=line["sku"], counted=line["counted"],
                                                              lot=line["lot"], expires_on=line["expires_on"])
                                               for line in values["lines"]],
                                      counted_at=values.get("counted_at"))
        count = counts.count_detail(tenant=request.tenant, count_id=count.id)
        return Response(CountOut(count).data, status=201)


class CountDetail(OpsView):
    @extend_schema(responses=CountOut)
    def get(self, request, pk: int):
        count = counts.count_detail(tenant=request.tenant, count_id=pk, locations=_clerk_locations(request))
        return Response(CountOut(count).data)


# --- low-stock alert rules ------------------------------------------------------------------------------------

class AlertRuleIn(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    location = serializers.CharField(max_length=40, required=False, default="", allow_blank=True)
    channel = serializers.CharField(max_length=40, required=False, default="", allow_blank=True)
    threshold = serializers.IntegerField(min_value=0, max_value=1_000_000_000)

    def validate(self, attrs):
        if bool(attrs["location"]) == bool(attrs["channel"]):
            raise serializers.ValidationError({"location": ["Give either a location or a channel."]})
        return attrs


class AlertRuleOut(serializers.Serializer):
    id = serializers.IntegerField()
    sku = serializers.CharField(source="product.sku")
    location = serializers.SerializerMethodField()
    channel = serializers.SerializerMethodField()
    threshold = serializers.IntegerField()
    is_low = serializers.BooleanField()
    last_available = serializers.IntegerField(allow_null=True)
    changed_at = serializers.DateTimeField(allow_null=True)

    def get_location(self, rule) -> str | None:
        return rule.location.code if rule.location_id else None

    def get_channel(self, rule) -> str | None:
        return rule.channel.code if rule.channel_id else None


class AlertRuleListCreate(OpsView):
    read_roles = STAFF_ROLES | {Role.MANAGER}
    write_roles = STAFF_ROLES

    @extend_schema(responses=AlertRuleOut(many=True), parameters=[OpenApiParameter("sku", str),
                                                                  OpenApiParameter("low", bool)])
    def get(self, request):
        queryset = alerts.rule_list(tenant=request.tenant)
        sku = request.query_params.get("sku", "").replace("\x00", "\ufffd")
        if sku:
            queryset = queryset.filter(product__sku=sku)
        if request.query_params.get("low") in ("true", "1"):
            queryset = queryset.filter(is_low=True)
        return self.paginated(request, queryset, AlertRuleOut)

    @extend_schema(request=AlertRuleIn, responses={201: AlertRuleOut})
    @idempotent
    def post(self, request):
        data = AlertRuleIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        rule = alerts.save_rule(tenant=request.tenant, actor=actor_from_request(request), sku=values["sku"],
                                threshold=values["threshold"], location_code=values["location"],
                                channel_code=values["channel"])
        return Response(AlertRuleOut(rule).data, status=201)


class AlertRuleDetail(OpsView):
    read_roles = STAFF_ROLES | {Role.MANAGER}
    write_roles = STAFF_ROLES

    def _rule(self, request, pk):
        rule = alerts.rule_list(tenant=request.tenant).filter(id=pk).first()
        if rule is None:
            raise NotFound("No such alert rule.")
        return rule

    @extend_schema(responses=AlertRuleOut)
    def get(self, request, pk: int):
        return Response(AlertRuleOut(self._rule(request, pk)).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        alerts.delete_rule(tenant=request.tenant, actor=actor_from_request(request), rule_id=pk)
        return Response(status=204)

