"""This app's back-office pages, under /returns/."""

from django.urls import path

from returns import views

urlpatterns = [
    path("", views.return_list, name="returns-list"),
    path("<int:pk>/", views.return_detail, name="return-detail"),
    path("<int:pk>/approve/", views.return_approve, name="return-approve"),
    path("<int:pk>/reject/", views.return_reject, name="return-reject"),
    path("<int:pk>/cancel/", views.return_cancel, name="return-cancel"),
    path("<int:pk>/close/", views.return_close, name="return-close"),
    path("<int:pk>/settle/", views.return_settle, name="return-settle"),
]
