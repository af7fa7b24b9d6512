from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FulfillmentConfig(AppConfig):
    name = "fulfillment"
    verbose_name = _("Fulfillment")

    def ready(self):
        from oms.outbox import register_handler

        # Placed orders, and held ones once released, go to routing.
        register_handler("order.placed", "fulfillment.tasks.route_after_order_event")
        register_handler("order.released", "fulfillment.tasks.route_after_order_event")
        register_handler("order.updated", "fulfillment.tasks.route_after_order_event")
        # Stock that arrives (receipt, return, transfer, count, snapshot) goes to backorders first.
        register_handler("stock.adjusted", "fulfillment.tasks.route_backorders_after_stock_event")

        from fulfillment.receivers import connect

        connect()
