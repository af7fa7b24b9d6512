"""Orders: customers, orders and their lines, the timeline, intake (idempotent, reserving stock for a channel),
holds, edits and cancellations, backorders, invoices.

Above channels and inventory: an order is placed on a channel and reserves inventory's stock through inventory's
services. Nothing below imports it; fulfilment, returns and reporting build on it.
"""
