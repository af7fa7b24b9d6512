"""This app's endpoints under /api/v1/."""

from django.urls import path

from fulfillment import api

urlpatterns = [
    path("routing/policy/", api.RoutingPolicyView.as_view(), name="api-routing-policy"),
    path("routing/policy/versions/", api.RoutingPolicyVersions.as_view(), name="api-routing-policy-versions"),
    path("routing/dry-run/", api.RoutingDryRun.as_view(), name="api-routing-dry-run"),
    path("routing/simulations/", api.RoutingSimulations.as_view(), name="api-routing-simulations"),
    path("routing/simulations/<int:pk>/", api.RoutingSimulationDetail.as_view(), name="api-routing-simulation"),
]
