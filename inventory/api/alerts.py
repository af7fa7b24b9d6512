"""Low-stock alert rules: GET/POST /api/v1/inventory/alert-rules/ (thresholds per SKU and location or channel),
GET/DELETE .../{id}/."""

from django import forms
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from inventory import alerts
from inventory.api.operations import StockOperationView
from inventory.units import MAX_UNITS
from oms.actors import actor_from_request
from oms.api.common import query_parameters, read_query
from oms.api.fields import StrictInput, sku_field
from oms.api.filters import BOOLEAN_CHOICES
from oms.api.idempotency import idempotent
from oms.errors import NotFound


class AlertRuleIn(StrictInput, serializers.Serializer):
    sku = sku_field()
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


QUERY = {
    "sku": forms.CharField(required=False, label="a product's SKU"),
    "low": forms.ChoiceField(choices=BOOLEAN_CHOICES, required=False, label="only the rules whose stock is low"),
}


class AlertRuleListCreate(StockOperationView):
    access = "stock_alerts"

    @extend_schema(responses=AlertRuleOut(many=True), parameters=query_parameters(QUERY))
    def get(self, request):
        query = read_query(request, QUERY)
        queryset = alerts.rule_list(tenant=request.tenant)
        if query["sku"]:
            queryset = queryset.filter(product__sku=query["sku"])
        if query["low"] in ("true", "1"):
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
