"""The OpenAPI schema's shared parts: both ways in (authentication), the problem+json answers of every operation
and the Idempotency-Key header of idempotent POSTs."""

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers


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
    OpenApiTypes.STR,
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

    def _problem_statuses(self) -> list[int]:
        authenticated = bool(getattr(self.view, "authentication_classes", None))
        has_path_ids = "{" in self.path
        # Every operation can answer 400: a body, a filter or the address itself (a NUL) may be refused.
        statuses = [400]
        if authenticated:
            statuses += [401, 403]
        if has_path_ids or self.method in _WRITES:
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
