"""This app's pages."""

urlpatterns = []
