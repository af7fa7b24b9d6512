"""Routing API: the routing policy (GET/PUT /api/v1/routing/policy/), its versions
(GET /api/v1/routing/policy/versions/), the dry run (POST /api/v1/routing/dry-run/) and policy simulations
(POST/GET /api/v1/routing/simulations/, GET .../{id}/)."""

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from fulfillment.models import RoutingSimulation
from fulfillment.selectors import simulation_detail, simulations_for
from fulfillment.services import policies, simulation
from fulfillment.services.routing import (
    PICKUP,
    SHIP,
    locations_excluded,
    question_for_basket,
    question_for_visible_order,
    route,
)
from oms.api.common import paginated
from oms.api.fields import StrictInput, json_object_field, sku_field
from oms.api.idempotency import idempotent
from oms.api.pagination import StableCursorPagination
from oms.api.scope import scope_of
from oms.errors import ValidationFailed
from orders.quantities import MAX_LINE_QUANTITY, MIN_LINE_QUANTITY


class PolicyOut(serializers.Serializer):
    version = serializers.IntegerField()
    policy = serializers.JSONField(source="document", help_text="the rules (see the README's routing section)")
    note = serializers.CharField()
    saved_by = serializers.CharField(source="created_by")
    saved_at = serializers.DateTimeField(source="created_at")


class PolicyIn(StrictInput, serializers.Serializer):
    policy = json_object_field(help_text="the whole rule set; left-out sections take their defaults")
    note = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    version = serializers.IntegerField(
        min_value=1, required=False, help_text="the version you edited: refused (409) if another was saved since"
    )


def _parse(serializer_class, data):
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        raise ValidationFailed(errors=serializer.errors)
    return serializer.validated_data


class RoutingPolicyView(APIView):
    access = "routing_policy"

    @extend_schema(responses=PolicyOut)
    def get(self, request):
        scope = scope_of(request)
        scope.forbid_channel_key("read the routing policy")
        return Response(PolicyOut(policies.active_policy(tenant=scope.tenant)).data)

    @extend_schema(request=PolicyIn, responses=PolicyOut)
    def put(self, request):
        scope = scope_of(request)
        scope.forbid_channel_key("change the routing policy")
        data = _parse(PolicyIn, request.data)
        try:
            saved = policies.save_policy(
                scope=scope, document=data["policy"], note=data["note"], expected_version=data.get("version")
            )
        except ValidationFailed as refused:  # the rules' paths are relative to the policy: name them in the body
            errors = refused.extra.get("errors", {})
            raise ValidationFailed(errors={f"policy.{path}": messages for path, messages in errors.items()}) from None
        return Response(PolicyOut(saved).data)


class RoutingPolicyVersions(APIView):
    access = "routing_policy"
    pagination_class = StableCursorPagination

    @extend_schema(responses=PolicyOut(many=True))
    def get(self, request):
        scope = scope_of(request)
        scope.forbid_channel_key("read the routing policy")
        policies.active_policy(tenant=scope.tenant)  # a tenant that never saved one sees the default as version 1
        return paginated(self, request, policies.policy_versions(scope=scope), PolicyOut)


# --- dry run ---------------------------------------------------------------------------------------------


class DryRunLineIn(StrictInput, serializers.Serializer):
    sku = sku_field()
    quantity = serializers.IntegerField(min_value=MIN_LINE_QUANTITY, max_value=MAX_LINE_QUANTITY)


class DryRunDeliveryIn(StrictInput, serializers.Serializer):
    method = serializers.ChoiceField(choices=[SHIP, PICKUP])
    address = serializers.DictField(required=False, help_text="postal_code, country, and latitude/longitude if known")
    pickup_location = serializers.CharField(max_length=40, required=False)


class DryRunIn(StrictInput, serializers.Serializer):
    order = serializers.IntegerField(required=False, help_text="an order's id: where would it go now")
    channel = serializers.CharField(max_length=40, required=False, help_text="with lines: unbound keys and users")
    delivery = DryRunDeliveryIn(required=False)
    lines = DryRunLineIn(many=True, required=False, allow_empty=False)
    exclude = serializers.ListField(
        child=serializers.CharField(max_length=40),
        required=False,
        default=list,
        help_text="location codes to leave out",
    )

    def validate(self, attrs):
        if ("order" in attrs) == ("lines" in attrs):
            raise serializers.ValidationError({"order": ["Give either an order or lines (with a delivery)."]})
        if "lines" in attrs and "delivery" not in attrs:
            raise serializers.ValidationError({"delivery": ["Say how the lines are delivered."]})
        return attrs


class PlannedLineOut(serializers.Serializer):
    order_line = serializers.IntegerField(allow_null=True)
    sku = serializers.CharField()
    quantity = serializers.IntegerField()


class PlannedLocationOut(serializers.Serializer):
    location = serializers.CharField()
    lines = PlannedLineOut(many=True)


class ReasonOut(serializers.Serializer):
    location = serializers.CharField()
    chosen = serializers.BooleanField()
    code = serializers.CharField()
    text = serializers.CharField()


class DryRunOut(serializers.Serializer):
    policy_version = serializers.IntegerField()
    fulfilment_type = serializers.CharField()
    shipments = serializers.IntegerField()
    plan = PlannedLocationOut(many=True)
    unfilled = PlannedLineOut(many=True)
    reasons = ReasonOut(many=True)


def _answer_body(answer) -> dict:
    """The engine's plan, with locations by code and lines by SKU (and order line id when it has one)."""
    by_key = {line.key: line for line in answer.question.lines}

    def line(key, quantity):
        return {"order_line": key if isinstance(key, int) else None, "sku": by_key[key].sku, "quantity": quantity}

    codes = {location_id: location.code for location_id, location in answer.locations.items()}
    plan = answer.plan
    return {
        "policy_version": answer.policy_version,
        "fulfilment_type": answer.question.fulfilment_type,
        "shipments": plan.shipments,
        "plan": [
            {"location": codes[location_id], "lines": [line(key, quantity) for key, quantity in lines]}
            for location_id, lines in plan.allocations.items()
        ],
        "unfilled": [line(key, quantity) for key, quantity in plan.unfilled],
        "reasons": [
            {"location": codes[location_id], "chosen": reason.chosen, "code": reason.code, "text": reason.text}
            for location_id, reason in plan.reasons.items()
        ],
    }


class RoutingDryRun(APIView):
    """Where an order (or a basket) would be fulfilled now, and why each location is chosen or not; touches no
    stock. A channel key asks for its own channel's orders and baskets only."""

    access = "routing_dry_run"

    @extend_schema(request=DryRunIn, responses=DryRunOut)
    def post(self, request):
        scope = scope_of(request)
        data = _parse(DryRunIn, request.data)
        if "order" in data:
            question = question_for_visible_order(scope=scope, order_id=data["order"])
        else:
            question = question_for_basket(
                scope=scope, channel_code=data.get("channel"), delivery=data["delivery"], lines=data["lines"]
            )
        answer = route(
            tenant=scope.tenant,
            question=question,
            exclude_location_ids=locations_excluded(tenant=scope.tenant, codes=data["exclude"]),
        )
        return Response(DryRunOut(_answer_body(answer)).data)


# --- policy simulation -----------------------------------------------------------------------------------


class SimulationIn(StrictInput, serializers.Serializer):
    policy = json_object_field(help_text="the draft rules, as for PUT routing/policy/; never saved as a version")

    def get_fields(self):
        fields = super().get_fields()
        # `from` is a Python keyword: declared here rather than as a class attribute.
        fields["from"] = serializers.DateField(
            input_formats=["%Y-%m-%d"], help_text="first day of the period replayed (the tenant's time zone)"
        )
        fields["to"] = serializers.DateField(input_formats=["%Y-%m-%d"], help_text="last day, included")
        return fields


class ProgressOut(serializers.Serializer):
    done = serializers.IntegerField(source="orders_done")
    total = serializers.IntegerField(source="orders_total")


class SimulationSummaryOut(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField(help_text=f"one of: {', '.join(RoutingSimulation.Status.values)}")
    active_version = serializers.IntegerField(source="active_policy.version", help_text="the version compared with")
    progress = ProgressOut(source="*")
    error = serializers.CharField(help_text="why it failed; empty otherwise")
    started_by = serializers.CharField(source="created_by")
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    url = serializers.SerializerMethodField()

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.DateField(source="date_from")
        fields["to"] = serializers.DateField(source="date_to")
        return fields

    def get_url(self, simulation) -> str:
        path = reverse("api-routing-simulation", args=[simulation.id])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class SimulationOut(SimulationSummaryOut):
    policy = serializers.JSONField(source="draft", help_text="the draft rules, made complete")
    results = serializers.JSONField(
        allow_null=True,
        help_text=(
            "once done: `replay` (orders replayed, by type, with or without a known destination), `active` "
            "(with its `version`) and `draft` (orders, orders_served, shipments, shipments_per_order, split_orders, "
            "split_rate, distance {mean_km, orders, shipments}, unfillable {orders, fully, partly, units, first}), "
            "`difference` (draft - active), `locations` (per location: daily_capacity and, for active, draft and "
            "difference: orders, units, peak_day, peak_load, days_full, days_over) and `changed` {orders, first: "
            "[{id, number, active: [codes], draft: [codes], active_unfilled, draft_unfilled}]}"
        ),
    )


class RoutingSimulations(APIView):
    """Replay the orders of a past period under a draft policy beside the active one, in the background, and
    compare: shipments per order, split rate, distance to the customer, load per location against its capacity,
    orders that would be unfillable. The replay uses today's stock and network."""

    access = "routing_simulations"

    pagination_class = StableCursorPagination

    @extend_schema(responses=SimulationSummaryOut(many=True))
    def get(self, request):
        scope = scope_of(request)
        scope.forbid_channel_key("read routing simulations")
        return paginated(self, request, simulations_for(scope=scope), SimulationSummaryOut)

    @extend_schema(request=SimulationIn, responses={202: SimulationOut})
    @idempotent
    def post(self, request):
        scope = scope_of(request)
        scope.forbid_channel_key("simulate a routing policy")
        data = _parse(SimulationIn, request.data)
        started = simulation.start_simulation(
            scope=scope, draft=data["policy"], date_from=data["from"], date_to=data["to"]
        )
        body = SimulationOut(started, context={"request": request}).data
        return Response(body, status=202, headers={"Location": body["url"]})


class RoutingSimulationDetail(APIView):
    access = "routing_simulations"

    @extend_schema(responses=SimulationOut)
    def get(self, request, pk: int):
        scope = scope_of(request)
        scope.forbid_channel_key("read routing simulations")
        found = simulation_detail(scope=scope, simulation_id=pk)
        simulation.resume_if_lost(found)  # a job whose hand-over was lost is given again
        return Response(SimulationOut(found, context={"request": request}).data)
