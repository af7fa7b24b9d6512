"""Orders API: intake (POST /orders/), reads, edits (PATCH with If-Match), cancel, hold and release, invoices.

Prices are per unit excluding tax; `discount` and `tax` are amounts for the whole line; promotions are
order-level discounts computed by the channel's promotion engine; OMS records them and carries them into
totals and invoices. Taxes are the channel's: OMS stores them as sent and never recomputes them, so the channel
computes them on what the customer pays (after discounts and promotions). Every validation error names its
field with a path such as `lines[2].sku`.
"""

from decimal import Decimal

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from oms.api.common import filter_parameters, filtered, paginated
from oms.api.fields import AwareDateTimeField, StrictInput, sku_field
from oms.api.idempotency import idempotent
from oms.api.pagination import StableCursorPagination
from oms.api.problems import flatten_errors
from oms.api.scope import scope_of
from oms.api.serializers import SharedFieldsSerializer
from oms.digits import whole_number
from oms.errors import NotFound, ValidationFailed
from orders import invoicing, selectors, services
from orders.filters import InvoiceFilter, OrderFilter
from orders.models import HOLD_KINDS_BY_HAND, DeliveryMethod, HoldKind, Invoice
from orders.quantities import MAX_LINE_QUANTITY, MIN_LINE_QUANTITY

# Fields that OMS sets; a client sending them gets a 400 rather than a silently different order.
SERVER_FIELDS = frozenset(
    {
        "id",
        "number",
        "status",
        "tenant",
        "version",
        "subtotal",
        "discount_total",
        "tax_total",
        "shipping_total",
        "total",
        "created_at",
        "updated_at",
        "timeline",
        "invoices",
    }
)
SERVER_LINE_FIELDS = frozenset(
    {
        "id",
        "status",
        "total",
        "quantity_allocated",
        "quantity_backordered",
        "quantity_shipped",
        "quantity_delivered",
        "quantity_cancelled",
        "quantity_returned",
        "allocations",
    }
)
PAYMENT_STATUSES = ("", "pending", "authorized", "paid", "partially_refunded", "refunded", "failed")


def parse(serializer_class, data, **kwargs):
    serializer = serializer_class(data=data, **kwargs)
    if not serializer.is_valid():
        raise ValidationFailed(errors=flatten_errors(serializer.errors))
    return serializer.validated_data


def _expected_version(request, body_version=None, *, required: bool) -> int | None:
    header = request.headers.get("If-Match", "").strip()
    if header == "*":  # any current version (RFC 9110): the client chose to overwrite whatever is there
        return body_version
    if header:
        value = header.removeprefix("W/").strip().strip('"')
        version = whole_number(value)
        if version is None:
            raise ValidationFailed(errors={"If-Match": ["Send the order's version as returned in its ETag."]})
        return version
    if body_version is not None:
        return body_version
    if required:
        raise ValidationFailed(
            errors={
                "If-Match": [
                    "Send the version you read (If-Match header or `version`) so "
                    "that concurrent edits cannot overwrite each other."
                ]
            }
        )
    return None


# --- input -----------------------------------------------------------------------------------------------


class CustomerIn(StrictInput, SharedFieldsSerializer):
    email = serializers.EmailField(max_length=254)
    name = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    phone = serializers.CharField(max_length=40, required=False, default="", allow_blank=True)


class AddressIn(StrictInput, SharedFieldsSerializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    company = serializers.CharField(max_length=200, required=False, allow_blank=True)
    line1 = serializers.CharField(max_length=200)
    line2 = serializers.CharField(max_length=200, required=False, allow_blank=True)
    postal_code = serializers.CharField(max_length=20)
    city = serializers.CharField(max_length=100)
    region = serializers.CharField(max_length=100, required=False, allow_blank=True)
    country = serializers.RegexField(r"^[A-Z]{2}$", error_messages={"invalid": "Use an ISO 3166 code such as FR."})
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    latitude = serializers.FloatField(
        min_value=-90, max_value=90, required=False, help_text="decimal degrees; routing's distances use it"
    )
    longitude = serializers.FloatField(min_value=-180, max_value=180, required=False, help_text="decimal degrees")

    def validate(self, attrs):
        if ("latitude" in attrs) != ("longitude" in attrs):
            missing = "longitude" if "latitude" in attrs else "latitude"
            raise serializers.ValidationError({missing: ["Give latitude and longitude together."]})
        return attrs


class DeliveryIn(StrictInput, SharedFieldsSerializer):
    method = serializers.ChoiceField(choices=DeliveryMethod.values)
    address = AddressIn(required=False)
    pickup_location = serializers.CharField(
        max_length=40,
        required=False,
        allow_blank=True,
        help_text="pickup: code of a location offering pickup, in the channel's sourcing pool",
    )
    location = serializers.CharField(
        max_length=40,
        required=False,
        allow_blank=True,
        help_text="in_store: code of the store where the sale happened, a store of the channel's sourcing pool; "
        "may be left out only when that pool has exactly one store",
    )
    service_level = serializers.CharField(max_length=40, required=False, default="", allow_blank=True)

    def validate(self, attrs):
        if attrs["method"] == DeliveryMethod.SHIP and not attrs.get("address"):
            raise serializers.ValidationError({"address": ["An address is required to ship an order."]})
        if attrs["method"] == DeliveryMethod.PICKUP and not attrs.get("pickup_location"):
            raise serializers.ValidationError({"pickup_location": ["A pickup location is required."]})
        return attrs


class LineIn(StrictInput, SharedFieldsSerializer):
    server_fields = SERVER_LINE_FIELDS
    sku = sku_field()
    quantity = serializers.IntegerField(min_value=MIN_LINE_QUANTITY, max_value=MAX_LINE_QUANTITY)
    unit_price = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, help_text="price of one unit, excluding tax"
    )
    discount = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=0,
        required=False,
        default=Decimal("0"),
        help_text="discount on the whole line, excluding tax",
    )
    tax = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=0,
        required=False,
        default=Decimal("0"),
        help_text="tax of the whole line as the channel computed it, on the line's amount after its discount and "
        "its share of the order's promotions; stored as sent, never recomputed by OMS",
    )
    tax_rate = serializers.DecimalField(
        max_digits=6,
        decimal_places=3,
        min_value=0,
        max_value=100,
        required=False,
        allow_null=True,
        default=None,
        help_text="percent, e.g. 20 (printed on invoices)",
    )


class PromotionIn(StrictInput, SharedFieldsSerializer):
    code = serializers.CharField(max_length=60)
    description = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, help_text="order-level discount, excluding tax"
    )


class ShippingIn(StrictInput, SharedFieldsSerializer):
    amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, help_text="shipping charge, excluding tax"
    )
    tax = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=0,
        required=False,
        default=Decimal("0"),
        help_text="tax on the shipping charge, as the channel computed it",
    )


class HoldRequestIn(StrictInput, SharedFieldsSerializer):
    kind = serializers.ChoiceField(choices=[HoldKind.PAYMENT, HoldKind.FRAUD])
    reason = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)


class PromiseIn(StrictInput, SharedFieldsSerializer):
    earliest = serializers.DateField()
    latest = serializers.DateField(help_text="on or after `earliest`")


@extend_schema_field(LineIn(many=True))
class LineListField(serializers.ListField):
    """The order's lines, each checked by LineIn in OrderIn.validate_lines (and documented as LineIn)."""


class OrderIn(StrictInput, SharedFieldsSerializer):
    """An order as the channel sends it. Unknown keys are refused (400 naming them); free data goes in `metadata`.

    Totals follow one rule: `subtotal` = Σ unit_price × quantity; `discount_total` = Σ line discounts +
    Σ promotions; `tax_total` = Σ line taxes + shipping tax; `total` = subtotal − discount_total + shipping +
    tax_total. Taxes are taken as sent and never recomputed: send them computed on the amounts after discounts
    and promotions.
    """

    server_fields = SERVER_FIELDS
    channel = serializers.CharField(max_length=40, required=False, help_text="integration keys only")
    external_ref = serializers.CharField(max_length=120)
    customer = CustomerIn(required=False)
    delivery = DeliveryIn()
    lines = LineListField(child=serializers.DictField(), allow_empty=False)
    currency = serializers.RegexField(r"^[A-Z]{3}$", error_messages={"invalid": "Use an ISO 4217 code such as EUR."})
    promotions = PromotionIn(many=True, required=False, default=list)
    shipping = ShippingIn(required=False)
    payment_status = serializers.ChoiceField(choices=PAYMENT_STATUSES, required=False, default="")
    metadata = serializers.DictField(required=False, default=dict)
    hold = HoldRequestIn(required=False)
    promised_delivery = PromiseIn(
        required=False,
        help_text="the delivery window promised to the customer at checkout; `earliest` may not be after `latest`",
    )
    placed_at = AwareDateTimeField(
        required=False,
        help_text="when the customer ordered, as the channel recorded it (marketplaces send their "
        "own order date); stored as the order's date; not in the future; now when absent",
    )

    def validate_lines(self, value):
        limit = services.max_lines()
        if len(value) > limit:
            raise serializers.ValidationError(f"Too many lines: {len(value)}; at most {limit} per order.")
        parsed, errors = [], {}
        line = LineIn()  # one serializer for every line: building its fields costs more than checking a line
        for index, raw in enumerate(value):
            line.initial_data = raw
            try:
                parsed.append(line.run_validation(raw))
            except serializers.ValidationError as exc:
                errors[index] = exc.detail
        if errors:
            raise serializers.ValidationError(errors)
        return parsed


def order_input(data: dict, channel) -> services.OrderInput:
    delivery = data["delivery"]
    shipping = data.get("shipping") or {}
    hold = data.get("hold") or {}
    promise = data.get("promised_delivery") or {}
    return services.OrderInput(
        channel=channel,
        external_ref=data["external_ref"],
        currency=data["currency"],
        lines=[
            services.LineInput(
                sku=line["sku"],
                quantity=line["quantity"],
                unit_price=line["unit_price"],
                discount=line["discount"],
                tax=line["tax"],
                tax_rate=line["tax_rate"],
            )
            for line in data["lines"]
        ],
        delivery_method=delivery["method"],
        customer=dict(data["customer"]) if data.get("customer") else None,
        address=dict(delivery.get("address") or {}),
        location_code=delivery.get("pickup_location") or delivery.get("location") or "",
        service_level=delivery.get("service_level", ""),
        promotions=[
            services.PromotionInput(code=p["code"], description=p["description"], amount=p["amount"])
            for p in data.get("promotions", [])
        ],
        shipping_amount=shipping.get("amount", services.ZERO),
        shipping_tax=shipping.get("tax", services.ZERO),
        payment_status=data.get("payment_status", ""),
        metadata=data.get("metadata", {}),
        hold_kind=hold.get("kind", ""),
        hold_reason=hold.get("reason", ""),
        promised_earliest=promise.get("earliest"),
        promised_latest=promise.get("latest"),
        placed_at=data.get("placed_at"),
    )


class LineQuantityIn(StrictInput, serializers.Serializer):
    id = serializers.IntegerField()
    quantity = serializers.IntegerField(min_value=MIN_LINE_QUANTITY, max_value=MAX_LINE_QUANTITY)


class CancelIn(StrictInput, serializers.Serializer):
    reason = serializers.CharField(max_length=500)
    lines = LineQuantityIn(many=True, required=False, allow_empty=False)
    version = serializers.IntegerField(required=False, min_value=1)


class EditLineIn(StrictInput, serializers.Serializer):
    id = serializers.IntegerField()
    quantity = serializers.IntegerField(min_value=0)


class EditDeliveryIn(StrictInput, serializers.Serializer):
    address = AddressIn(required=False)
    pickup_location = serializers.CharField(max_length=40, required=False)
    service_level = serializers.CharField(max_length=40, required=False, allow_blank=True)


class EditIn(StrictInput, serializers.Serializer):
    server_fields = SERVER_FIELDS
    version = serializers.IntegerField(required=False, min_value=1)
    delivery = EditDeliveryIn(required=False)
    lines = EditLineIn(many=True, required=False, allow_empty=False)
    reason = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)


class HoldIn(StrictInput, serializers.Serializer):
    kind = serializers.ChoiceField(choices=HOLD_KINDS_BY_HAND, required=False, default=HoldKind.MANUAL)
    reason = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    version = serializers.IntegerField(required=False, min_value=1)


class ReleaseIn(StrictInput, serializers.Serializer):
    note = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)
    version = serializers.IntegerField(required=False, min_value=1)


# --- output ----------------------------------------------------------------------------------------------


def money(**kwargs):
    return serializers.DecimalField(max_digits=14, decimal_places=2, **kwargs)


CURRENT_TOTAL_HELP = (
    "the total without the cancelled units (their price and their share of discount and tax); "
    "`total` stays what was charged at checkout; returns are not deducted"
)


class AllocationOut(SharedFieldsSerializer):
    id = serializers.IntegerField()
    location = serializers.CharField(source="stock_level.location.code")
    quantity = serializers.IntegerField()
    status = serializers.CharField()


class LineOut(SharedFieldsSerializer):
    id = serializers.IntegerField()
    line_number = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField()
    quantity = serializers.IntegerField()
    status = serializers.CharField()
    unit_price = money()
    discount = money()
    tax = money()
    tax_rate = serializers.DecimalField(max_digits=6, decimal_places=3, allow_null=True)
    total = money()
    current_total = money(read_only=True, help_text=CURRENT_TOTAL_HELP)
    quantity_allocated = serializers.IntegerField()
    quantity_backordered = serializers.IntegerField()
    quantity_shipped = serializers.IntegerField()
    quantity_delivered = serializers.IntegerField()
    quantity_cancelled = serializers.IntegerField()
    quantity_returned = serializers.IntegerField()


class LineDetailOut(LineOut):
    allocations = AllocationOut(many=True, source="allocation_list")


class CustomerOut(SharedFieldsSerializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    name = serializers.CharField()
    phone = serializers.CharField()


class EventOut(SharedFieldsSerializer):
    at = serializers.DateTimeField()
    actor = serializers.CharField(source="actor_label")
    kind = serializers.CharField()
    message = serializers.CharField()
    before = serializers.JSONField()
    after = serializers.JSONField()


class InvoiceSummaryOut(SharedFieldsSerializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    kind = serializers.CharField()
    issued_at = serializers.DateTimeField()
    currency = serializers.CharField()
    total = money()


class FeedbackSummaryOut(SharedFieldsSerializer):
    score = serializers.IntegerField(help_text="from 1 (very dissatisfied) to 5 (very satisfied)")
    comment = serializers.CharField()
    source = serializers.CharField(help_text="`api` or `link`")
    created_at = serializers.DateTimeField()


class OrderSummaryOut(SharedFieldsSerializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    status = serializers.CharField()
    external_ref = serializers.CharField()
    channel = serializers.CharField(source="channel.code")
    currency = serializers.CharField()
    subtotal = money()
    discount_total = money()
    tax_total = money()
    shipping_total = money()
    total = money()
    current_total = money(
        read_only=True,
        help_text=CURRENT_TOTAL_HELP + "; promotions apply up to the goods "
        "that remain, shipping while anything remains",
    )
    customer = CustomerOut(allow_null=True)
    delivery = serializers.SerializerMethodField()
    promotions = serializers.JSONField()
    payment_status = serializers.CharField()
    hold = serializers.SerializerMethodField()
    metadata = serializers.JSONField()
    promised_delivery = serializers.SerializerMethodField(
        help_text="{earliest, latest, source}: `client` when the order came with the promise the customer saw at "
        "checkout (kept as it came), `oms` when computed at placement and again at allocation"
    )
    delivered_on_time = serializers.BooleanField(
        allow_null=True, help_text="once delivered: whether within the promise (its latest day); null before"
    )
    lines = LineOut(many=True, source="lines.all")
    version = serializers.IntegerField()
    placed_at = serializers.DateTimeField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_delivery(self, order) -> dict:
        location = order.pickup_location.code if order.pickup_location_id else None
        return {
            "method": order.delivery_method,
            "address": order.shipping_address or None,
            "pickup_location": location if order.delivery_method == DeliveryMethod.PICKUP else None,
            "location": location,
            "service_level": order.service_level,
        }

    def get_hold(self, order) -> dict | None:
        return {"kind": order.hold_kind, "reason": order.hold_reason} if order.hold_kind else None

    def get_promised_delivery(self, order) -> dict | None:
        if order.promised_delivery_earliest is None and order.promised_delivery_latest is None:
            return None
        return {
            "earliest": order.promised_delivery_earliest,
            "latest": order.promised_delivery_latest,
            "source": "client" if order.promise_from_client else "oms",
        }


class OrderOut(OrderSummaryOut):
    lines = LineDetailOut(many=True, source="lines_list")
    fulfillments = serializers.ListField(
        child=serializers.DictField(),
        source="fulfillment_list",
        default=list,
        help_text="one per location fulfilling part of the order: id, location (code), status, routing_reason, "
        "reject_reason, transfer, ready_at, pickup_expires_at, lines [{order_line, sku, quantity, quantity_shipped, "
        "quantity_rejected, quantity_cancelled}], shipments",
    )
    pickup_expires_at = serializers.DateTimeField(
        allow_null=True,
        default=None,
        help_text="a pickup order ready at its store: when it is cancelled if not collected",
    )
    shipments = serializers.ListField(
        child=serializers.DictField(),
        source="shipment_list",
        default=list,
        help_text="id, fulfillment, location, carrier, service, tracking_numbers, tracking_url, status, shipped_at, "
        "delivered_at, lines [{order_line, sku, quantity}]",
    )
    routing_decisions = serializers.ListField(
        child=serializers.DictField(),
        source="routing_decision_list",
        default=list,
        help_text="newest first: id, kind (initial, reroute, rejection, backorder), policy_version, decided_at, "
        "plan [{location, lines}], unfilled, reasons [{location, chosen, code, text}]",
    )
    invoices = InvoiceSummaryOut(many=True, source="invoice_list", default=list)
    feedback = FeedbackSummaryOut(
        source="feedback_response",
        allow_null=True,
        default=None,
        help_text="the customer's satisfaction response (GET /api/v1/orders/{id}/feedback/), or null",
    )
    timeline = EventOut(many=True, source="timeline_list")


def _order_response(order, status=200) -> Response:
    if not hasattr(order, "invoice_list"):
        order.invoice_list = list(order.invoices.all())
    return Response(
        OrderOut(order).data,
        status=status,
        headers={"ETag": f'"{order.version}"', "Location": f"/api/v1/orders/{order.id}/"},
    )


# --- views -----------------------------------------------------------------------------------------------


class OrderListCreate(APIView):
    access = "orders"
    pagination_class = StableCursorPagination

    @extend_schema(
        responses=OrderSummaryOut(many=True),
        parameters=filter_parameters(OrderFilter),
    )
    def get(self, request):
        queryset = filtered(OrderFilter, request, selectors.order_list(scope=scope_of(request)))
        return paginated(self, request, queryset, OrderSummaryOut)

    @extend_schema(request=OrderIn, responses={201: OrderOut})
    @idempotent
    def post(self, request):
        data = parse(OrderIn, request.data)
        scope = scope_of(request)
        channel = scope.channel_for(data.get("channel"))
        order = services.place_order(tenant=scope.tenant, actor=scope.actor, data=order_input(data, channel))
        order.invoice_list = list(order.invoices.all()) if order.delivery_method == DeliveryMethod.IN_STORE else []
        return _order_response(order, status=201)


class OrderDetail(APIView):
    access = "orders"

    @extend_schema(responses=OrderOut)
    def get(self, request, pk: int):
        return _order_now(request, pk)

    @extend_schema(request=EditIn, responses=OrderOut, parameters=[OpenApiParameter("If-Match", str, "header")])
    def patch(self, request, pk: int):
        selectors.require_order(scope=scope_of(request), order_id=pk)  # 404 before the body
        data = parse(EditIn, request.data)
        delivery = data.get("delivery") or {}
        services.edit_order(
            scope=scope_of(request),
            order_id=pk,
            expected_version=_expected_version(request, data.get("version"), required=True),
            address=dict(delivery["address"]) if "address" in delivery else None,
            pickup_location=delivery.get("pickup_location"),
            service_level=delivery.get("service_level"),
            line_quantities=[services.LineQuantity(item["id"], item["quantity"]) for item in data.get("lines", [])],
            reason=data["reason"],
        )
        return _order_now(request, pk)


class OrderCancel(APIView):
    access = "orders"

    @extend_schema(request=CancelIn, responses=OrderOut)
    @idempotent
    def post(self, request, pk: int):
        selectors.require_order(scope=scope_of(request), order_id=pk)  # 404 before the body
        data = parse(CancelIn, request.data)
        lines = (
            [services.LineQuantity(item["id"], item["quantity"]) for item in data["lines"]] if "lines" in data else None
        )
        services.cancel_order(
            scope=scope_of(request),
            order_id=pk,
            reason=data["reason"],
            lines=lines,
            expected_version=_expected_version(request, data.get("version"), required=False),
        )
        return _order_now(request, pk)


def _order_now(request, pk: int):
    """The order as it stands after an action, as the caller's key may see it."""
    return _order_response(selectors.order_detail(scope=scope_of(request), order_id=pk))


class OrderHold(APIView):
    access = "orders"

    @extend_schema(request=HoldIn, responses=OrderOut)
    @idempotent
    def post(self, request, pk: int):
        selectors.require_order(scope=scope_of(request), order_id=pk)  # 404 before the body
        data = parse(HoldIn, request.data)
        services.hold_order(
            scope=scope_of(request),
            order_id=pk,
            kind=data["kind"],
            reason=data["reason"],
            expected_version=_expected_version(request, data.get("version"), required=False),
        )
        return _order_now(request, pk)


class OrderRelease(APIView):
    access = "orders"

    @extend_schema(request=ReleaseIn, responses=OrderOut)
    @idempotent
    def post(self, request, pk: int):
        selectors.require_order(scope=scope_of(request), order_id=pk)  # 404 before the body
        data = parse(ReleaseIn, request.data)
        services.release_hold(
            scope=scope_of(request),
            order_id=pk,
            note=data["note"],
            expected_version=_expected_version(request, data.get("version"), required=False),
        )
        return _order_now(request, pk)


class CustomerListOut(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    name = serializers.CharField()
    phone = serializers.CharField()
    created_at = serializers.DateTimeField()


class CustomerList(APIView):
    access = "customers"
    pagination_class = StableCursorPagination

    @extend_schema(responses=CustomerListOut(many=True), parameters=[OpenApiParameter("q", str, required=False)])
    def get(self, request):
        queryset = selectors.customer_list(scope=scope_of(request), search=request.query_params.get("q", ""))
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(CustomerListOut(page, many=True).data)


class CustomerOrders(APIView):
    """A customer's order history."""

    access = "customers"

    pagination_class = StableCursorPagination

    @extend_schema(responses=OrderSummaryOut(many=True))
    def get(self, request, pk: int):
        customer = selectors.customer_detail(scope=scope_of(request), customer_id=pk)
        queryset = selectors.customer_orders(scope=scope_of(request), customer=customer)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(OrderSummaryOut(page, many=True).data)


class InvoiceLineOut(serializers.Serializer):
    sku = serializers.CharField()
    description = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = money()
    discount = money()
    tax_rate = serializers.DecimalField(max_digits=6, decimal_places=3, allow_null=True)
    tax = money()
    total = money()


class InvoiceOut(InvoiceSummaryOut):
    order_id = serializers.IntegerField()
    order_number = serializers.CharField(source="order.number")
    credited_invoice = serializers.CharField(source="credited_invoice.number", allow_null=True, default=None)
    seller = serializers.JSONField()
    buyer = serializers.JSONField()
    reference = serializers.CharField()
    subtotal = money()
    discount_total = money()
    tax_total = money()
    shipping_total = money()
    promotions = serializers.JSONField()
    lines = InvoiceLineOut(many=True, source="lines.all")


def _invoice(request, pk):
    try:
        return selectors.invoices_for(scope=scope_of(request)).prefetch_related("lines").get(id=pk)
    except (Invoice.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such invoice.") from None


class InvoiceListOut(InvoiceSummaryOut):
    order_id = serializers.IntegerField()
    order_number = serializers.CharField(source="order.number")
    channel = serializers.CharField(source="order.channel.code")
    credited_invoice = serializers.CharField(source="credited_invoice.number", allow_null=True, default=None)
    subtotal = money()
    discount_total = money()
    tax_total = money()
    shipping_total = money()


class InvoiceList(APIView):
    """Invoices and credit notes, newest first; a channel-bound key sees those of its channel's orders only."""

    access = "invoices"

    pagination_class = StableCursorPagination

    @extend_schema(
        responses=InvoiceListOut(many=True),
        parameters=filter_parameters(InvoiceFilter),
    )
    def get(self, request):
        queryset = filtered(InvoiceFilter, request, selectors.invoices_for(scope=scope_of(request)))
        return paginated(self, request, queryset, InvoiceListOut)


class InvoiceDetail(APIView):
    access = "invoices"

    @extend_schema(responses=InvoiceOut)
    def get(self, request, pk: int):
        return Response(InvoiceOut(_invoice(request, pk)).data)


class InvoicePdf(APIView):
    access = "invoices"

    @extend_schema(responses={(200, "application/pdf"): bytes})
    def get(self, request, pk: int):
        invoice = _invoice(request, pk)
        response = HttpResponse(invoicing.render_pdf(invoice), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{invoice.number}.pdf"'
        return response
