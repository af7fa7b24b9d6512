"""This app's pages."""

from django.urls import path

from orders import views, views_privacy

urlpatterns = [
    path("", views.order_list, name="orders-list"),
    path("new/", views.order_new, name="order-new"),
    path("settings/", views.order_settings, name="order-settings"),
    path("<int:pk>/", views.order_detail, name="order-detail"),
    path("<int:pk>/cancel/", views.order_cancel, name="order-cancel"),
    path("<int:pk>/hold/", views.order_hold, name="order-hold"),
    path("<int:pk>/release/", views.order_release, name="order-release"),
    path("<int:pk>/address/", views.order_address, name="order-address"),
    path("<int:pk>/pickup/", views.order_pickup, name="order-pickup"),
    path("customers/<int:pk>/", views.customer_detail, name="customer-detail"),
    path("customers/<int:pk>/export/", views_privacy.customer_export, name="customer-export"),
    path("customers/<int:pk>/erase/", views_privacy.customer_erase, name="customer-erase"),
    path("invoices/<int:pk>/", views.invoice_html, name="invoice-html"),
    path("invoices/<int:pk>/pdf/", views.invoice_pdf, name="invoice-pdf"),
]
