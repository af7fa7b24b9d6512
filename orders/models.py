"""Customers, orders, their lines and timeline."""
from decimal import Decimal

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from oms.tenancy import TenantModel


class Customer(TenantModel):
    email = models.EmailField(_("e-mail"))
    name = models.CharField(_("name"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        constraints = [models.UniqueConstraint(fields=["tenant", "email"], name="customer_unique_email")]

    def __str__(self):
        return self.email


class OrderStatus(models.TextChoices):
    PLACED = "placed", _("Placed")
    ON_HOLD = "on_hold", _("On hold")
    BACKORDERED = "backordered", _("Backordered")
    ALLOCATED = "allocated", _("Allocated")
    PARTIALLY_FULFILLED = "partially_fulfilled", _("Partially fulfilled")
    FULFILLED = "fulfilled", _("Fulfilled")
    DELIVERED = "delivered", _("Delivered")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


class DeliveryMethod(models.TextChoices):
    SHIP = "ship", _("Ship")
    PICKUP = "pickup", _("Pickup in store")
    IN_STORE = "in_store", _("Sold in store")


class Order(TenantModel):
    number = models.CharField(_("number"), max_length=32)
    channel = models.ForeignKey("channels.Channel", on_delete=models.PROTECT, related_name="orders")
    external_ref = models.CharField(_("external reference"), max_length=120)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders", null=True, blank=True)
    status = models.CharField(_("status"), max_length=24, choices=OrderStatus.choices, default=OrderStatus.PLACED)
    currency = models.CharField(_("currency"), max_length=3)
    delivery_method = models.CharField(_("delivery method"), max_length=10, choices=DeliveryMethod.choices)
    shipping_address = models.JSONField(_("shipping address"), default=dict, blank=True)
    pickup_location = models.ForeignKey("inventory.Location", on_delete=models.PROTECT, null=True, blank=True,
                                        related_name="+")
    service_level = models.CharField(_("service level"), max_length=40, blank=True)
    subtotal = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    discount_total = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    tax_total = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    shipping_total = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    total = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    promotions = models.JSONField(_("promotions"), default=list, blank=True)
    payment_status = models.CharField(_("payment status"), max_length=20, blank=True)
    hold_reason = models.CharField(_("hold reason"), max_length=200, blank=True)
    metadata = models.JSONField(_("metadata"), default=dict, blank=True)
    promised_delivery_earliest = models.DateField(null=True, blank=True)
    promised_delivery_latest = models.DateField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    placed_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "number"], name="order_unique_number"),
            models.UniqueConstraint(fields=["tenant", "channel", "external_ref"], name="order_unique_external_ref"),
        ]
        indexes = [
            models.Index(fields=["tenant", "status", "-id"], name="order_tenant_status_idx"),
            models.Index(fields=["tenant", "updated_at"], name="order_tenant_updated_idx"),
        ]

    def __str__(self):
        return self.number


class LineStatus(models.TextChoices):
    OPEN = "open", _("Open")
    BACKORDERED = "backordered", _("Backordered")
    ALLOCATED = "allocated", _("Allocated")
    PARTIALLY_SHIPPED = "partially_shipped", _("Partially shipped")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    CANCELLED = "cancelled", _("Cancelled")
    RETURNED = "returned", _("Returned")


class OrderLine(TenantModel):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    line_number = models.PositiveIntegerField()
    product = models.ForeignKey("inventory.Product", on_delete=models.PROTECT, related_name="+")
    sku = models.CharField(max_length=64)
    status = models.CharField(max_length=20, choices=LineStatus.choices, default=LineStatus.OPEN)
    quantity = models.PositiveIntegerField()
    quantity_allocated = models.PositiveIntegerField(default=0)
    quantity_backordered = models.PositiveIntegerField(default=0)
    quantity_shipped = models.PositiveIntegerField(default=0)
    quantity_delivered = models.PositiveIntegerField(default=0)
    quantity_cancelled = models.PositiveIntegerField(default=0)
    quantity_returned = models.PositiveIntegerField(default=0)
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    discount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    tax = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    total = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))

    class Meta:
        ordering = ["line_number"]
        constraints = [models.UniqueConstraint(fields=["tenant", "order", "line_number"], name="line_unique_number")]


class OrderEvent(TenantModel):
    """The order's timeline: who did what, when, with the state before and after."""

    id = models.BigAutoField(primary_key=True)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    actor_label = models.CharField(max_length=200)
    kind = models.CharField(max_length=40)
    message = models.CharField(max_length=500, blank=True)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]

