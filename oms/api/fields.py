"""Serializer fields and input rules shared by the apps' APIs."""

from collections.abc import Mapping

from django.utils.dateparse import parse_datetime
from rest_framework import serializers


class AwareDateTimeField(serializers.DateTimeField):
    """A date and time that names its offset (`Z`, `+01:00`): without one, it could be any of 24 instants, and
    reading it as UTC would shift a Paris store's count or a marketplace's order date by an hour or two."""

    default_error_messages = {
        "naive": "Give the time with its offset, e.g. 2026-11-26T14:30:00+01:00 or 2026-11-26T13:30:00Z."
    }

    def to_internal_value(self, value):
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value.strip())
            except ValueError:  # well formed, but no date: minute 60, February 30th
                self.fail("invalid", format="YYYY-MM-DDThh:mm[:ss[.uuuuuu]]+hh:mm")
            if parsed is not None and parsed.tzinfo is None:
                self.fail("naive")
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
