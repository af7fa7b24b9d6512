"""Locations: GET/POST /api/v1/locations/, GET/PATCH /api/v1/locations/{code}/."""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory import selectors, services
from inventory.filters import LocationFilter
from inventory.models import LocationKind
from oms.actors import actor_from_request
from oms.api.common import filter_parameters, filtered, paginated
from oms.api.fields import StrictCharField, StrictInput, code_field
from oms.api.idempotency import idempotent
from oms.api.scope import scope_of
from oms.errors import NotFound

TIME_FORMATS = ["%H:%M", "%H:%M:%S"]


@extend_schema_field({"type": "string", "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"})
class LocalTimeField(serializers.TimeField):
    """A time of day on the location's clock, hh:mm or hh:mm:ss, with no offset."""

    def __init__(self, **kwargs):
        super().__init__(input_formats=TIME_FORMATS, **kwargs)


OPENING_TIME = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


def _openings(day: str):
    return serializers.ListField(
        child=serializers.ListField(
            child=serializers.RegexField(
                OPENING_TIME,
                help_text="HH:MM on the location's clock",
                error_messages={"invalid": "Give a time as HH:MM (24-hour clock), e.g. 09:00."},
            ),
            min_length=2,
            max_length=2,
        ),
        max_length=8,
        required=False,
        help_text=f'Openings on {day} as ["opens", "closes"] pairs; a day not given is closed.',
    )


class OpeningHoursIn(StrictInput, serializers.Serializer):
    """{"mon": [["09:00", "12:30"], ["14:00", "19:00"]], ...}: opens before closes is checked by the service."""

    mon = _openings("Monday")
    tue = _openings("Tuesday")
    wed = _openings("Wednesday")
    thu = _openings("Thursday")
    fri = _openings("Friday")
    sat = _openings("Saturday")
    sun = _openings("Sunday")


class LocationAddressIn(StrictInput, serializers.Serializer):
    name = StrictCharField(max_length=200, required=False, allow_blank=True)
    company = StrictCharField(max_length=200, required=False, allow_blank=True)
    line1 = StrictCharField(max_length=200, required=False, allow_blank=True)
    line2 = StrictCharField(max_length=200, required=False, allow_blank=True)
    postal_code = StrictCharField(
        max_length=20,
        required=False,
        allow_blank=True,
        help_text="used to find the nearest stores to a shopper's postal code",
    )
    city = StrictCharField(max_length=100, required=False, allow_blank=True)
    region = StrictCharField(max_length=100, required=False, allow_blank=True)
    country = serializers.RegexField(
        r"^[A-Z]{2}$", required=False, error_messages={"invalid": "Use an ISO 3166 code such as FR."}
    )
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)


class LocationPatchIn(StrictInput, serializers.Serializer):
    """Every field optional; the code is the location's address and never changes."""

    name = serializers.CharField(max_length=200, required=False)
    kind = serializers.ChoiceField(choices=LocationKind.values, required=False)
    address = LocationAddressIn(required=False)
    latitude = serializers.FloatField(min_value=-90, max_value=90, required=False, allow_null=True)
    longitude = serializers.FloatField(min_value=-180, max_value=180, required=False, allow_null=True)
    timezone = serializers.CharField(max_length=64, required=False)
    ships = serializers.BooleanField(required=False)
    pickup = serializers.BooleanField(required=False)
    accepts_returns = serializers.BooleanField(required=False)
    daily_capacity = serializers.IntegerField(min_value=0, max_value=10_000_000, required=False, allow_null=True)
    cutoff_time = LocalTimeField(required=False, allow_null=True)
    opening_hours = OpeningHoursIn(required=False)
    handling_days = serializers.IntegerField(
        min_value=0,
        max_value=60,
        required=False,
        help_text="working days of preparation before dispatch (0: dispatched the same day before the cut-off)",
    )
    holiday_subdivision = StrictCharField(
        max_length=10,
        required=False,
        allow_blank=True,
        help_text="whose public holidays apply besides the country's (e.g. 57, 67, 68: Alsace-Moselle)",
    )
    active = serializers.BooleanField(required=False)
    pickup_hold_days = serializers.IntegerField(
        min_value=1,
        max_value=90,
        required=False,
        allow_null=True,
        help_text="days a ready pickup order waits at this store; null: the tenant's default",
    )


class LocationIn(LocationPatchIn):
    code = code_field()
    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=LocationKind.values)


class LocationOut(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=LocationKind.values)
    address = serializers.DictField()
    latitude = serializers.FloatField(allow_null=True)
    longitude = serializers.FloatField(allow_null=True)
    timezone = serializers.CharField()
    ships = serializers.BooleanField()
    pickup = serializers.BooleanField()
    accepts_returns = serializers.BooleanField()
    daily_capacity = serializers.IntegerField(allow_null=True)
    cutoff_time = LocalTimeField(format="%H:%M", allow_null=True)
    opening_hours = serializers.DictField()
    handling_days = serializers.IntegerField()
    holiday_subdivision = serializers.CharField()
    active = serializers.BooleanField()
    pickup_hold_days = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


def _visible(request, location):
    """A store clerk sees only their stores: any other code answers 404, like one that does not exist."""
    if not scope_of(request).sees_location(location.id):
        raise NotFound(f"No location with code {location.code!r}.")
    return location


class LocationListCreate(APIView):
    access = "network"

    @extend_schema(parameters=filter_parameters(LocationFilter), responses=LocationOut(many=True))
    def get(self, request):
        queryset = selectors.location_list(tenant=request.tenant, location_ids=scope_of(request).store_ids)
        return paginated(self, request, filtered(LocationFilter, request, queryset), LocationOut)

    @extend_schema(request=LocationIn, responses={201: LocationOut})
    @idempotent
    def post(self, request):
        scope_of(request).forbid_channel_key("change the network")
        data = LocationIn(data=request.data)
        data.is_valid(raise_exception=True)
        location = services.create_location(
            tenant=request.tenant, actor=actor_from_request(request), **data.validated_data
        )
        return Response(LocationOut(location).data, status=201, headers={"Location": f"{request.path}{location.code}/"})


class LocationDetail(APIView):
    access = "network"

    @extend_schema(responses=LocationOut)
    def get(self, request, code: str):
        location = _visible(request, services.location_by_code(tenant=request.tenant, code=code))
        return Response(LocationOut(location).data)

    @extend_schema(request=LocationPatchIn, responses=LocationOut)
    def patch(self, request, code: str):
        scope_of(request).forbid_channel_key("change the network")
        _visible(request, services.location_by_code(tenant=request.tenant, code=code))  # 404 before the body
        data = LocationPatchIn(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        location = services.update_location(
            tenant=request.tenant, actor=actor_from_request(request), code=code, changes=data.validated_data
        )
        return Response(LocationOut(location).data)
