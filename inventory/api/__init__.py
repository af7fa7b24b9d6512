"""Inventory endpoints under /api/v1/: catalog, network, stock levels, reservations, availability."""
