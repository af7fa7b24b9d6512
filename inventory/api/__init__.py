"""Inventory endpoints under /api/v1/, one module per resource (routed in inventory/api_urls.py).

catalog      products
locations    the network of warehouses and stores
stock        stock levels, reservations, available-to-promise
sync         ERP/WMS stock sync: adjustments and snapshots
transfers    transfers between locations
counts       cycle counts
alerts       low-stock alert rules
operations   what the stock operation endpoints (sync, transfers, counts, alerts) share
"""
