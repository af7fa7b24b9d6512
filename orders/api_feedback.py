"""Satisfaction responses through the API: the shop records its customer's score and comment, reads it back, or
asks for the signed link it sends the customer to answer without an account (orders.services.feedback holds the
rules)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from oms.api.fields import StrictInput
from oms.api.idempotency import idempotent
from oms.api.scope import scope_of
from orders import selectors, services
from orders.api import parse
from orders.models import FEEDBACK_COMMENT_MAX_LENGTH, FEEDBACK_SCORES, FeedbackSource


class FeedbackIn(StrictInput, serializers.Serializer):
    score = serializers.IntegerField(
        min_value=FEEDBACK_SCORES[0],
        max_value=FEEDBACK_SCORES[-1],
        help_text="from 1 (very dissatisfied) to 5 (very satisfied)",
    )
    comment = serializers.CharField(
        max_length=FEEDBACK_COMMENT_MAX_LENGTH, required=False, default="", allow_blank=True
    )


class FeedbackOut(serializers.Serializer):
    order = serializers.IntegerField(source="order_id", help_text="the order's id")
    number = serializers.CharField(source="order.number", help_text="the order's number")
    score = serializers.IntegerField(help_text="from 1 (very dissatisfied) to 5 (very satisfied)")
    comment = serializers.CharField()
    source = serializers.ChoiceField(
        choices=FeedbackSource.values, help_text="`api`: sent by the shop; `link`: answered through the link"
    )
    created_at = serializers.DateTimeField()


class FeedbackLinkOut(serializers.Serializer):
    url = serializers.URLField(help_text="the page where the customer rates the order, no account needed")
    expires_at = serializers.DateTimeField(help_text="the link opens the page until then")


class OrderFeedback(APIView):
    """The order's satisfaction response: one per order, once something of it reached the customer."""

    access = "feedback"

    @extend_schema(
        summary="Read an order's satisfaction response",
        description="404 while the order has none.",
        responses=FeedbackOut,
    )
    def get(self, request, pk: int):
        return Response(FeedbackOut(selectors.order_feedback(scope=scope_of(request), order_id=pk)).data)

    @extend_schema(
        summary="Record an order's satisfaction response",
        description="The customer's score and comment, as the shop collected them. One response per order: a second "
        "answers 409 `feedback_exists`. Only for an order with units shipped, collected or sold in store: before, "
        "409 `order_not_received`. Emits `order.feedback_received`.",
        request=FeedbackIn,
        responses={201: FeedbackOut},
    )
    @idempotent
    def post(self, request, pk: int):
        scope = scope_of(request)
        selectors.require_order(scope=scope, order_id=pk)  # 404 before the body
        data = parse(FeedbackIn, request.data)
        feedback = services.record_feedback(
            scope=scope, order_id=pk, score=data["score"], comment=data["comment"], source=FeedbackSource.API
        )
        return Response(FeedbackOut(feedback).data, status=201, headers={"Location": f"/api/v1/orders/{pk}/feedback/"})


class OrderFeedbackLink(APIView):
    access = "feedback_links"

    @extend_schema(
        summary="A link for the customer to rate the order",
        description="A signed address the shop sends its customer (by e-mail, on the receipt): it opens a page, in "
        "English or French, where they rate the order from 1 to 5 and may leave a comment, without an account. Valid "
        "60 days; each call signs a new one, and every one of them leads to the order's one response.",
        responses=FeedbackLinkOut,
    )
    def get(self, request, pk: int):
        url, expires_at = services.feedback_link(scope=scope_of(request), order_id=pk)
        return Response(FeedbackLinkOut({"url": url, "expires_at": expires_at}).data)
