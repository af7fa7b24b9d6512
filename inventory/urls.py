"""This app's pages, under /inventory/."""

from django.urls import path

from inventory import views

app_name = "inventory"

urlpatterns = [
    path("", views.search, name="search"),
    path("movements/", views.movements, name="movements"),
    path("adjust/", views.adjust, name="adjust"),
    path("transfers/", views.transfer_list, name="transfers"),
    path("transfers/<int:pk>/", views.transfer_detail, name="transfer"),
    path("counts/", views.count_list, name="counts"),
    path("counts/<int:pk>/", views.count_detail, name="count"),
    path("imports/", views.import_list, name="imports"),
    path("imports/<int:pk>/", views.import_detail, name="import"),
    path("imports/<int:pk>/progress/", views.import_progress, name="import-progress"),
    path("imports/<int:pk>/errors.csv", views.import_errors, name="import-errors"),
    path("alerts/", views.alert_list, name="alerts"),
    path("alerts/<int:pk>/delete/", views.alert_delete, name="alert-delete"),
]
