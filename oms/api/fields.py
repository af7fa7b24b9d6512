"""Serializer fields and input rules shared by the apps' APIs."""

from collections.abc import Mapping
from datetime import UTC, datetime

from django.core.validators import RegexValidator
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from oms.codes import BARCODE_PATTERN, CODE_HELP, CODE_PATTERN, SKU_HELP, SKU_PATTERN

NAIVE_TIME = "Give the time with its offset, e.g. 2026-11-26T14:30:00+01:00 or 2026-11-26T13:30:00Z."
BAD_TIME = "Give a date and time as YYYY-MM-DDThh:mm[:ss[.uuuuuu]]+hh:mm."
OUT_OF_RANGE_TIME = "The date and time falls outside the years 1 to 9999 once read in UTC."


def parse_instant(text: str, *, clamp: bool = False) -> datetime:
    """The instant a client wrote (with its offset, up to ±23:59 as RFC 3339 allows), in UTC: PostgreSQL refuses
    offsets past 15:59. ValueError naming what is wrong otherwise. With `clamp` (a filter's bound), an instant
    before the first one a date can hold is that first one."""
    try:
        parsed = parse_datetime(text.strip())
    except ValueError:  # well formed, but no date: minute 60, February 30th
        parsed = None
    if parsed is None:
        raise ValueError(BAD_TIME)
    if parsed.tzinfo is None:
        raise ValueError(NAIVE_TIME)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 or 9999-12-31T23:00-02:00 is past what a date can hold
        if not clamp:
            raise ValueError(OUT_OF_RANGE_TIME) from None
        return datetime.min.replace(tzinfo=UTC) if parsed.year == 1 else datetime.max.replace(tzinfo=UTC)


class AwareDateTimeField(serializers.DateTimeField):
    """A date and time that names its offset (`Z`, `+01:00`): without one, it could be any of 24 instants, and
    reading it as UTC would shift a Paris store's count or a marketplace's order date by an hour or two."""

    def to_internal_value(self, value):
        if isinstance(value, str):
            try:
                value = parse_instant(value)
            except ValueError as refused:
                raise serializers.ValidationError(str(refused)) from None
        return super().to_internal_value(value)


SET_BY_OMS = "This field is set by OMS and cannot be sent."
UNKNOWN_FIELD = "Unknown field."


# Input that refuses keys it does not declare, each named in `errors` (400): a misspelt optional field (`discont`)
# would otherwise be dropped without a word. Keys in `server_fields` are named as set by OMS. (A comment: the
# OpenAPI schema would describe every input with a docstring here.)
class StrictInput:
    server_fields: frozenset = frozenset()

    def to_internal_value(self, data):
        refused = {}
        if isinstance(data, Mapping):
            refused = {
                key: [SET_BY_OMS if key in self.server_fields else UNKNOWN_FIELD]
                for key in data
                if key not in self.fields
            }
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if refused and isinstance(exc.detail, dict):
                exc.detail.update(serializers.ValidationError(refused).detail)
            raise
        if refused:
            raise serializers.ValidationError(refused)
        return value


class StrictCharField(serializers.CharField):
    """A string, as the schema says, never a number made into one (DRF's CharField takes 1000 for "1000"): a postal
    code sent as a number has already lost its leading zero (01000 is 1000)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class UniqueListField(serializers.ListField):
    """A list whose items are all different: the schema says uniqueItems, the service names any duplicate."""


def sku_field(**kwargs) -> serializers.CharField:
    """A product's SKU, as inventory.services checks it; the schema carries the pattern."""
    return serializers.CharField(max_length=64, validators=[RegexValidator(SKU_PATTERN, SKU_HELP)], **kwargs)


def code_field(**kwargs) -> serializers.CharField:
    """A location's or channel's code."""
    return serializers.CharField(max_length=40, validators=[RegexValidator(CODE_PATTERN, CODE_HELP)], **kwargs)


BARCODE_HELP = "Not a valid EAN/GTIN: 8, 12, 13 or 14 digits with a correct check digit."


def barcode_field(**kwargs) -> serializers.CharField:
    """A GTIN (EAN-8, UPC-A, EAN-13, GTIN-14) or blank; the check digit is the service's to verify."""
    return serializers.CharField(
        max_length=14,
        allow_blank=True,
        validators=[RegexValidator(BARCODE_PATTERN, BARCODE_HELP)],
        **kwargs,
    )


@extend_schema_field({"type": "object", "additionalProperties": True})
class JsonObjectField(serializers.JSONField):
    """A JSON object the service reads key by key (and refuses, naming each, what it does not know)."""


def json_object_field(**kwargs) -> serializers.JSONField:
    return JsonObjectField(**kwargs)
