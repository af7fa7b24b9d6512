"""This app's endpoints under /api/v1/."""

from django.urls import path

from reporting import api

urlpatterns = [path("kpis/", api.Kpis.as_view(), name="api-kpis")]
