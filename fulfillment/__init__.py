"""The home of fulfilment: routing, fulfilment orders per location, shipments, click & collect, the delivery
promise. So far it holds only its URL modules.

On the top layer with returns and reporting, beside them and independent of them; builds on orders, channels and
inventory through their services and selectors.
"""
