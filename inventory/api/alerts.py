"""Low-stock alert rules: GET/POST /api/v1/inventory/alert-rules/ (thresholds per SKU and location or channel),
GET/DELETE .../{id}/."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from inventory import alerts
from inventory.api.operations import StockOperationView
from inventory.units import MAX_UNITS
from oms.actors import actor_from_request
from oms.api.idempotency import idempotent
from oms.errors import NotFound


class AlertRuleIn(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    location = serializers.CharField(max_length=40, required=False, default="", allow_blank=True)
    channel = serializers.CharField(max_length=40, required=False, default="", allow_blank=True)
    threshold = serializers.IntegerField(min_value=0, max_value=MAX_UNITS)

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


class AlertRuleListCreate(StockOperationView):
    access = "stock_alerts"

    @extend_schema(
        responses=AlertRuleOut(many=True), parameters=[OpenApiParameter("sku", str), OpenApiParameter("low", bool)]
    )
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
        rule = alerts.save_rule(
            tenant=request.tenant,
            actor=actor_from_request(request),
            sku=values["sku"],
            threshold=values["threshold"],
            location_code=values["location"],
            channel_code=values["channel"],
        )
        return Response(AlertRuleOut(rule).data, status=201)


class AlertRuleDetail(StockOperationView):
    access = "stock_alerts"

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
