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

# Stock operations: ERP/WMS sync, transfers, cycle counts, low-stock alert rules.
from inventory import api_ops  # noqa: E402

urlpatterns += [
    path("inventory/adjustments/", api_ops.StockAdjustments.as_view(), name="api-stock-adjustments"),
    path("inventory/snapshots/", api_ops.StockSnapshots.as_view(), name="api-stock-snapshots"),
    path("inventory/transfers/", api_ops.TransferListCreate.as_view(), name="api-transfers"),
    path("inventory/transfers/<int:pk>/", api_ops.TransferDetail.as_view(), name="api-transfer"),
    path("inventory/transfers/<int:pk>/ship/", api_ops.TransferShip.as_view(), name="api-transfer-ship"),
    path("inventory/transfers/<int:pk>/receive/", api_ops.TransferReceive.as_view(), name="api-transfer-receive"),
    path("inventory/transfers/<int:pk>/cancel/", api_ops.TransferCancel.as_view(), name="api-transfer-cancel"),
    path("inventory/counts/", api_ops.CountListCreate.as_view(), name="api-counts"),
    path("inventory/counts/<int:pk>/", api_ops.CountDetail.as_view(), name="api-count"),
    path("inventory/alert-rules/", api_ops.AlertRuleListCreate.as_view(), name="api-alert-rules"),
    path("inventory/alert-rules/<int:pk>/", api_ops.AlertRuleDetail.as_view(), name="api-alert-rule"),
]
