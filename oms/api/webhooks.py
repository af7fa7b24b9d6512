"""Webhook subscriptions: GET/POST /api/v1/webhooks/, GET/PATCH/DELETE /api/v1/webhooks/{id}/, deliveries.

A channel-bound API key acts for its channel: what it creates is bound to that channel, and it sees and changes
that channel's subscriptions only (another's id answers 404, like a foreign one).
"""

from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from oms import webhooks
from oms.actors import actor_from_request
from oms.api.fields import StrictInput
from oms.api.idempotency import idempotent
from oms.api.pagination import StableCursorPagination
from oms.api.scope import scope_of
from oms.events import KNOWN_EVENTS

# The form oms.webhooks._url_error accepts, for the schema: http(s), a host, a port in range, no credentials, no
# fragment, no spaces or control characters.
HTTP_URL = RegexValidator(
    r"^[Hh][Tt][Tt][Pp][Ss]?://[^\s\u0000-\u001f/?#@:\[\]]+"
    r"(:([0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?"
    r"([/?][^\s\u0000-\u001f#]*)?$",
    "Use an absolute http:// or https:// URL.",
)


@extend_schema_field({"type": "array", "minItems": 1, "items": {"type": "string", "enum": [*KNOWN_EVENTS, "*"]}})
class TopicsField(serializers.ListField):
    """The schema lists the topics a subscription may name; oms.webhooks checks them and names the unknown ones."""

    def __init__(self, **kwargs):
        super().__init__(child=serializers.CharField(max_length=80), allow_empty=False, **kwargs)


SET_BY_OMS = frozenset({"id", "secret", "tenant", "channel", "created_at", "updated_at"})


class SubscriptionIn(StrictInput, serializers.Serializer):
    server_fields = SET_BY_OMS
    url = serializers.CharField(max_length=1000, validators=[HTTP_URL])
    events = TopicsField()
    description = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    active = serializers.BooleanField(required=False, default=True)


class SubscriptionPatchIn(StrictInput, serializers.Serializer):
    server_fields = SET_BY_OMS
    at_least_one_field = True
    url = serializers.CharField(max_length=1000, required=False, validators=[HTTP_URL])
    events = TopicsField(required=False)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    active = serializers.BooleanField(required=False)

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError("Give at least one of url, events, description, active.")
        return attrs


class SubscriptionOut(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.CharField()
    events = serializers.ListField(child=serializers.CharField())
    description = serializers.CharField()
    active = serializers.BooleanField()
    channel = serializers.CharField(
        source="channel.code",
        allow_null=True,
        default=None,
        help_text="The channel whose events it receives; null: every event.",
    )
    created_at = serializers.DateTimeField()


class SubscriptionCreatedOut(SubscriptionOut):
    secret = serializers.CharField(help_text="Shown once: keep it to verify signatures.")


class AttemptOut(serializers.Serializer):
    number = serializers.IntegerField()
    at = serializers.DateTimeField()
    status_code = serializers.IntegerField(allow_null=True)
    error = serializers.CharField()
    duration_ms = serializers.IntegerField()


class DeliveryOut(serializers.Serializer):
    id = serializers.IntegerField()
    event_id = serializers.UUIDField(source="event.event_id")
    event = serializers.CharField(source="event.topic")
    status = serializers.CharField()
    attempts = serializers.IntegerField()
    next_attempt_at = serializers.DateTimeField()
    last_status_code = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField()
    delivered_at = serializers.DateTimeField(allow_null=True)
    attempt_log = AttemptOut(many=True)


def _page(view, request, queryset, serializer_class):
    paginator = view.pagination_class()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


class WebhookListCreate(APIView):
    access = "webhooks"
    pagination_class = StableCursorPagination

    @extend_schema(responses=SubscriptionOut(many=True))
    def get(self, request):
        subscriptions = webhooks.subscription_list(tenant=request.tenant, channel=scope_of(request).channel)
        return _page(self, request, subscriptions, SubscriptionOut)

    @extend_schema(request=SubscriptionIn, responses={201: SubscriptionCreatedOut})
    @idempotent
    def post(self, request):
        data = SubscriptionIn(data=request.data)
        data.is_valid(raise_exception=True)
        subscription = webhooks.create_subscription(
            tenant=request.tenant,
            actor=actor_from_request(request),
            channel=scope_of(request).channel,
            **data.validated_data,
        )
        return Response(SubscriptionCreatedOut(subscription).data, status=201)


class WebhookDetail(APIView):
    access = "webhooks"

    @extend_schema(responses=SubscriptionOut)
    def get(self, request, pk: int):
        subscription = webhooks.subscription_detail(
            tenant=request.tenant, subscription_id=pk, channel=scope_of(request).channel
        )
        return Response(SubscriptionOut(subscription).data)

    @extend_schema(request=SubscriptionPatchIn, responses=SubscriptionOut)
    def patch(self, request, pk: int):
        """Change `active`, `events`, `url` or `description` (validated as on creation); the secret stays."""
        # Another tenant's (or channel's) subscription is a 404 before the body is read.
        webhooks.subscription_detail(tenant=request.tenant, subscription_id=pk, channel=scope_of(request).channel)
        data = SubscriptionPatchIn(data=request.data)
        data.is_valid(raise_exception=True)
        subscription = webhooks.update_subscription(
            tenant=request.tenant,
            actor=actor_from_request(request),
            subscription_id=pk,
            changes=data.validated_data,
            channel=scope_of(request).channel,
        )
        return Response(SubscriptionOut(subscription).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        webhooks.delete_subscription(
            tenant=request.tenant,
            actor=actor_from_request(request),
            subscription_id=pk,
            channel=scope_of(request).channel,
        )
        return Response(status=204)


class WebhookDeliveries(APIView):
    access = "webhooks"
    pagination_class = StableCursorPagination

    @extend_schema(responses=DeliveryOut(many=True))
    def get(self, request, pk: int):
        deliveries = webhooks.delivery_list(
            tenant=request.tenant, subscription_id=pk, channel=scope_of(request).channel
        )
        return _page(self, request, deliveries, DeliveryOut)
