"""Back-office admin for inventory, one module per subject; Django's admin autodiscovery loads this package.

base        saving through services, refusals shown as messages
stock       products, locations, stock levels, movements, reservations, lots
transfers   transfers between locations
counts      cycle counts
alerts      low-stock alert rules
imports     CSV stock imports
"""

from inventory.admin import alerts, counts, imports, stock, transfers

__all__ = ["alerts", "counts", "imports", "stock", "transfers"]
