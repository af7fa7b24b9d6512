"""OpenAPI descriptions of the API's authentication, so the schema documents both ways in."""
from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "oms.api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer",
                "description": "An API key issued to a channel or an integration: `Authorization: Bearer <key>`."}


class TenantSessionScheme(OpenApiAuthenticationExtension):
    target_class = "oms.api.authentication.TenantSessionAuthentication"
    name = "Session"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": settings.SESSION_COOKIE_NAME,
                "description": "The signed-in user's session (the pages' own calls); unsafe methods need the "
                               "CSRF token in X-CSRFToken."}
