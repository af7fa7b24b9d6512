"""What every endpoint shares: who the caller acts for, filtering and pagination."""
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.settings import api_settings

from oms.errors import NotFound, PermissionDenied, ValidationFailed
from oms.models import Role
from oms.sales_channels import find_channel


def bound_channel(request):
    """The channel a channel-bound API key acts for, or None."""
    api_key = getattr(request, "api_key", None)
    return api_key.channel if api_key is not None and api_key.channel_id else None


def forbid_channel_key(request, what: str) -> None:
    """A sales channel's key reads the catalog and network; it never changes them."""
    channel = bound_channel(request)
    if channel is not None:
        raise PermissionDenied(f"The API key of channel {channel.code} cannot {what}.")


def clerk_location_ids(request) -> set | None:
    """The store locations a store clerk is bound to (they see only those), or None for everyone else."""
    membership = getattr(request, "membership", None)
    if membership is not None and membership.role == Role.STORE_CLERK:
        return {loc.id for loc in membership.locations.all()}
    return None


def channel_for(request, code: str | None):
    """The channel a call acts for: a bound key's own channel, or the one named by an unbound caller."""
    bound = bound_channel(request)
    code = (code or "").strip()
    if bound is not None:
        if code and code != bound.code:
            raise PermissionDenied(f"This API key acts for channel {bound.code} only.")
        return bound
    if not code:
        raise ValidationFailed(errors={"channel": ["Name the channel (its code): this caller is not bound to one."]})
    channel = find_channel(tenant=request.tenant, code=code)
    if channel is None:
        raise NotFound(f"No channel with code {code!r}.")
    return channel


def filter_parameters(filterset_class) -> list:
    """The FilterSet's filters as OpenAPI query parameters, for @extend_schema(parameters=...)."""
    return [OpenApiParameter(name, OpenApiTypes.STR, OpenApiParameter.QUERY,
                             description=str(getattr(f, "label", "") or f.field_name))
            for name, f in filterset_class.base_filters.items()]


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
