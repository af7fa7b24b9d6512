"""Channels: GET/POST /api/v1/channels/, GET/PATCH /api/v1/channels/{code}/.

`locations` is the sourcing pool, highest priority first; sending it on PATCH replaces the whole pool.
A channel's own API key sees its channel only and changes nothing here.
"""

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from channels import services
from channels.models import BufferKind, Channel, ChannelKind
from inventory.services import MAX_RESERVATION_TTL, MIN_RESERVATION_TTL
from oms.actors import actor_from_request
from oms.api.common import filter_parameters, filtered, paginated
from oms.api.fields import StrictInput, UniqueListField, code_field
from oms.api.filters import AwareDateTimeFilter, StrictBooleanFilter
from oms.api.idempotency import idempotent
from oms.api.scope import scope_of
from oms.errors import NotFound


class ChannelFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(field_name="kind", choices=ChannelKind.choices)
    active = StrictBooleanFilter(field_name="active")
    updated_after = AwareDateTimeFilter(field_name="updated_at", lookup_expr="gt")

    class Meta:
        model = Channel
        fields = []


class ChannelPatchIn(StrictInput, serializers.Serializer):
    """Every field optional; the code is the channel's address and never changes."""

    name = serializers.CharField(max_length=200, required=False)
    kind = serializers.ChoiceField(choices=ChannelKind.values, required=False)
    active = serializers.BooleanField(required=False)
    locations = UniqueListField(
        child=code_field(),
        required=False,
        max_length=500,
        help_text="sourcing pool: location codes, highest priority first",
    )
    buffer = serializers.IntegerField(min_value=0, max_value=1_000_000, required=False)
    buffer_kind = serializers.ChoiceField(choices=BufferKind.values, required=False)
    reservation_ttl = serializers.IntegerField(
        min_value=MIN_RESERVATION_TTL,
        max_value=MAX_RESERVATION_TTL,
        required=False,
        help_text="seconds a cart hold lasts (60 s to 7 days): every hold expires",
    )
    allow_backorders = serializers.BooleanField(required=False)
    min_shelf_life_days = serializers.IntegerField(min_value=0, max_value=3650, required=False)
    return_window_days = serializers.IntegerField(
        min_value=0,
        max_value=3650,
        required=False,
        help_text="days after delivery or collection during which a return may be requested (30 by default)",
    )


class ChannelIn(ChannelPatchIn):
    code = code_field()
    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=ChannelKind.values)


class ChannelOut(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=ChannelKind.values)
    active = serializers.BooleanField()
    locations = serializers.SerializerMethodField()
    buffer = serializers.IntegerField()
    buffer_kind = serializers.ChoiceField(choices=BufferKind.values)
    reservation_ttl = serializers.IntegerField()
    allow_backorders = serializers.BooleanField()
    min_shelf_life_days = serializers.IntegerField()
    return_window_days = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_locations(self, channel) -> list[str]:
        return services.pool_codes(channel)


def _scoped(request):
    return scope_of(request).narrow_to_channel(services.channels_with_pool(request.tenant), "pk")


class ChannelListCreate(APIView):
    access = "network"

    @extend_schema(parameters=filter_parameters(ChannelFilter), responses=ChannelOut(many=True))
    def get(self, request):
        return paginated(self, request, filtered(ChannelFilter, request, _scoped(request)), ChannelOut)

    @extend_schema(request=ChannelIn, responses={201: ChannelOut})
    @idempotent
    def post(self, request):
        scope_of(request).forbid_channel_key("create channels")
        data = ChannelIn(data=request.data)
        data.is_valid(raise_exception=True)
        channel = services.create_channel(
            tenant=request.tenant, actor=actor_from_request(request), **data.validated_data
        )
        return Response(ChannelOut(channel).data, status=201, headers={"Location": f"{request.path}{channel.code}/"})


class ChannelDetail(APIView):
    access = "network"

    def _channel(self, request, code: str):
        """The channel the URL names, looked up before any body is read: 404 for another tenant's."""
        channel = _scoped(request).filter(code=code).first()
        if channel is None:
            raise NotFound(f"No channel with code {code!r}.")
        return channel

    @extend_schema(responses=ChannelOut)
    def get(self, request, code: str):
        return Response(ChannelOut(self._channel(request, code)).data)

    @extend_schema(request=ChannelPatchIn, responses=ChannelOut)
    def patch(self, request, code: str):
        scope_of(request).forbid_channel_key("change channels")
        self._channel(request, code)
        data = ChannelPatchIn(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        channel = services.update_channel(
            tenant=request.tenant, actor=actor_from_request(request), code=code, changes=data.validated_data
        )
        return Response(ChannelOut(channel).data)
