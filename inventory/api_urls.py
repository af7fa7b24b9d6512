"""This app's endpoints under /api/v1/."""
from django.urls import path

from inventory import api_ops

urlpatterns = []

# Stock operations: ERP/WMS sync, transfers, cycle counts, low-stock alert rules.
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
