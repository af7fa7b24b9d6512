"""Inventory's models, one module per subject. The rest of the code imports them from here (`inventory.models`).

stock       products, locations, stock levels, lots, the movement ledger, reservations
transfers   stock moving between locations
counts      cycle counts
alerts      low-stock alert rules
imports     CSV stock imports and the rows they refused
"""

from inventory.models.alerts import StockAlertRule
from inventory.models.counts import CycleCount, CycleCountLine
from inventory.models.imports import StockImportJob, StockImportRejection
from inventory.models.stock import (
    Location,
    LocationKind,
    Lot,
    MovementKind,
    Product,
    Reservation,
    ReservationLot,
    StockLevel,
    StockMovement,
)
from inventory.models.transfers import Transfer, TransferLine

__all__ = [
    "CycleCount",
    "CycleCountLine",
    "Location",
    "LocationKind",
    "Lot",
    "MovementKind",
    "Product",
    "Reservation",
    "ReservationLot",
    "StockAlertRule",
    "StockImportJob",
    "StockImportRejection",
    "StockLevel",
    "StockMovement",
    "Transfer",
    "TransferLine",
]
