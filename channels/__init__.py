"""Sales channels (web shop, stores, click & collect, marketplaces) and their sourcing pools of locations.

Above inventory, below orders. A channel owns its pool, an ordered list of inventory's locations, and so builds
on inventory (its services resolve location codes); inventory never imports this app, and finds channels through
oms.sales_channels, which this app fills at start-up (channels.apps).
"""
