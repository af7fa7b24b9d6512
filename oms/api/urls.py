"""/api/v1/: every app mounts its endpoints here."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from oms.api import webhooks

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(authentication_classes=[], permission_classes=[]), name="api-schema"),
    path(
        "docs/",
        # The split view serves Swagger UI's start-up script at ?script rather than inline, as the
        # Content-Security-Policy requires.
        SpectacularSwaggerSplitView.as_view(
            url_name="api-schema",
            template_name="oms/api_docs.html",
            authentication_classes=[],
            permission_classes=[],
        ),
        name="api-docs",
    ),
    path("webhooks/", webhooks.WebhookListCreate.as_view(), name="api-webhooks"),
    path("webhooks/<int:pk>/", webhooks.WebhookDetail.as_view(), name="api-webhook"),
    path("webhooks/<int:pk>/deliveries/", webhooks.WebhookDeliveries.as_view(), name="api-webhook-deliveries"),
    path("", include("inventory.api_urls")),
    path("", include("channels.api_urls")),
    path("", include("orders.api_urls")),
    path("", include("fulfillment.api_urls")),
    path("", include("returns.api_urls")),
    path("", include("reporting.api_urls")),
]
