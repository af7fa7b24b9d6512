"""The demo's pages (a 404 outside the demo): the webhook receiver and what it received."""

from django.urls import path

from oms.demo import views

urlpatterns = [
    path("webhooks/", views.received, name="demo-webhooks"),
    path("webhooks/<slug:tenant_slug>/receive/", views.receive, name="demo-webhooks-receive"),
]
