"""Filters every list endpoint may use. A malformed filter value is a 400 naming the filter."""

import django_filters
from django import forms

from oms.api.fields import parse_instant
from oms.digits import ID_DIGITS, whole_number

BOOLEAN_CHOICES = (("true", "true"), ("false", "false"), ("1", "1"), ("0", "0"))


def _truthy(value: str) -> bool:
    return value in ("true", "1")


class StrictBooleanFilter(django_filters.TypedChoiceFilter):
    """true/false (or 1/0); anything else is refused instead of silently ignored."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, choices=BOOLEAN_CHOICES, coerce=_truthy, **kwargs)


class CodeListFilter(django_filters.CharFilter):
    """One value or several, comma-separated: `?sku=A,B`."""

    def filter(self, qs, value):
        if not value:
            return qs
        values = [v.strip() for v in value.split(",") if v.strip()]
        return qs.filter(**{f"{self.field_name}__in": values}) if values else qs


class IdField(forms.CharField):
    def clean(self, value):
        value = super().clean(value)
        if value in (None, ""):
            return None
        number = whole_number(value, max_digits=ID_DIGITS)
        if number is None or number < 1:
            raise forms.ValidationError("An id: a whole number from 1.")
        return number


class IdFilter(django_filters.Filter):
    """An object's id: ASCII digits only, bounded, so that `1.5`, `²` or 5,000 digits are a 400, not a 500."""

    field_class = IdField


class InstantField(forms.CharField):
    def clean(self, value):
        value = super().clean(value)
        if value in (None, ""):
            return None
        try:
            return parse_instant(value, clamp=True)
        except ValueError as refused:
            raise forms.ValidationError(str(refused)) from None


class AwareDateTimeFilter(django_filters.Filter):
    """An instant with its offset, read as oms.api.fields.AwareDateTimeField reads one in a body."""

    field_class = InstantField
