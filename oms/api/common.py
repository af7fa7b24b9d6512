"""What every list endpoint shares: query parameters (filters) read and documented from one definition, and
pagination. Who the caller acts for is oms.api.scope."""

from django import forms
from drf_spectacular.utils import OpenApiParameter
from rest_framework.settings import api_settings

from oms.api.filters import CodeListFilter, IdField, InstantField
from oms.digits import ID_DIGITS
from oms.errors import ValidationFailed

EMPTY_VALUE = "Give a value, or leave the parameter out."


def query_parameters(fields: dict[str, forms.Field], descriptions: dict[str, str] | None = None) -> list:
    """Query parameters, typed as the form fields that read them (read_query), for @extend_schema(parameters=...)."""
    descriptions = descriptions or {}
    parameters = []
    for name, field in fields.items():
        many = isinstance(field, forms.MultipleChoiceField)
        parameters.append(
            OpenApiParameter(
                name,
                _schema_of(field),
                OpenApiParameter.QUERY,
                description=descriptions.get(name) or str(field.label or ""),
                style="form" if many else None,
                explode=True if many else None,
            )
        )
    return parameters


def _schema_of(field: forms.Field) -> dict:
    if isinstance(field, forms.ChoiceField):
        values = [str(value) for value, _ in field.choices if value != ""]
        schema = {"type": "string", "enum": values}
        return {"type": "array", "items": schema} if isinstance(field, forms.MultipleChoiceField) else schema
    if isinstance(field, IdField):
        return {"type": "integer", "minimum": 1, "maximum": int("9" * ID_DIGITS)}
    if isinstance(field, InstantField):
        return {"type": "string", "format": "date-time"}
    if isinstance(field, forms.DateField):
        return {"type": "string", "format": "date"}
    return {"type": "string"}


def read_query(request, fields: dict[str, forms.Field]) -> dict:
    """The query parameters `fields` name, cleaned; a 400 naming each malformed one. A typed parameter given
    empty (`?status=`) is malformed: it is no value of its type."""
    form = forms.Form(data=request.query_params)
    form.fields = {name: field for name, field in fields.items()}
    errors = _empty_typed(request, fields)
    if not form.is_valid():
        errors.update({name: [str(m) for m in messages] for name, messages in form.errors.items()})
    if errors:
        raise ValidationFailed(errors=errors)
    return form.cleaned_data


def _empty_typed(request, fields) -> dict:
    return {
        name: [EMPTY_VALUE]
        for name, field in fields.items()
        if not _free_text(field) and name in request.query_params and not any(request.query_params.getlist(name))
    }


def _free_text(field) -> bool:
    return isinstance(field, forms.CharField) and not isinstance(field, IdField | InstantField)


def filter_fields(filterset_class) -> dict[str, forms.Field]:
    return {name: f.field for name, f in filterset_class.base_filters.items()}


def filter_parameters(filterset_class) -> list:
    """The FilterSet's filters as OpenAPI query parameters, typed as each filter reads them."""
    codes = {
        name: f"{f.label or name}: one code, or several separated by commas."
        for name, f in filterset_class.base_filters.items()
        if isinstance(f, CodeListFilter)
    }
    return query_parameters(filter_fields(filterset_class), codes)


def filtered(filterset_class, request, queryset):
    filterset = filterset_class(request.query_params, queryset=queryset, request=request)
    errors = _empty_typed(request, filter_fields(filterset_class))
    if not filterset.is_valid():
        errors.update({name: [str(m) for m in messages] for name, messages in filterset.errors.items()})
    if errors:
        raise ValidationFailed(errors=errors)
    return filterset.qs


def paginated(view, request, queryset, serializer_class):
    """A page of the list with the project's cursor pagination (stable, newest first)."""
    paginator = (getattr(view, "pagination_class", None) or api_settings.DEFAULT_PAGINATION_CLASS)()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)
