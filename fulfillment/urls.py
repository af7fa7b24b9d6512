"""This app's pages."""

from django.urls import path

from fulfillment import views

urlpatterns = [
    path("routing/", views.routing_policy, name="routing-policy"),
    path("routing/simulations/", views.simulation_start, name="routing-simulation-start"),
    path("routing/simulations/<int:pk>/", views.simulation_page, name="routing-simulation"),
    path("routing/simulations/<int:pk>/progress/", views.simulation_progress, name="routing-simulation-progress"),
]
