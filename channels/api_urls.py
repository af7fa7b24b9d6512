"""This app's endpoints under /api/v1/."""

from django.urls import path

from channels import api

urlpatterns = [
    path("channels/", api.ChannelListCreate.as_view(), name="api-channels"),
    path("channels/<str:code>/", api.ChannelDetail.as_view(), name="api-channel"),
]
