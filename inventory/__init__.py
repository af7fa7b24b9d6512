"""Inventory: the catalog (products), the network (warehouses, stores), stock levels and lots, the movement
ledger, reservations, available-to-promise, and the stock operations (ERP/WMS sync, transfers, cycle counts,
low-stock alerts, CSV imports).

Above oms, below channels. Stock is counted per location; a channel is a view on that stock (its sourcing pool,
its buffer, its minimum shelf life), so channels reads and reserves inventory, never the other way round.
Inventory code that works for a channel takes the channel as an argument and reads its fields and pool through
the relations the channels app declares (`channel.pool`, `Location.channels`); where it must find one by code
(an API caller naming its channel, an alert rule over a channel), it asks oms.sales_channels.
"""
