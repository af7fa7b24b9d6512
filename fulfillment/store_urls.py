"""The store screens (clerk tablets), under /store/."""

from django.urls import include, path

from fulfillment import store_views

urlpatterns = [
    path("", store_views.store_home, name="store-home"),
    path("<str:code>/", store_views.store_queue, name="store-queue"),
    path("<str:code>/sale/", store_views.store_sale, name="store-sale"),
    path("<str:code>/handover/", store_views.store_handover, name="store-handover"),
    path("", include("returns.store_urls")),  # the returns desk: returns' own pages on the same screens
    path("fulfillments/<int:pk>/accept/", store_views.store_accept, name="store-accept"),
    path("fulfillments/<int:pk>/pick/", store_views.store_pick, name="store-pick"),
    path("fulfillments/<int:pk>/scan/", store_views.store_scan, name="store-scan"),
    path("fulfillments/<int:pk>/pack/", store_views.store_pack, name="store-pack"),
    path("fulfillments/<int:pk>/label/", store_views.store_label, name="store-label"),
    path("fulfillments/<int:pk>/ship/", store_views.store_ship, name="store-ship"),
    path("fulfillments/<int:pk>/reject/", store_views.store_reject, name="store-reject"),
    path("fulfillments/<int:pk>/ready/", store_views.store_ready, name="store-ready"),
    path("fulfillments/<int:pk>/collect/", store_views.store_collect, name="store-collect"),
    path("fulfillments/<int:pk>/unlock/", store_views.store_unlock, name="store-unlock"),
]
