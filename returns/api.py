"""Returns API: return requests (`/api/v1/returns/`: request, list, read; approve, reject, cancel; receive, close;
the printable slip), refunds (`/api/v1/refunds/`: list, read, settle) and the tenant's return reasons
(`/api/v1/return-reasons/`).

Every step on a return looks it up first (another tenant's id, another channel's, a store clerk's other store:
404) and only then reads the body."""

from decimal import Decimal

from django import forms
from django.http import HttpResponse
from django.utils import translation
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from oms.api.common import paginated, query_parameters, read_query
from oms.api.fields import StrictInput, code_field, sku_field
from oms.api.filters import IdField
from oms.api.idempotency import idempotent
from oms.api.pagination import StableCursorPagination
from oms.api.scope import scope_of
from oms.errors import ValidationFailed
from returns import reasons, selectors, services, tenant_settings
from returns.models import Disposition, RefundMethod, RefundStatus, ReturnMethod, ReturnOutcome, ReturnStatus
from returns.slip import render_slip_pdf

MAX_UNITS = 1_000_000
MAX_LINES = 500


def _parse(serializer_class, data):
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        raise ValidationFailed(errors=serializer.errors)
    return serializer.validated_data


def _language() -> str:
    return translation.get_language() or "en"


# --- output -----------------------------------------------------------------------------------------------


class ReceiptOut(serializers.Serializer):
    quantity = serializers.IntegerField()
    disposition = serializers.ChoiceField(choices=Disposition.values)
    location = serializers.CharField(source="location.code")
    received_at = serializers.DateTimeField()
    received_by = serializers.CharField()


class ReturnLineOut(serializers.Serializer):
    id = serializers.IntegerField()
    order_line = serializers.IntegerField(source="order_line_id")
    sku = serializers.CharField(source="order_line.sku")
    name = serializers.CharField(source="order_line.name")
    quantity = serializers.IntegerField()
    reason = serializers.CharField(source="reason.code")
    reason_label = serializers.SerializerMethodField(help_text="in the request's language (English or French)")
    quantity_received = serializers.IntegerField()
    receipts = ReceiptOut(many=True, source="receipts.all")

    def get_reason_label(self, line) -> str:
        return line.reason.label(_language())


class ExchangeLineOut(serializers.Serializer):
    sku = serializers.CharField()
    quantity = serializers.IntegerField()


class ReturnEventOut(serializers.Serializer):
    at = serializers.DateTimeField()
    by = serializers.CharField(source="actor_label")
    kind = serializers.CharField()
    status = serializers.CharField()
    message = serializers.CharField()


class RefundOut(serializers.Serializer):
    id = serializers.IntegerField()
    return_id = serializers.IntegerField(source="rma_id")
    order = serializers.IntegerField(source="order_id")
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    currency = serializers.CharField()
    method = serializers.ChoiceField(choices=RefundMethod.values)
    status = serializers.ChoiceField(choices=RefundStatus.values)
    credit_note = serializers.CharField(source="credit_note.number", allow_null=True, default=None)
    breakdown = serializers.JSONField(
        help_text="how the amount was reached: lines, shipping, promotions, return_shipping_fee, credit_note"
    )
    payment_reference = serializers.CharField()
    created_at = serializers.DateTimeField()
    settled_at = serializers.DateTimeField(allow_null=True)


class ReturnOut(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField(help_text="the RMA number, gap-free per tenant (RMA-000123)")
    status = serializers.ChoiceField(choices=ReturnStatus.values)
    order = serializers.IntegerField(source="order_id")
    order_number = serializers.CharField(source="order.number")
    channel = serializers.CharField(source="channel.code")
    method = serializers.ChoiceField(choices=ReturnMethod.values)
    outcome = serializers.CharField(help_text="refund, exchange, store_credit, or empty when not chosen")
    location = serializers.CharField(source="location.code", allow_null=True, default=None)
    comment = serializers.CharField()
    auto_approved = serializers.BooleanField()
    decision_reason = serializers.CharField()
    requested_by = serializers.CharField()
    requested_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    lines = ReturnLineOut(many=True, source="lines.all")
    exchange_lines = ExchangeLineOut(many=True, source="exchange_lines.all")
    exchange_order = serializers.IntegerField(source="exchange_order_id", allow_null=True)
    exchange_order_number = serializers.CharField(source="exchange_order.number", allow_null=True, default=None)
    amount_due = serializers.DecimalField(
        max_digits=14, decimal_places=2, help_text="what the customer owes for an exchange worth more"
    )
    refunds = RefundOut(many=True, source="refunds.all")
    timeline = ReturnEventOut(many=True, source="events.all")
    slip = serializers.SerializerMethodField(help_text="the printable return slip (PDF)")

    def get_slip(self, rma) -> str:
        return f"/api/v1/returns/{rma.id}/slip.pdf"


class ReasonOut(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.SerializerMethodField(help_text="in the request's language (English or French)")
    label_en = serializers.CharField()
    label_fr = serializers.CharField()
    customer_pays_shipping = serializers.BooleanField()
    active = serializers.BooleanField()
    position = serializers.IntegerField()

    def get_label(self, reason) -> str:
        return reason.label(_language())


# --- input ------------------------------------------------------------------------------------------------


class ReturnLineIn(StrictInput, serializers.Serializer):
    order_line = serializers.IntegerField(min_value=1, max_value=2**63 - 1, help_text="the order line's id")
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_UNITS)
    reason = serializers.SlugField(max_length=40, help_text="a return reason's code (GET return-reasons/)")


class ExchangeLineIn(StrictInput, serializers.Serializer):
    sku = sku_field()
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_UNITS)


class ReturnIn(StrictInput, serializers.Serializer):
    order = serializers.IntegerField(min_value=1, max_value=2**63 - 1, help_text="the order's id")
    method = serializers.ChoiceField(choices=ReturnMethod.values, help_text="mail, or store (at a counter)")
    lines = ReturnLineIn(many=True, allow_empty=False, max_length=MAX_LINES)
    comment = serializers.CharField(max_length=2000, required=False, default="", allow_blank=True)
    outcome = serializers.ChoiceField(choices=ReturnOutcome.values, required=False, default="")
    exchange_lines = ExchangeLineIn(
        many=True, required=False, allow_empty=False, max_length=MAX_LINES, help_text="for an exchange only"
    )
    location = code_field(
        required=False,
        default="",
        help_text="the store taking the return back (a location that accepts returns); a store clerk's own store",
    )


class ReceiptLineIn(StrictInput, serializers.Serializer):
    order_line = serializers.IntegerField(min_value=1, max_value=2**63 - 1, help_text="the order line's id")
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_UNITS)
    disposition = serializers.ChoiceField(
        choices=Disposition.values,
        help_text="restock (sellable again), damaged (kept apart), write_off, to_vendor (held for the vendor)",
    )


class ReceiveIn(StrictInput, serializers.Serializer):
    location = code_field(help_text="where the units arrived: a location that accepts returns")
    lines = ReceiptLineIn(many=True, allow_empty=False, max_length=MAX_LINES)


class CloseIn(StrictInput, serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)


class SettleIn(StrictInput, serializers.Serializer):
    reference = serializers.CharField(max_length=120, help_text="the payment side's reference of the refund")


class RejectIn(StrictInput, serializers.Serializer):
    reason = serializers.CharField(max_length=500, help_text="why the return is rejected")


class CancelIn(StrictInput, serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)


class ReasonPatchIn(StrictInput, serializers.Serializer):
    label_en = serializers.CharField(max_length=120, required=False)
    label_fr = serializers.CharField(max_length=120, required=False)
    customer_pays_shipping = serializers.BooleanField(required=False)
    active = serializers.BooleanField(required=False, help_text="false: no longer offered")
    position = serializers.IntegerField(min_value=0, max_value=1_000_000, required=False)


class ReasonIn(ReasonPatchIn):
    code = serializers.SlugField(max_length=40)
    label_en = serializers.CharField(max_length=120)
    label_fr = serializers.CharField(max_length=120)


# --- returns ----------------------------------------------------------------------------------------------


RETURN_QUERY = {
    "status": forms.ChoiceField(choices=ReturnStatus.choices, required=False),
    "order": IdField(required=False, label="an order's id"),
    "channel": forms.CharField(required=False, max_length=40, label="a channel's code"),
}


def _return_now(request, pk: int, status: int = 200, headers=None) -> Response:
    rma = selectors.return_detail(scope=scope_of(request), return_id=pk)
    return Response(ReturnOut(rma).data, status=status, headers=headers)


class ReturnListCreate(APIView):
    access = "returns"
    pagination_class = StableCursorPagination

    @extend_schema(parameters=query_parameters(RETURN_QUERY), responses=ReturnOut(many=True))
    def get(self, request):
        query = read_query(request, RETURN_QUERY)
        queryset = selectors.return_list(
            scope=scope_of(request), status=query["status"], order=query["order"], channel=query["channel"]
        )
        return paginated(self, request, queryset, ReturnOut)

    @extend_schema(request=ReturnIn, responses={201: ReturnOut})
    @idempotent
    def post(self, request):
        data = _parse(ReturnIn, request.data)
        rma = services.request_return(
            scope=scope_of(request),
            order_id=data["order"],
            method=data["method"],
            lines=[
                services.LineRequest(item["order_line"], item["quantity"], item["reason"]) for item in data["lines"]
            ],
            comment=data["comment"],
            outcome=data["outcome"],
            exchange_lines=[
                services.ExchangeRequest(item["sku"], item["quantity"]) for item in data.get("exchange_lines", [])
            ],
            location=data["location"],
        )
        return _return_now(request, rma.id, status=201, headers={"Location": f"/api/v1/returns/{rma.id}/"})


class ReturnDetail(APIView):
    access = "returns"

    @extend_schema(responses=ReturnOut)
    def get(self, request, pk: int):
        return _return_now(request, pk)


def _visible(request, pk: int):
    """The lookup comes first (404), then the body."""
    scope = scope_of(request)
    selectors.return_detail(scope=scope, return_id=pk)
    return scope


class _Empty(StrictInput, serializers.Serializer):
    pass


class ReturnApprove(APIView):
    access = "return_decisions"

    @extend_schema(request=None, responses=ReturnOut)
    @idempotent
    def post(self, request, pk: int):
        scope = _visible(request, pk)
        _parse(_Empty, request.data)
        services.approve_return(scope=scope, return_id=pk)
        return _return_now(request, pk)


class ReturnReject(APIView):
    access = "return_decisions"

    @extend_schema(request=RejectIn, responses=ReturnOut)
    @idempotent
    def post(self, request, pk: int):
        scope = _visible(request, pk)
        data = _parse(RejectIn, request.data)
        services.reject_return(scope=scope, return_id=pk, reason=data["reason"])
        return _return_now(request, pk)


class ReturnCancel(APIView):
    access = "returns"

    @extend_schema(request=CancelIn, responses=ReturnOut)
    @idempotent
    def post(self, request, pk: int):
        scope = _visible(request, pk)
        data = _parse(CancelIn, request.data)
        services.cancel_return(scope=scope, return_id=pk, reason=data["reason"])
        return _return_now(request, pk)


class ReturnReceive(APIView):
    access = "return_receipts"

    @extend_schema(request=ReceiveIn, responses=ReturnOut)
    @idempotent
    def post(self, request, pk: int):
        scope = _visible(request, pk)
        data = _parse(ReceiveIn, request.data)
        services.receive_return(
            scope=scope,
            return_id=pk,
            location=data["location"],
            lines=[
                services.ReceiptLine(item["order_line"], item["quantity"], item["disposition"])
                for item in data["lines"]
            ],
        )
        return _return_now(request, pk)


class ReturnClose(APIView):
    access = "return_receipts"

    @extend_schema(request=CloseIn, responses=ReturnOut)
    @idempotent
    def post(self, request, pk: int):
        scope = _visible(request, pk)
        data = _parse(CloseIn, request.data)
        services.close_return(scope=scope, return_id=pk, reason=data["reason"])
        return _return_now(request, pk)


class ReturnSlip(APIView):
    access = "returns"

    @extend_schema(responses={(200, "application/pdf"): bytes})
    def get(self, request, pk: int):
        rma = selectors.return_detail(scope=scope_of(request), return_id=pk)
        response = HttpResponse(render_slip_pdf(rma, language=_language()), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{rma.number}.pdf"'
        return response


# --- refunds ----------------------------------------------------------------------------------------------


REFUND_QUERY = {
    "status": forms.ChoiceField(choices=RefundStatus.choices, required=False),
    "method": forms.ChoiceField(choices=RefundMethod.choices, required=False),
    "order": IdField(required=False, label="an order's id"),
    "return": IdField(required=False, label="a return's id"),
}


class RefundList(APIView):
    access = "refunds"
    pagination_class = StableCursorPagination

    @extend_schema(parameters=query_parameters(REFUND_QUERY), responses=RefundOut(many=True))
    def get(self, request):
        query = read_query(request, REFUND_QUERY)
        queryset = selectors.refund_list(
            scope=scope_of(request),
            status=query["status"],
            method=query["method"],
            order=query["order"],
            return_id=query["return"],
        )
        return paginated(self, request, queryset, RefundOut)


class RefundDetail(APIView):
    access = "refunds"

    @extend_schema(responses=RefundOut)
    def get(self, request, pk: int):
        return Response(RefundOut(selectors.refund_detail(scope=scope_of(request), refund_id=pk)).data)


class RefundSettle(APIView):
    access = "refund_settlement"

    @extend_schema(request=SettleIn, responses=RefundOut)
    @idempotent
    def post(self, request, pk: int):
        scope = scope_of(request)
        selectors.refund_detail(scope=scope, refund_id=pk)
        data = _parse(SettleIn, request.data)
        services.settle_refund(scope=scope, refund_id=pk, reference=data["reference"])
        return Response(RefundOut(selectors.refund_detail(scope=scope, refund_id=pk)).data)


# --- the tenant's return policy ---------------------------------------------------------------------------


class AutoApprovalRules(StrictInput, serializers.Serializer):
    enabled = serializers.BooleanField(required=False, help_text="approve matching requests at once")
    max_amount = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=0,
        required=False,
        allow_null=True,
        help_text="at most this value of units asked back (null: any amount)",
    )
    within_days = serializers.IntegerField(
        min_value=0,
        max_value=3650,
        required=False,
        allow_null=True,
        help_text="asked within this many days of delivery (null: anywhere in the window)",
    )
    excluded_reasons = serializers.ListField(
        child=serializers.SlugField(max_length=40),
        max_length=100,
        required=False,
        help_text="a request giving one of these reasons waits for a person",
    )


class MoneyRules(StrictInput, serializers.Serializer):
    refund_shipping = serializers.ChoiceField(
        choices=tenant_settings.REFUND_SHIPPING_RULES,
        required=False,
        help_text="at_fault: the order's shipping comes back with the first return giving a reason the customer "
        "does not pay shipping for; always: with the first return; never",
    )
    return_shipping_fee = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=0,
        required=False,
        help_text="taken from the refund of a return by mail whose reasons the customer pays shipping for",
    )
    exchange_ships = serializers.ChoiceField(
        choices=tenant_settings.EXCHANGE_SHIPS,
        required=False,
        help_text="on_receipt: the replacement waits for the returned items; at_once",
    )


class ReturnPolicyIn(StrictInput, serializers.Serializer):
    auto_approval = AutoApprovalRules(required=False)
    money = MoneyRules(required=False)


class ReturnPolicyOut(serializers.Serializer):
    auto_approval = serializers.DictField(help_text="enabled, max_amount, within_days, excluded_reasons")
    money = serializers.DictField(help_text="refund_shipping, return_shipping_fee, exchange_ships")


def _plain(values: dict) -> dict:
    """Amounts as strings, as Tenant.settings (JSON) keeps them."""
    return {key: str(value) if isinstance(value, Decimal) else value for key, value in values.items()}


class ReturnPolicy(APIView):
    access = "return_policy"

    @extend_schema(responses=ReturnPolicyOut)
    def get(self, request):
        read_query(request, {})
        return Response(ReturnPolicyOut(tenant_settings.return_policy(scope_of(request).tenant)).data)

    @extend_schema(request=ReturnPolicyIn, responses=ReturnPolicyOut)
    def put(self, request):
        scope = scope_of(request)
        data = _parse(ReturnPolicyIn, request.data)
        policy = tenant_settings.update_return_policy(
            tenant=scope.tenant,
            actor=scope.actor,
            auto_approval=_plain(data["auto_approval"]) if "auto_approval" in data else None,
            money=_plain(data["money"]) if "money" in data else None,
        )
        return Response(ReturnPolicyOut(policy).data)


# --- reasons ----------------------------------------------------------------------------------------------


class ReasonListOut(serializers.Serializer):
    results = ReasonOut(many=True, help_text="every reason of the tenant, in the order they are offered")


class ReasonListCreate(APIView):
    access = "return_reasons"

    @extend_schema(responses=ReasonListOut)
    def get(self, request):
        read_query(request, {})
        listed = reasons.reason_list(tenant=scope_of(request).tenant)
        return Response(ReasonListOut({"results": listed}).data)

    @extend_schema(request=ReasonIn, responses={201: ReasonOut})
    @idempotent
    def post(self, request):
        scope = scope_of(request)
        data = _parse(ReasonIn, request.data)
        reason = reasons.create_reason(tenant=scope.tenant, actor=scope.actor, **data)
        return Response(
            ReasonOut(reason).data, status=201, headers={"Location": f"/api/v1/return-reasons/{reason.code}/"}
        )


class ReasonDetail(APIView):
    access = "return_reasons"

    @extend_schema(responses=ReasonOut)
    def get(self, request, code: str):
        return Response(ReasonOut(reasons.reason_by_code(tenant=scope_of(request).tenant, code=code)).data)

    @extend_schema(request=ReasonPatchIn, responses=ReasonOut)
    def patch(self, request, code: str):
        scope = scope_of(request)
        reasons.reason_by_code(tenant=scope.tenant, code=code)
        data = _parse(ReasonPatchIn, request.data)
        reason = reasons.update_reason(tenant=scope.tenant, actor=scope.actor, code=code, **data)
        return Response(ReasonOut(reason).data)
