"""Catalog, network and stock: products, locations, stock levels, lots, the movement ledger, reservations."""

from decimal import Decimal, InvalidOperation

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from oms.tenancy import TenantModel, tenant_field


class Product(TenantModel):
    sku = models.CharField(_("SKU"), max_length=64)
    name = models.CharField(_("name"), max_length=255)
    barcode = models.CharField(_("barcode (EAN/GTIN)"), max_length=32, blank=True)
    active = models.BooleanField(_("active"), default=True)
    weight_grams = models.PositiveIntegerField(_("weight (g)"), null=True, blank=True)
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    tracks_lots = models.BooleanField(_("tracks lots and expiry"), default=False)
    # A raw insert that leaves it out makes a returnable product too.
    returnable = models.BooleanField(_("returnable"), default=True, db_default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["sku"]
        constraints = [models.UniqueConstraint(fields=["tenant", "sku"], name="product_unique_sku")]
        indexes = [
            models.Index(fields=["tenant", "barcode"], name="product_tenant_barcode_idx"),
            models.Index(fields=["tenant", "updated_at"], name="product_tenant_updated_idx"),
        ]

    def __str__(self):
        return self.sku

    @property
    def shelf_price(self) -> Decimal | None:
        """The catalogue's price of the product: its `price` attribute (tax included), None when it has none. The
        store till sells at it and an exchange prices its replacement at it."""
        raw = self.attributes.get("price") if isinstance(self.attributes, dict) else None
        try:
            price = Decimal(str(raw)) if raw not in (None, "") else None
        except InvalidOperation:
            return None
        return price if price is not None and price.is_finite() and price >= 0 else None


class LocationKind(models.TextChoices):
    WAREHOUSE = "warehouse", _("Warehouse")
    STORE = "store", _("Store")
    DROPSHIP = "dropship", _("Drop-ship supplier")


class Location(TenantModel):
    code = models.CharField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=LocationKind.choices)
    address = models.JSONField(_("address"), default=dict, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    timezone = models.CharField(_("time zone"), max_length=64, default="Europe/Paris")
    ships = models.BooleanField(_("ships orders"), default=True)
    pickup = models.BooleanField(_("click & collect pickup"), default=False)
    accepts_returns = models.BooleanField(_("accepts returns"), default=False)
    daily_capacity = models.PositiveIntegerField(_("daily fulfilment capacity"), null=True, blank=True)
    cutoff_time = models.TimeField(_("order cut-off time"), null=True, blank=True)
    opening_hours = models.JSONField(_("opening hours"), default=dict, blank=True)
    # The delivery promise: working days of preparation before dispatch (0: same day before the cut-off), and the
    # subdivision whose public holidays apply besides the country's (e.g. "57" for Moselle, "972" Martinique).
    handling_days = models.PositiveSmallIntegerField(_("handling days"), default=0)
    holiday_subdivision = models.CharField(_("public holidays subdivision"), max_length=10, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Days a click & collect order waits at this store once ready; empty: the tenant's `pickup_hold_days`.
    pickup_hold_days = models.PositiveSmallIntegerField(
        _("pickup hold (days)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
        help_text=_("Days a ready pickup order waits here before it is cancelled; empty: the tenant's default."),
    )

    class Meta:
        verbose_name = _("location")
        verbose_name_plural = _("locations")
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["tenant", "code"], name="location_unique_code")]

    def __str__(self):
        return self.code


class StockLevel(TenantModel):
    """Stock of one product at one location. Changed only with conditional updates (DESIGN rule 2)."""

    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="stock_levels")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="stock_levels")
    on_hand = models.IntegerField(_("on hand"), default=0)
    reserved = models.IntegerField(_("reserved"), default=0)
    safety_stock = models.PositiveIntegerField(_("safety stock"), default=0)
    # Units kept at the location that can never be promised: returns received damaged or held for the vendor.
    # Outside on_hand, so no availability figure sees them; changed with their own ledger movements.
    non_sellable = models.IntegerField(_("non-sellable"), default=0, db_default=0)
    # Where the product sits at this location (aisle, shelf, bin), shown to pickers; unknown when null.
    bin = models.CharField(_("bin / shelf"), max_length=40, null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("stock level")
        verbose_name_plural = _("stock levels")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "location", "product"], name="stock_unique_location_product"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="stock_reserved_not_negative"),
            models.CheckConstraint(condition=Q(reserved__lte=F("on_hand")), name="stock_reserved_within_on_hand"),
            models.CheckConstraint(condition=Q(non_sellable__gte=0), name="stock_non_sellable_not_negative"),
        ]
        indexes = [models.Index(fields=["tenant", "product", "location"], name="stock_tenant_product_idx")]

    def __str__(self):
        return f"{self.product} @ {self.location}"

    @property
    def available(self) -> int:
        return promisable(self.on_hand, self.reserved, self.safety_stock)


def promisable(on_hand: int, reserved: int, safety_stock: int) -> int:
    """What a stock row can promise before lots are counted: on hand, less what is reserved and the safety stock,
    never below 0. StockLevel.available, and the readers that compute it from bare figures, say it with this."""
    return max(on_hand - reserved - safety_stock, 0)


class MovementKind(models.TextChoices):
    RECEIPT = "receipt", _("Receipt")
    ADJUSTMENT = "adjustment", _("Adjustment")
    SALE = "sale", _("Sale")
    RETURN = "return", _("Return")
    TRANSFER_OUT = "transfer_out", _("Transfer out")
    TRANSFER_IN = "transfer_in", _("Transfer in")
    COUNT = "count", _("Count")
    WRITE_OFF = "write_off", _("Write-off")
    TO_VENDOR = "to_vendor", _("Back to the vendor")


class Lot(TenantModel):
    """Units of a lot-tracked product (fresh goods) at one location that share a lot code and an expiry date.

    The StockLevel stays the aggregate (its on_hand and reserved are the sums over its lots); the lot rows say
    which units those are. An expired lot is never available; reservations and sales take the
    earliest-expiring sellable lot first (FEFO).
    """

    stock_level = models.ForeignKey(StockLevel, on_delete=models.PROTECT, related_name="lots")
    code = models.CharField(_("lot"), max_length=64)
    expires_on = models.DateField(_("expires on"))
    on_hand = models.IntegerField(_("on hand"), default=0)
    reserved = models.IntegerField(_("reserved"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("lot")
        verbose_name_plural = _("lots")
        ordering = ["expires_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "stock_level", "code"], name="lot_unique_code"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="lot_reserved_not_negative"),
            models.CheckConstraint(condition=Q(reserved__lte=F("on_hand")), name="lot_reserved_within_on_hand"),
        ]
        indexes = [models.Index(fields=["tenant", "stock_level", "expires_on"], name="lot_level_expiry_idx")]

    def __str__(self):
        return f"{self.code} ({self.expires_on})"

    @property
    def free(self) -> int:
        return max(self.on_hand - self.reserved, 0)


class StockMovement(TenantModel):
    """The ledger: every change of on_hand, written in the same transaction as the change."""

    id = models.BigAutoField(primary_key=True)
    stock_level = models.ForeignKey(StockLevel, on_delete=models.PROTECT, related_name="movements")
    # Set for lot-tracked products: each movement changes exactly one lot.
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, null=True, blank=True, related_name="movements")
    kind = models.CharField(_("kind"), max_length=20, choices=MovementKind.choices)
    quantity = models.IntegerField(_("quantity"))
    # Which figure of the stock row the movement changes: on_hand (sellable) or non_sellable.
    sellable = models.BooleanField(_("sellable"), default=True, db_default=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    reference = models.CharField(_("reference"), max_length=120, blank=True)
    actor_label = models.CharField(_("actor"), max_length=200, blank=True)
    occurred_at = models.DateTimeField(_("occurred at"), default=timezone.now)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("stock movement")
        verbose_name_plural = _("stock movements")
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["tenant", "stock_level", "occurred_at"], name="movement_level_time_idx")]


class Reservation(TenantModel):
    """Units held at a location for an order line or a cart; released on expiry or cancellation, consumed on
    shipment."""

    tenant = tenant_field(db_index=False)  # composite indexes below lead with the tenant

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        RELEASED = "released", _("Released")
        CONSUMED = "consumed", _("Consumed")
        EXPIRED = "expired", _("Expired")

    stock_level = models.ForeignKey(StockLevel, on_delete=models.PROTECT, related_name="reservations")
    channel = models.ForeignKey("channels.Channel", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    quantity = models.PositiveIntegerField(_("quantity"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    order_line = models.ForeignKey(
        "orders.OrderLine", on_delete=models.PROTECT, null=True, blank=True, related_name="reservations"
    )
    reference = models.CharField(_("reference"), max_length=120, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("reservation")
        verbose_name_plural = _("reservations")
        indexes = [
            models.Index(
                fields=["expires_at"],
                name="reservation_expiry_idx",
                condition=Q(status="active", expires_at__isnull=False),
            ),
            models.Index(fields=["tenant", "status"], name="reservation_tenant_status_idx"),
        ]

    def __str__(self):
        return f"reservation {self.pk}"


class ReservationLot(TenantModel):
    """The lots a reservation of a lot-tracked product holds its units in (allocated FEFO when reserving)."""

    reservation = models.ForeignKey(Reservation, on_delete=models.CASCADE, related_name="lot_allocations")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="allocations")
    quantity = models.PositiveIntegerField(_("quantity"))

    class Meta:
        verbose_name = _("reserved lot")
        verbose_name_plural = _("reserved lots")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "reservation", "lot"], name="reservation_lot_unique"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="reservation_lot_quantity_positive"),
        ]
