from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesChannelsConfig(AppConfig):
    """Sales channels (web shop, stores, click & collect, marketplaces); not the Django Channels package."""

    name = "channels"
    label = "channels"
    verbose_name = _("Sales channels")
