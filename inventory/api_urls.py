"""This app's endpoints under /api/v1/."""

from django.urls import path

from inventory.api import alerts, catalog, counts, locations, stock, sync, transfers

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
    path("inventory/adjustments/", sync.StockAdjustments.as_view(), name="api-stock-adjustments"),
    path("inventory/snapshots/", sync.StockSnapshots.as_view(), name="api-stock-snapshots"),
    path("inventory/transfers/", transfers.TransferListCreate.as_view(), name="api-transfers"),
    path("inventory/transfers/<int:pk>/", transfers.TransferDetail.as_view(), name="api-transfer"),
    path("inventory/transfers/<int:pk>/ship/", transfers.TransferShip.as_view(), name="api-transfer-ship"),
    path("inventory/transfers/<int:pk>/receive/", transfers.TransferReceive.as_view(), name="api-transfer-receive"),
    path("inventory/transfers/<int:pk>/cancel/", transfers.TransferCancel.as_view(), name="api-transfer-cancel"),
    path("inventory/counts/", counts.CountListCreate.as_view(), name="api-counts"),
    path("inventory/counts/<int:pk>/", counts.CountDetail.as_view(), name="api-count"),
    path("inventory/alert-rules/", alerts.AlertRuleListCreate.as_view(), name="api-alert-rules"),
    path("inventory/alert-rules/<int:pk>/", alerts.AlertRuleDetail.as_view(), name="api-alert-rule"),
]
