"""Stock levels (GET /api/v1/inventory/), reservations (/api/v1/reservations/) and available-to-promise
(GET /api/v1/availability/)."""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory import selectors, services
from inventory.availability import channel_availability, locations_named, parse_skus, point_near
from inventory.filters import ReservationFilter, StockLevelFilter
from inventory.sourcing import channel_locations
from oms.api.common import filter_parameters, filtered, paginated
from oms.api.fields import StrictInput, sku_field
from oms.api.idempotency import idempotent
from oms.api.scope import scope_of
from oms.errors import NotFound


def _stock_scope(request) -> set | None:
    """Location ids a caller may see stock at: a clerk's stores, a channel key's pool; None for all."""
    scope = scope_of(request)
    if scope.store_ids is not None:
        return scope.store_ids
    if scope.channel is not None:
        return {loc.id for loc in channel_locations(tenant=request.tenant, channel=scope.channel)}
    return None


# --- stock levels ----------------------------------------------------------------------------------------


class LotOut(serializers.Serializer):
    lot = serializers.CharField(source="code")
    expires_on = serializers.DateField()
    on_hand = serializers.IntegerField()
    reserved = serializers.IntegerField()


class StockLevelOut(serializers.Serializer):
    sku = serializers.CharField(source="product.sku")
    location = serializers.CharField(source="location.code")
    on_hand = serializers.IntegerField()
    reserved = serializers.IntegerField()
    safety_stock = serializers.IntegerField()
    available = serializers.IntegerField(help_text="on_hand - reserved - safety_stock, floored at 0")
    non_sellable = serializers.IntegerField(
        help_text="units kept apart, never promised: returns received damaged or held for the vendor"
    )
    lots = serializers.SerializerMethodField(help_text="lot-tracked products: the lots, earliest expiry first")
    updated_at = serializers.DateTimeField()

    def get_lots(self, level) -> list:
        if not level.product.tracks_lots:
            return []
        return LotOut(level.lots.all(), many=True).data


class StockLevelList(APIView):
    access = "stock"

    @extend_schema(parameters=filter_parameters(StockLevelFilter), responses=StockLevelOut(many=True))
    def get(self, request):
        queryset = selectors.stock_level_list(tenant=request.tenant, location_ids=_stock_scope(request))
        return paginated(self, request, filtered(StockLevelFilter, request, queryset), StockLevelOut)


# --- reservations ----------------------------------------------------------------------------------------


class ReservationIn(StrictInput, serializers.Serializer):
    sku = sku_field()
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)
    channel = serializers.CharField(max_length=40, required=False, help_text="optional with a channel's key")
    location = serializers.CharField(
        max_length=40,
        required=False,
        help_text="reserve at this location; by default the first of the pool that holds the whole quantity",
    )
    ttl = serializers.IntegerField(
        min_value=1,
        max_value=services.MAX_RESERVATION_TTL,
        required=False,
        help_text="seconds; default: the channel's reservation_ttl",
    )
    reference = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")


class ReservedLotOut(serializers.Serializer):
    lot = serializers.CharField(source="lot.code")
    expires_on = serializers.DateField(source="lot.expires_on")
    quantity = serializers.IntegerField()


class ReservationOut(serializers.Serializer):
    id = serializers.IntegerField()
    sku = serializers.CharField(source="stock_level.product.sku")
    location = serializers.CharField(source="stock_level.location.code")
    channel = serializers.CharField(source="channel.code", allow_null=True, default=None)
    quantity = serializers.IntegerField()
    status = serializers.CharField()
    reference = serializers.CharField()
    expires_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)
    lots = ReservedLotOut(source="lot_allocations", many=True)


def _visible_reservation(request, reservation_id: int):
    queryset = selectors.reservation_list(scope=scope_of(request))
    reservation = queryset.filter(id=reservation_id).first()
    if reservation is None:
        raise NotFound("No such reservation.")
    return reservation


class ReservationListCreate(APIView):
    access = "reservations"

    @extend_schema(parameters=filter_parameters(ReservationFilter), responses=ReservationOut(many=True))
    def get(self, request):
        queryset = selectors.reservation_list(scope=scope_of(request))
        return paginated(self, request, filtered(ReservationFilter, request, queryset), ReservationOut)

    @extend_schema(request=ReservationIn, responses={201: ReservationOut})
    @idempotent
    def post(self, request):
        data = ReservationIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        scope = scope_of(request)
        reservation = services.hold_for_caller(
            scope=scope,
            channel=scope.channel_for(values.get("channel")),
            sku=values["sku"],
            quantity=values["quantity"],
            location_code=values.get("location") or "",
            ttl_seconds=values.get("ttl"),
            reference=values["reference"],
        )
        reservation = _visible_reservation(request, reservation.id)
        return Response(
            ReservationOut(reservation).data, status=201, headers={"Location": f"{request.path}{reservation.id}/"}
        )


class ReservationDetail(APIView):
    access = "reservations"

    @extend_schema(responses=ReservationOut)
    def get(self, request, pk: int):
        return Response(ReservationOut(_visible_reservation(request, pk)).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        """Release the hold; releasing one already released or expired changes nothing and answers 204 too."""
        services.release_hold(tenant=request.tenant, reservation=_visible_reservation(request, pk))
        return Response(status=204)


# --- available-to-promise --------------------------------------------------------------------------------

MAX_LISTED_STORES = 1000


class AvailabilityQuery(serializers.Serializer):
    skus = serializers.CharField(help_text="comma-separated, at most 100")
    channel = serializers.CharField(max_length=40, required=False, help_text="required unless the key is a channel's")
    location = serializers.CharField(required=False, help_text="comma-separated location codes to list")
    postal_code = serializers.CharField(max_length=10, required=False, help_text="French postal code: nearest first")
    lat = serializers.FloatField(min_value=-90, max_value=90, required=False)
    lon = serializers.FloatField(min_value=-180, max_value=180, required=False)
    stores = serializers.IntegerField(
        min_value=0,
        max_value=MAX_LISTED_STORES,
        required=False,
        help_text="list at most this many locations per SKU: the nearest when a "
        "position (postal_code, lat/lon) is given, else the first in the "
        "pool's priority order (default: all; 0 lists none). The SKU's "
        "`available` still counts the whole pool.",
    )

    def validate(self, attrs):
        if ("lat" in attrs) != ("lon" in attrs):
            raise serializers.ValidationError({"lon" if "lat" in attrs else "lat": ["Give both lat and lon."]})
        return attrs


class PromiseOut(serializers.Serializer):
    earliest = serializers.DateField()
    latest = serializers.DateField()
    ready_at = serializers.DateTimeField(required=False, help_text="pickup: when the order is ready at the store")


@extend_schema_field(PromiseOut)
class PromiseField(serializers.JSONField):
    """The promise as fulfilment computed it (a dict of ISO strings, shared by every SKU it applies to): passed
    through as it is, a nested serializer per location and SKU being most of a large answer's time."""


class LocationAvailabilityOut(serializers.Serializer):
    location = serializers.CharField(source="location.code")
    name = serializers.CharField(source="location.name")
    pickup = serializers.BooleanField(source="location.pickup")
    available = serializers.IntegerField()
    distance_km = serializers.FloatField(allow_null=True)
    promise = PromiseField(
        allow_null=True,
        help_text="from this location: the delivery window, or for a pickup location the day the order is ready "
        "there (`ready_at`); null when the location has none of it or makes no promise",
    )

    def to_representation(self, item):
        # An answer lists up to every pool location for each of 100 SKUs: built directly (the values are already
        # of their declared types), DRF's per-field machinery being most of a large answer's time. The declared
        # fields above describe it in the schema; tests/inventory/test_availability.py holds the two together.
        location = item.location
        return {
            "location": location.code,
            "name": location.name,
            "pickup": location.pickup,
            "available": item.available,
            "distance_km": item.distance_km,
            "promise": item.promise,
        }


class SkuAvailabilityOut(serializers.Serializer):
    sku = serializers.CharField()
    available = serializers.IntegerField(help_text="network quantity for the channel, after its buffer")
    known = serializers.BooleanField(help_text="false for a SKU the catalog does not hold")
    locations = LocationAvailabilityOut(many=True)
    promise = PromiseField(
        allow_null=True,
        help_text="the delivery window for every unit `available` counts, to `postal_code` (metropolitan France "
        "without it): the latest of the shipping locations holding them; null when none can be made",
    )


class AvailabilityOut(serializers.Serializer):
    channel = serializers.CharField()
    allow_backorders = serializers.BooleanField(help_text="the channel takes orders beyond what is available")
    results = SkuAvailabilityOut(many=True)


class Availability(APIView):
    access = "stock"

    @extend_schema(parameters=[AvailabilityQuery], responses=AvailabilityOut)
    def get(self, request):
        query = AvailabilityQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        values = query.validated_data
        skus = parse_skus(values["skus"])
        scope = scope_of(request)
        channel = scope.channel_for(values.get("channel"))
        results = channel_availability(
            tenant=request.tenant,
            channel=channel,
            skus=skus,
            only_locations=locations_named(tenant=scope.tenant, codes=values.get("location") or ""),
            near=point_near(lat=values.get("lat"), lon=values.get("lon"), postal_code=values.get("postal_code") or ""),
            visible_location_ids=scope.store_ids,
            max_locations=values.get("stores"),
            postal_code=values.get("postal_code") or "",
        )
        return Response(
            AvailabilityOut(
                {"channel": channel.code, "allow_backorders": channel.allow_backorders, "results": results}
            ).data
        )
