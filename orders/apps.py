from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("Orders")

    def ready(self):
        from oms.outbox import register_handler

        # Stock that arrives (receipt, adjustment, snapshot, count, transfer) goes to backorders first.
        register_handler("stock.adjusted", "orders.tasks.allocate_after_stock_event")
