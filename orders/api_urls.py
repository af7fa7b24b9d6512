"""This app's endpoints under /api/v1/."""

from django.urls import path

from orders import api, api_feedback, api_privacy

urlpatterns = [
    path("orders/", api.OrderListCreate.as_view(), name="api-orders"),
    path("orders/<int:pk>/", api.OrderDetail.as_view(), name="api-order"),
    path("orders/<int:pk>/cancel/", api.OrderCancel.as_view(), name="api-order-cancel"),
    path("orders/<int:pk>/hold/", api.OrderHold.as_view(), name="api-order-hold"),
    path("orders/<int:pk>/release/", api.OrderRelease.as_view(), name="api-order-release"),
    path("orders/<int:pk>/feedback/", api_feedback.OrderFeedback.as_view(), name="api-order-feedback"),
    path("orders/<int:pk>/feedback-link/", api_feedback.OrderFeedbackLink.as_view(), name="api-order-feedback-link"),
    path("customers/", api.CustomerList.as_view(), name="api-customers"),
    path("customers/<int:pk>/orders/", api.CustomerOrders.as_view(), name="api-customer-orders"),
    path("customers/<int:pk>/export/", api_privacy.CustomerExport.as_view(), name="api-customer-export"),
    path("customers/<int:pk>/erase/", api_privacy.CustomerErase.as_view(), name="api-customer-erase"),
    path("invoices/", api.InvoiceList.as_view(), name="api-invoices"),
    path("invoices/<int:pk>/", api.InvoiceDetail.as_view(), name="api-invoice"),
    path("invoices/<int:pk>/pdf/", api.InvoicePdf.as_view(), name="api-invoice-pdf"),
]
