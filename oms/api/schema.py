"""The OpenAPI schema's shared parts: both ways in (authentication), the problem+json answers of every operation
and the Idempotency-Key header of idempotent POSTs."""

import re

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import force_instance
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.settings import api_settings

from oms.api.fields import StrictInput, UniqueListField


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "oms.api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key issued to a channel or an integration: `Authorization: Bearer <key>`.",
        }


class TenantSessionScheme(OpenApiAuthenticationExtension):
    target_class = "oms.api.authentication.TenantSessionAuthentication"
    name = "Session"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": settings.SESSION_COOKIE_NAME,
            "description": "The signed-in user's session (the pages' own calls); unsafe methods need the "
            "CSRF token in X-CSRFToken.",
        }


class ProblemLineSerializer(serializers.Serializer):
    sku = serializers.CharField()
    requested = serializers.IntegerField()
    available = serializers.IntegerField()


class ProblemSerializer(serializers.Serializer):
    """application/problem+json (RFC 9457), as every error of this API is answered."""

    type = serializers.CharField(help_text="A URI naming the kind of problem.")
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    code = serializers.CharField(
        help_text="A stable, machine-readable name: validation_error, not_found, "
        "conflict, insufficient_stock, idempotency_key_reused, throttled, ..."
    )
    request_id = serializers.CharField(help_text="The X-Request-ID of the request this answers.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Validation errors, flat: messages keyed by the JSON path of the "
        "value they are about (`lines[1].quantity`, `delivery.address.city`); "
        "errors about the body as a whole are under `non_field_errors`.",
    )
    lines = ProblemLineSerializer(
        many=True, required=False, help_text="Insufficient stock: the lines short, with what is available."
    )


_PROBLEM_DESCRIPTIONS = {
    400: "Invalid input: `errors` lists the messages keyed by the JSON path of each value, the same shape on every "
    'endpoint, e.g. `{"code": "validation_error", "errors": {"lines[1].quantity": ["Ensure this value '
    'is greater than or equal to 1."], "delivery.address.city": ["This field is required."]}}`.',
    401: "No valid credentials: send `Authorization: Bearer <key>`.",
    403: "The caller may not do this (role, or a channel key acting outside its channel).",
    404: "No such object for this tenant (another tenant's ids answer the same).",
    409: "Conflict: insufficient stock (`lines`), an illegal status transition, a stale version, or a request "
    "with the same Idempotency-Key still in flight (`Retry-After`).",
    422: "The Idempotency-Key was first used with another request body.",
    429: "Too many requests for this key: retry after `Retry-After` seconds.",
}
_WRITES = ("POST", "PUT", "PATCH", "DELETE")
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "minLength": 1, "maxLength": 255},
    OpenApiParameter.HEADER,
    required=False,
    description="Any unique string (at most 255 characters), e.g. a UUID. A retry with the same key and body "
    "replays the first answer (header `Idempotent-Replayed: true`) instead of doing the work again; "
    "the same key with another body answers 422. Keys are kept at least 24 hours.",
)


class ProblemAutoSchema(AutoSchema):
    """Documents, on every operation, the problem+json answers it can give and, on POSTs decorated with
    @idempotent, the Idempotency-Key header: once, here, instead of on every view."""

    def _handler(self):
        return getattr(self.view, self.method.lower(), None)

    def _is_idempotent(self) -> bool:
        return self.method == "POST" and getattr(self._handler(), "idempotent", False)

    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        if self._is_idempotent():
            parameters.append(IDEMPOTENCY_KEY)
        return parameters

    def _get_paginator(self):
        # Lists are read a page at a time (oms.api.common.paginated), whatever the view's base class.
        if self.method != "GET":
            return None
        return (getattr(self.view, "pagination_class", None) or api_settings.DEFAULT_PAGINATION_CLASS)()

    def _map_serializer(self, serializer, direction, bypass_extensions=False):
        schema = super()._map_serializer(serializer, direction, bypass_extensions)
        # Input that refuses undeclared keys (oms.api.fields.StrictInput) says so, so that clients generated from
        # the schema do not send them.
        if direction == "request" and isinstance(force_instance(serializer), StrictInput):
            schema["additionalProperties"] = False
            # A change that must name at least one field (PATCH) says so.
            if getattr(serializer, "at_least_one_field", False):
                schema["minProperties"] = 1
        return schema

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        # A list that may not be empty says so (DRF's allow_empty=False is not carried over).
        if getattr(field, "allow_empty", True) is False and schema.get("type") == "array":
            schema.setdefault("minItems", 1)
        if isinstance(field, UniqueListField):
            schema["uniqueItems"] = True
        return schema

    def _insert_field_validators(self, field, schema):
        super()._insert_field_validators(field, schema)
        # DRF trims text before it checks blankness, so "  " is blank too: a text that may not be blank (minLength,
        # set on request bodies only) has a visible character, unless a validator's pattern already says more.
        if (
            type(field) is serializers.CharField
            and field.trim_whitespace
            and schema.get("minLength")
            and not {"pattern", "enum", "format"} & schema.keys()
        ):
            # Python's strip() also takes \x1c-\x1f and \x85 away, which ECMAScript's \s leaves.
            schema["pattern"] = r"[^\s\x1c-\x1f\x85]"
        if isinstance(field, serializers.DecimalField) and "pattern" in schema:
            # A decimal written as a string has at least one digit on each side of its point ("", "." and "5."
            # are no numbers), and one that may not be negative has no sign.
            schema["pattern"] = re.sub(r"\\d\{0,", r"\\d{1,", schema["pattern"])
            min_value, max_value = getattr(field, "min_value", None), getattr(field, "max_value", None)
            if min_value is not None and min_value >= 0 and schema["pattern"].startswith("^-?"):
                schema["pattern"] = "^" + schema["pattern"][3:]
                # Bounded by a power of ten (a percentage: at most 100): the bound itself, or fewer whole digits.
                if max_value is not None and str(int(max_value)).rstrip("0") == "1" and max_value == int(max_value):
                    whole, places = len(str(int(max_value))) - 1, field.decimal_places
                    schema["pattern"] = (
                        rf"^({int(max_value)}(\.0{{1,{places}}})?|\d{{1,{whole}}}(\.\d{{1,{places}}})?)$"
                    )

    def _problem_statuses(self) -> list[int]:
        authenticated = bool(getattr(self.view, "authentication_classes", None))
        # Every operation can answer 400: a body, a filter or the address itself (a NUL) may be refused.
        statuses = [400]
        if authenticated:
            # 404 also answers a filter that names what this tenant does not have (`?location=NOPE`).
            statuses += [401, 403, 404]
        elif "{" in self.path or self.method in _WRITES:
            statuses.append(404)
        if self.method in _WRITES:
            statuses.append(409)
        if self._is_idempotent():
            statuses.append(422)
        if authenticated and getattr(self.view, "throttle_classes", None):
            statuses.append(429)
        return statuses

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for status in self._problem_statuses():
            if str(status) not in responses:
                response = self._get_response_for_code(
                    ProblemSerializer, str(status), media_types=["application/problem+json"], direction=direction
                )
                response["description"] = _PROBLEM_DESCRIPTIONS[status]
                responses[str(status)] = response
        return responses
