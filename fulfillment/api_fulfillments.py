"""Fulfilment API: fulfilment orders (`/api/v1/fulfillments/`, and the steps accept, pick, pack, ship, reject;
for click & collect ready, collect and a manager's unlock),
shipments (`/api/v1/shipments/`, and carrier tracking events) and the manual re-route of an order
(`POST /api/v1/orders/{id}/reroute/`).

Every step looks the object up first (another tenant's id, another channel's, a store clerk's other store: 404)
and only then reads the body. Channel keys read their own orders' fulfilment and change none of it; store clerks
see and work the fulfilment orders of their assigned stores."""

from datetime import timedelta
from decimal import Decimal

from django import forms
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from fulfillment import carriers, selectors
from fulfillment.models import FulfillmentStatus, ShipmentStatus
from fulfillment.services import execution, pickup, tracking
from oms.api.common import paginated, query_parameters, read_query
from oms.api.fields import StrictInput
from oms.api.filters import IdField
from oms.api.idempotency import idempotent
from oms.api.pagination import StableCursorPagination
from oms.api.scope import scope_of
from oms.errors import NotFound, ValidationFailed
from orders.selectors import orders_for

MAX_UNITS = 1_000_000


def _parse(serializer_class, data):
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        raise ValidationFailed(errors=serializer.errors)
    return serializer.validated_data


# --- output -----------------------------------------------------------------------------------------------


class FulfillmentLineOut(serializers.Serializer):
    order_line = serializers.IntegerField(source="order_line_id")
    sku = serializers.CharField(source="order_line.sku")
    name = serializers.CharField(source="order_line.name")
    quantity = serializers.IntegerField()
    quantity_shipped = serializers.IntegerField()
    quantity_rejected = serializers.IntegerField()
    quantity_cancelled = serializers.IntegerField()
    quantity_open = serializers.IntegerField(help_text="units still to ship from this location")


class ShipmentLineOut(serializers.Serializer):
    order_line = serializers.IntegerField(source="order_line_id")
    sku = serializers.CharField(source="order_line.sku")
    quantity = serializers.IntegerField()


class TrackingEventOut(serializers.Serializer):
    status = serializers.CharField()
    occurred_at = serializers.DateTimeField()
    detail = serializers.CharField()
    recorded_at = serializers.DateTimeField()


class ShipmentOut(serializers.Serializer):
    id = serializers.IntegerField()
    order = serializers.IntegerField(source="order_id")
    fulfillment = serializers.IntegerField(source="fulfillment_id")
    location = serializers.CharField(source="location.code")
    carrier = serializers.CharField()
    service = serializers.CharField()
    tracking_numbers = serializers.ListField(child=serializers.CharField())
    tracking_url = serializers.CharField()
    parcels = serializers.JSONField()
    status = serializers.CharField()
    shipped_at = serializers.DateTimeField()
    delivered_at = serializers.DateTimeField(allow_null=True)
    lines = ShipmentLineOut(many=True, source="lines.all")
    events = TrackingEventOut(many=True, source="events.all")


class FulfillmentShipmentOut(serializers.Serializer):
    id = serializers.IntegerField()
    carrier = serializers.CharField()
    tracking_numbers = serializers.ListField(child=serializers.CharField())
    tracking_url = serializers.CharField()
    status = serializers.CharField()
    shipped_at = serializers.DateTimeField()


class FulfillmentOut(serializers.Serializer):
    id = serializers.IntegerField()
    order = serializers.IntegerField(source="order_id")
    order_number = serializers.CharField(source="order.number")
    channel = serializers.CharField(source="order.channel.code")
    location = serializers.CharField(source="location.code")
    status = serializers.CharField()
    routing_reason = serializers.CharField(source="reason", help_text="why routing chose this location")
    decision = serializers.IntegerField(source="decision_id", help_text="the routing decision that created it")
    reject_reason = serializers.CharField()
    parcels = serializers.JSONField()
    lines = FulfillmentLineOut(many=True, source="lines.all")
    shipments = FulfillmentShipmentOut(many=True, source="shipments.all")
    created_at = serializers.DateTimeField()
    due_at = serializers.SerializerMethodField(help_text="created_at plus the tenant's fulfilment SLA in hours")
    accepted_at = serializers.DateTimeField(allow_null=True)
    packed_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    updated_at = serializers.DateTimeField()
    transfer = serializers.CharField(
        source="transfer.number", allow_null=True, default=None, help_text="the stock transfer it awaits (TR-000123)"
    )
    ready_at = serializers.DateTimeField(allow_null=True, help_text="when it was made ready for pickup")
    pickup_expires_at = serializers.DateTimeField(
        allow_null=True, help_text="when a ready pickup order is cancelled if not collected"
    )
    pickup_attempts_left = serializers.SerializerMethodField(help_text="wrong pickup codes allowed before a lock")
    pickup_locked = serializers.SerializerMethodField(help_text="true when a manager must unlock the hand-over")

    def get_pickup_attempts_left(self, fulfillment) -> int:
        return max(pickup.MAX_ATTEMPTS - fulfillment.pickup_attempts, 0)

    def get_pickup_locked(self, fulfillment) -> bool:
        return fulfillment.pickup_locked_at is not None

    def get_due_at(self, fulfillment) -> str:
        due = fulfillment.created_at + timedelta(hours=carriers.sla_hours(fulfillment.order.tenant))
        return serializers.DateTimeField().to_representation(due)


# --- input ------------------------------------------------------------------------------------------------


class UnitsIn(StrictInput, serializers.Serializer):
    order_line = serializers.IntegerField(help_text="the order line's id")
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_UNITS)


class ParcelIn(StrictInput, serializers.Serializer):
    weight_kg = serializers.DecimalField(
        max_digits=8, decimal_places=3, min_value=Decimal("0.001"), max_value=Decimal("1000")
    )
    reference = serializers.CharField(max_length=60, required=False, allow_blank=True)
    length_cm = serializers.IntegerField(min_value=1, max_value=1000, required=False)
    width_cm = serializers.IntegerField(min_value=1, max_value=1000, required=False)
    height_cm = serializers.IntegerField(min_value=1, max_value=1000, required=False)


class PackIn(StrictInput, serializers.Serializer):
    parcels = ParcelIn(many=True, required=False, max_length=100)


class ShipIn(StrictInput, serializers.Serializer):
    carrier = serializers.RegexField(
        r"^[a-z0-9_]{1,40}$",
        help_text="the carrier's code (colissimo, chronopost, dhl, ups, dpd, gls, fedex, laposte, mondial_relay, "
        "or one of the tenant's own)",
    )
    service = serializers.CharField(max_length=60, required=False, default="", allow_blank=True)
    tracking_numbers = serializers.ListField(
        child=serializers.CharField(max_length=60), required=False, default=list, max_length=50
    )
    lines = UnitsIn(many=True, required=False, allow_empty=False, help_text="some units only (a partial shipment)")
    parcels = ParcelIn(many=True, required=False, max_length=100, help_text="by default, the parcels packed")


class RejectIn(StrictInput, serializers.Serializer):
    reason = serializers.ChoiceField(choices=execution.REJECT_REASONS)
    lines = UnitsIn(many=True, required=False, allow_empty=False, help_text="some units only (a partial rejection)")


class IdentityCheckIn(StrictInput, serializers.Serializer):
    order_number = serializers.CharField(max_length=40, help_text="the order's number, as the customer gives it")
    customer_name = serializers.CharField(max_length=200, help_text="the customer's name, as on their ID")


class CollectIn(StrictInput, serializers.Serializer):
    pickup_code = serializers.CharField(
        max_length=40, required=False, help_text="the code the customer shows (case, spaces and dashes ignored)"
    )
    identity_check = IdentityCheckIn(
        required=False, help_text="instead of the code: the order number and the customer's name the clerk checked"
    )
    lines = UnitsIn(many=True, required=False, allow_empty=False, help_text="some units only (the rest is cancelled)")

    def validate(self, data):
        if ("pickup_code" in data) == ("identity_check" in data):
            raise serializers.ValidationError({"pickup_code": ["Give the pickup code or an identity check."]})
        return data


class TrackingEventIn(StrictInput, serializers.Serializer):
    status = serializers.ChoiceField(choices=tracking.REPORTED)
    occurred_at = serializers.DateTimeField(required=False, help_text="when it happened; now by default")
    detail = serializers.CharField(max_length=300, required=False, default="", allow_blank=True)


class RerouteIn(StrictInput, serializers.Serializer):
    exclude = serializers.ListField(
        child=serializers.CharField(max_length=40), required=False, default=list, help_text="location codes"
    )


def _units(data) -> list[execution.Units] | None:
    if "lines" not in data:
        return None
    return [execution.Units(item["order_line"], item["quantity"]) for item in data["lines"]]


def _parcels(items) -> list[dict] | None:
    if items is None:
        return None
    return [{**item, "weight_kg": str(item["weight_kg"])} for item in items]


# --- fulfilment orders ------------------------------------------------------------------------------------


FULFILLMENT_QUERY = {
    "location": forms.CharField(required=False, label="a location's code"),
    "status": forms.ChoiceField(choices=FulfillmentStatus.choices, required=False),
    "order": IdField(required=False, label="an order's id"),
}
SHIPMENT_QUERY = {
    "order": IdField(required=False, label="an order's id"),
    "status": forms.ChoiceField(choices=ShipmentStatus.choices, required=False),
}


class FulfillmentList(APIView):
    access = "fulfillments"
    pagination_class = StableCursorPagination

    @extend_schema(
        parameters=query_parameters(FULFILLMENT_QUERY),
        responses=FulfillmentOut(many=True),
    )
    def get(self, request):
        query = read_query(request, FULFILLMENT_QUERY)
        queryset = selectors.fulfillment_list(
            scope=scope_of(request), location=query["location"], status=query["status"], order=query["order"]
        )
        return paginated(self, request, queryset.select_related("order__tenant"), FulfillmentOut)


class FulfillmentDetail(APIView):
    access = "fulfillments"

    @extend_schema(responses=FulfillmentOut)
    def get(self, request, pk: int):
        return _fulfillment_now(request, pk)


def _fulfillment_now(request, pk: int) -> Response:
    return Response(FulfillmentOut(selectors.fulfillment_detail(scope=scope_of(request), fulfillment_id=pk)).data)


def _visible_to_worker(request, pk: int, what: str):
    """The lookup comes first (404), then what the caller may do with it (a channel key changes nothing)."""
    scope = scope_of(request)
    selectors.fulfillment_detail(scope=scope, fulfillment_id=pk)
    scope.forbid_channel_key(what)
    return scope


class _Empty(StrictInput, serializers.Serializer):
    pass


def _step_without_body(request, pk: int, step) -> Response:
    scope = _visible_to_worker(request, pk, "work fulfilment orders")
    _parse(_Empty, request.data)
    step(scope=scope, fulfillment_id=pk)
    return _fulfillment_now(request, pk)


class FulfillmentAccept(APIView):
    access = "fulfillments"

    @extend_schema(request=None, responses=FulfillmentOut)
    @idempotent
    def post(self, request, pk: int):
        return _step_without_body(request, pk, execution.accept)


class FulfillmentPick(APIView):
    access = "fulfillments"

    @extend_schema(request=None, responses=FulfillmentOut)
    @idempotent
    def post(self, request, pk: int):
        return _step_without_body(request, pk, execution.start_picking)


class FulfillmentPack(APIView):
    access = "fulfillments"

    @extend_schema(request=PackIn, responses=FulfillmentOut)
    @idempotent
    def post(self, request, pk: int):
        scope = _visible_to_worker(request, pk, "work fulfilment orders")
        data = _parse(PackIn, request.data)
        execution.pack(scope=scope, fulfillment_id=pk, parcels=_parcels(data.get("parcels")))
        return _fulfillment_now(request, pk)


class FulfillmentShip(APIView):
    access = "fulfillments"

    @extend_schema(request=ShipIn, responses={201: ShipmentOut})
    @idempotent
    def post(self, request, pk: int):
        scope = _visible_to_worker(request, pk, "work fulfilment orders")
        data = _parse(ShipIn, request.data)
        shipment = execution.ship(
            scope=scope,
            fulfillment_id=pk,
            carrier=data["carrier"],
            service=data["service"],
            tracking_numbers=data["tracking_numbers"],
            lines=_units(data),
            parcels=_parcels(data.get("parcels")),
        )
        body = ShipmentOut(selectors.shipment_detail(scope=scope, shipment_id=shipment.id)).data
        return Response(body, status=201, headers={"Location": f"/api/v1/shipments/{shipment.id}/"})


class FulfillmentReject(APIView):
    access = "fulfillments"

    @extend_schema(request=RejectIn, responses=FulfillmentOut)
    @idempotent
    def post(self, request, pk: int):
        scope = _visible_to_worker(request, pk, "work fulfilment orders")
        data = _parse(RejectIn, request.data)
        execution.reject(scope=scope, fulfillment_id=pk, reason=data["reason"], lines=_units(data))
        return _fulfillment_now(request, pk)


class FulfillmentReady(APIView):
    """The packed pickup order waits at its store: a pickup code goes to the shop in `order.ready_for_pickup`."""

    access = "fulfillments"

    @extend_schema(request=None, responses=FulfillmentOut)
    @idempotent
    def post(self, request, pk: int):
        return _step_without_body(request, pk, pickup.mark_ready)


class FulfillmentCollect(APIView):
    """Hand-over at the store, after the customer's pickup code or the clerk's identity check. A wrong one is
    409 `wrong_pickup_code` with `attempts_left`; after 5, 409 `pickup_locked` until a manager unlocks it."""

    access = "fulfillments"

    @extend_schema(request=CollectIn, responses=FulfillmentOut)
    @idempotent
    def post(self, request, pk: int):
        scope = _visible_to_worker(request, pk, "hand over pickup orders")
        data = _parse(CollectIn, request.data)
        check = data.get("identity_check")
        try:
            pickup.collect(
                scope=scope,
                fulfillment_id=pk,
                pickup_code=data.get("pickup_code"),
                identity_check=pickup.IdentityCheck(check["order_number"], check["customer_name"]) if check else None,
                lines=_units(data),
            )
        except (pickup.WrongPickupCode, pickup.PickupLocked) as refused:
            # Answered, not raised: under an Idempotency-Key a raised error rolls the request's writes back, and the
            # wrong attempt counted (or the lock) must be kept whatever the client sends.
            return self.handle_exception(refused)
        return _fulfillment_now(request, pk)


class FulfillmentUnlock(APIView):
    """A manager (or an admin, or the stores' system) lets a locked hand-over be tried again."""

    access = "pickup_unlock"

    @extend_schema(request=None, responses=FulfillmentOut)
    @idempotent
    def post(self, request, pk: int):
        scope = _visible_to_worker(request, pk, "unlock hand-overs")
        _parse(_Empty, request.data)
        pickup.unlock(scope=scope, fulfillment_id=pk)
        return _fulfillment_now(request, pk)


# --- shipments --------------------------------------------------------------------------------------------


class ShipmentList(APIView):
    access = "shipments"
    pagination_class = StableCursorPagination

    @extend_schema(
        parameters=query_parameters(SHIPMENT_QUERY),
        responses=ShipmentOut(many=True),
    )
    def get(self, request):
        query = read_query(request, SHIPMENT_QUERY)
        queryset = selectors.shipment_list(scope=scope_of(request), order=query["order"], status=query["status"])
        return paginated(self, request, queryset, ShipmentOut)


class ShipmentDetail(APIView):
    access = "shipments"

    @extend_schema(responses=ShipmentOut)
    def get(self, request, pk: int):
        return Response(ShipmentOut(selectors.shipment_detail(scope=scope_of(request), shipment_id=pk)).data)


class ShipmentEvents(APIView):
    """Carrier tracking for a shipment: the same report (status and time) twice is recorded once (200 the second
    time, 201 the first); `delivered` records the shipment's units as delivered on the order."""

    access = "shipments"

    @extend_schema(request=TrackingEventIn, responses={201: ShipmentOut, 200: ShipmentOut})
    @idempotent
    def post(self, request, pk: int):
        scope = scope_of(request)
        selectors.shipment_detail(scope=scope, shipment_id=pk)
        scope.forbid_channel_key("report carrier tracking")
        data = _parse(TrackingEventIn, request.data)
        recorded = tracking.record_tracking(
            scope=scope,
            shipment_id=pk,
            status=data["status"],
            occurred_at=data.get("occurred_at"),
            detail=data["detail"],
        )
        body = ShipmentOut(selectors.shipment_detail(scope=scope, shipment_id=pk)).data
        return Response(body, status=201 if recorded.created else 200)


# --- manual re-route --------------------------------------------------------------------------------------


class OrderReroute(APIView):
    access = "rerouting"

    @extend_schema(request=RerouteIn, responses=FulfillmentOut(many=True))
    @idempotent
    def post(self, request, pk: int):
        scope = scope_of(request)
        if not orders_for(scope=scope).filter(id=pk).exists():
            raise NotFound("No such order.")
        scope.forbid_channel_key("re-route orders")
        data = _parse(RerouteIn, request.data)
        created = execution.reroute(scope=scope, order_id=pk, exclude=data["exclude"])
        fresh = selectors.fulfillment_list(scope=scope).filter(id__in=[f.id for f in created])
        return Response(FulfillmentOut(fresh.select_related("order__tenant"), many=True).data)
