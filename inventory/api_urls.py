"""This app's endpoints under /api/v1/."""
from django.urls import path

from inventory.api import catalog, locations, stock

urlpatterns = [
    path("products/", catalog.ProductListCreate.as_view(), name="api-products"),
    path("products/bulk/", catalog.ProductBulkUpsert.as_view(), name="api-products-bulk"),
    path("products/<str:sku>/", catalog.ProductDetail.as_view(), name="api-product"),
    path("locations/", locations.LocationListCreate.as_view(), name="api-locations"),
    path("locations/<str:code>/", locations.LocationDetail.as_view(), name="api-location"),
    path("inventory/", stock.StockLevelList.as_view(), name="api-inventory"),
    path("reservations/", stock.ReservationListCreate.as_view(), name="api-reservations"),
    path("reservations/<int:pk>/", stock.ReservationDetail.as_view(), name="api-reservation"),
    path("availability/", stock.Availability.as_view(), name="api-availability"),
]
