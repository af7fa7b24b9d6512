"""The returns desk of the store screens, under /store/<code>/returns/."""

from django.urls import path

from returns import store_views

urlpatterns = [
    path("<str:code>/returns/", store_views.desk_home, name="store-returns"),
    path("<str:code>/returns/orders/<int:pk>/", store_views.desk_new_return, name="store-return-new"),
    path("<str:code>/returns/<int:pk>/", store_views.desk_return, name="store-return"),
]
