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
