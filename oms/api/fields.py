"""Serializer fields shared by the apps' APIs."""
from django.utils.dateparse import parse_datetime
from rest_framework import serializers


class AwareDateTimeField(serializers.DateTimeField):
    """A date and time that names its offset (`Z`, `+01:00`): without one, it could be any of 24 instants, and
    reading it as UTC would shift a Paris store's count or a marketplace's order date by an hour or two."""

    default_error_messages = {
        "naive": "Give the time with its offset, e.g. 2026-11-26T14:30:00+01:00 or 2026-11-26T13:30:00Z."}

    def to_internal_value(self, value):
        if isinstance(value, str):
            parsed = parse_datetime(value.strip())
            if parsed is not None and parsed.tzinfo is None:
                self.fail("naive")
        return super().to_internal_value(value)
