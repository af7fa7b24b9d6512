"""This app's pages: the dashboards under /reports/."""

from django.urls import path

from reporting import dashboard, views

urlpatterns = [
    path("", views.overview, name="reports"),
    path("store/<str:code>/", views.store, name="reports-store"),
    *(
        path(f"{table.name}/", views.table, {"name": table.name}, name=f"reports-{table.name}")
        for table in dashboard.TABLES
    ),
    path("digest/", views.digest_switch, name="reports-digest"),
    *(
        path(f"export/{name}.csv", views.export, {"name": name}, name=f"reports-export-{name}")
        for name in ("tiles", *dashboard.CHART_BY_NAME, *dashboard.TABLE_BY_NAME)
    ),
]
