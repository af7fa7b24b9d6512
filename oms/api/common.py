"""What every list endpoint shares: filtering and pagination. Who the caller acts for is oms.api.scope."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.settings import api_settings

from oms.errors import ValidationFailed


def filter_parameters(filterset_class) -> list:
    """The FilterSet's filters as OpenAPI query parameters, for @extend_schema(parameters=...)."""
    return [
        OpenApiParameter(
            name, OpenApiTypes.STR, OpenApiParameter.QUERY, description=str(getattr(f, "label", "") or f.field_name)
        )
        for name, f in filterset_class.base_filters.items()
    ]


def filtered(filterset_class, request, queryset):
    filterset = filterset_class(request.query_params, queryset=queryset, request=request)
    if not filterset.is_valid():
        raise ValidationFailed(errors={name: [str(m) for m in messages] for name, messages in filterset.errors.items()})
    return filterset.qs


def paginated(view, request, queryset, serializer_class):
    """A page of the list with the project's cursor pagination (stable, newest first)."""
    paginator = (getattr(view, "pagination_class", None) or api_settings.DEFAULT_PAGINATION_CLASS)()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)
