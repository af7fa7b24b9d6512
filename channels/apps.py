from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesChannelsConfig(AppConfig):
    """Sales channels (web shop, stores, click & collect, marketplaces); not the Django Channels package."""

    name = "channels"
    label = "channels"
    verbose_name = _("Sales channels")

    def ready(self):
        # Models can be imported only now. The layers below (inventory, oms) find channels through
        # oms.sales_channels, never by importing this app.
        from channels.models import Channel
        from oms import sales_channels

        sales_channels.register(Channel.objects.for_tenant)
