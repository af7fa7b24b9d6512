"""This app's pages."""

from django.urls import path

from fulfillment import views

urlpatterns = [
    path("routing/", views.routing_policy, name="routing-policy"),
]
