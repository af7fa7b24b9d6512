"""Filters every list endpoint may use. A malformed filter value is a 400 naming the filter."""

import django_filters

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
