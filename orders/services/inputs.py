"""What callers hand to the order services: an order as a channel sends it, and quantities of order lines."""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from orders.amounts import ZERO
from orders.models import DeliveryMethod


@dataclass(frozen=True)
class LineInput:
    sku: str
    quantity: int
    unit_price: Decimal
    discount: Decimal = ZERO
    tax: Decimal = ZERO
    tax_rate: Decimal | None = None


@dataclass(frozen=True)
class PromotionInput:
    code: str
    amount: Decimal
    description: str = ""


@dataclass
class OrderInput:
    """An order as a channel sends it (already shaped by the API serializer or the phone-order form)."""

    channel: object
    external_ref: str
    currency: str
    lines: list[LineInput]
    delivery_method: str = DeliveryMethod.SHIP
    customer: dict | None = None
    address: dict = field(default_factory=dict)
    location_code: str = ""
    service_level: str = ""
    promotions: list[PromotionInput] = field(default_factory=list)
    shipping_amount: Decimal = ZERO
    shipping_tax: Decimal = ZERO
    payment_status: str = ""
    metadata: dict = field(default_factory=dict)
    hold_kind: str = ""
    hold_reason: str = ""
    promised_earliest: date | None = None
    promised_latest: date | None = None
    # When the customer ordered, as the channel recorded it (marketplaces send theirs); now when absent.
    placed_at: datetime | None = None


@dataclass(frozen=True)
class LineQuantity:
    line_id: int
    quantity: int
