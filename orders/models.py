"""Customers, orders, their lines and timeline."""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from oms.tenancy import TenantModel, tenant_field
from orders.amounts import line_current_total, order_current_total


class Customer(TenantModel):
    tenant = tenant_field(db_index=False)  # composite indexes below lead with the tenant
    email = models.EmailField(_("e-mail"))
    name = models.CharField(_("name"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # Set when the customer's personal data was erased (orders.services.privacy): the row stays, under a pseudonym,
    # so that their orders keep their customer; intake never links a new order to it.
    erased_at = models.DateTimeField(_("erased at"), null=True, blank=True)
    erased_by = models.CharField(_("erased by"), max_length=200, blank=True, db_default="")  # raw inserts (orders.sql)

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


class HoldKind(models.TextChoices):
    PAYMENT = "payment", _("Payment")
    FRAUD = "fraud", _("Fraud review")
    RULE = "rule", _("Rule")
    MANUAL = "manual", _("Manual")
    EXCHANGE = "exchange", _("Exchange waiting for the returned items")


# The holds a person or a channel may place; an exchange's hold belongs to its return (returns.services).
HOLD_KINDS_BY_HAND = [HoldKind.PAYMENT, HoldKind.FRAUD, HoldKind.RULE, HoldKind.MANUAL]


class Order(TenantModel):
    tenant = tenant_field(db_index=False)  # composite indexes below lead with the tenant
    number = models.CharField(_("number"), max_length=32)
    channel = models.ForeignKey(
        "channels.Channel", on_delete=models.PROTECT, related_name="orders", verbose_name=_("channel")
    )
    external_ref = models.CharField(_("external reference"), max_length=120)
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="orders", null=True, blank=True, verbose_name=_("customer")
    )
    status = models.CharField(_("status"), max_length=24, choices=OrderStatus.choices, default=OrderStatus.PLACED)
    currency = models.CharField(_("currency"), max_length=3)
    delivery_method = models.CharField(_("delivery method"), max_length=10, choices=DeliveryMethod.choices)
    shipping_address = models.JSONField(_("shipping address"), default=dict, blank=True)
    pickup_location = models.ForeignKey(
        "inventory.Location",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("pickup or store location"),
    )
    service_level = models.CharField(_("service level"), max_length=40, blank=True)
    subtotal = models.DecimalField(_("subtotal"), max_digits=14, decimal_places=2, default=Decimal("0"))
    discount_total = models.DecimalField(_("discount total"), max_digits=14, decimal_places=2, default=Decimal("0"))
    tax_total = models.DecimalField(_("tax total"), max_digits=14, decimal_places=2, default=Decimal("0"))
    shipping_total = models.DecimalField(_("shipping total"), max_digits=14, decimal_places=2, default=Decimal("0"))
    shipping_tax = models.DecimalField(_("shipping tax"), max_digits=14, decimal_places=2, default=Decimal("0"))
    total = models.DecimalField(_("total"), max_digits=14, decimal_places=2, default=Decimal("0"))
    promotions = models.JSONField(_("promotions"), default=list, blank=True)
    payment_status = models.CharField(_("payment status"), max_length=20, blank=True)
    hold_kind = models.CharField(_("hold kind"), max_length=10, choices=HoldKind.choices, blank=True)
    hold_reason = models.CharField(_("hold reason"), max_length=200, blank=True)
    metadata = models.JSONField(_("metadata"), default=dict, blank=True)
    promised_delivery_earliest = models.DateField(_("promised delivery (earliest)"), null=True, blank=True)
    promised_delivery_latest = models.DateField(_("promised delivery (latest)"), null=True, blank=True)
    # The client's own promise (what the customer saw at checkout) is kept as it came; otherwise OMS computes one
    # at placement and again at allocation.
    promise_from_client = models.BooleanField(_("promise given by the client"), default=False)
    # Measured when the order is delivered: null until then (or without a promise), else within the promise or not.
    delivered_on_time = models.BooleanField(_("delivered on time"), null=True, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    # Set when routing has confirmed where every line is fulfilled from (placed → allocated).
    allocated_at = models.DateTimeField(_("allocated at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    placed_at = models.DateTimeField(_("placed at"), default=timezone.now)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

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
            models.Index(fields=["tenant", "created_at"], name="order_tenant_created_idx"),
            models.Index(fields=["tenant", "customer", "-id"], name="order_tenant_customer_idx"),
        ]

    def __str__(self):
        return self.number

    @property
    def current_total(self) -> Decimal:
        """The total without the cancelled units (orders.amounts); `total` stays what was charged at checkout."""
        lines = getattr(self, "lines_list", None)
        return order_current_total(self, lines if lines is not None else list(self.lines.all()))


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
    tenant = tenant_field(db_index=False)  # composite indexes below lead with the tenant
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines", verbose_name=_("order"))
    line_number = models.PositiveIntegerField(_("line number"))
    product = models.ForeignKey(
        "inventory.Product", on_delete=models.PROTECT, related_name="+", verbose_name=_("product")
    )
    sku = models.CharField(_("SKU"), max_length=64)
    name = models.CharField(_("name"), max_length=255, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=LineStatus.choices, default=LineStatus.OPEN)
    quantity = models.PositiveIntegerField(_("quantity"))
    quantity_allocated = models.PositiveIntegerField(_("quantity allocated"), default=0)
    quantity_backordered = models.PositiveIntegerField(_("quantity backordered"), default=0)
    quantity_shipped = models.PositiveIntegerField(_("quantity shipped"), default=0)
    quantity_delivered = models.PositiveIntegerField(_("quantity delivered"), default=0)
    quantity_cancelled = models.PositiveIntegerField(_("quantity cancelled"), default=0)
    quantity_returned = models.PositiveIntegerField(_("quantity returned"), default=0)
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=2)
    discount = models.DecimalField(_("discount"), max_digits=12, decimal_places=2, default=Decimal("0"))
    tax = models.DecimalField(_("tax"), max_digits=12, decimal_places=2, default=Decimal("0"))
    tax_rate = models.DecimalField(_("tax rate (%)"), max_digits=6, decimal_places=3, null=True, blank=True)
    total = models.DecimalField(_("total"), max_digits=14, decimal_places=2, default=Decimal("0"))

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["line_number"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "order", "line_number"], name="line_unique_number"),
            # Every outstanding unit is either reserved (allocated) or waiting for stock (backordered).
            models.CheckConstraint(
                condition=Q(
                    quantity__gte=F("quantity_allocated")
                    + F("quantity_backordered")
                    + F("quantity_shipped")
                    + F("quantity_cancelled")
                ),
                name="line_quantities_within_ordered",
            ),
            models.CheckConstraint(
                condition=Q(quantity_delivered__lte=F("quantity_shipped")), name="line_delivered_within_shipped"
            ),
            models.CheckConstraint(
                condition=Q(quantity_returned__lte=F("quantity_shipped")), name="line_returned_within_shipped"
            ),
        ]
        indexes = [
            models.Index(
                fields=["tenant", "product"], name="line_backordered_idx", condition=Q(quantity_backordered__gt=0)
            ),
        ]

    def __str__(self):
        return f"{self.sku} x {self.quantity}"

    @property
    def current_total(self) -> Decimal:
        """The line's total without its cancelled units, its discount and tax prorated (orders.amounts)."""
        return line_current_total(self)

    @property
    def quantity_active(self) -> int:
        """Units still wanted: ordered minus cancelled."""
        return self.quantity - self.quantity_cancelled

    @property
    def quantity_outstanding(self) -> int:
        """Units not yet shipped nor cancelled: the ones a cancellation or an edit may still touch."""
        return self.quantity_allocated + self.quantity_backordered

    @property
    def gross(self) -> Decimal:
        return self.unit_price * self.quantity


class EventKind(models.TextChoices):
    """What a timeline entry records (written by orders/services/ and orders/invoicing.py)."""

    PLACED = "placed", _("Placed")
    HOLD = "hold", _("Placed on hold")
    HOLD_RELEASED = "hold_released", _("Hold released")
    ALLOCATED = "allocated", _("Allocated")
    BACKORDER_ALLOCATED = "backorder_allocated", _("Backorder allocated")
    REROUTED = "rerouted", _("Re-routed")
    REJECTED = "rejected", _("Rejected by a location")
    FULFILMENT_ACCEPTED = "fulfillment_accepted", _("Accepted by a location")
    FULFILMENT_PICKING = "fulfillment_picking", _("Picking")
    FULFILMENT_PACKED = "fulfillment_packed", _("Packed")
    TRACKING = "tracking", _("Carrier tracking")
    EDITED = "edited", _("Edited")
    LINES_CANCELLED = "lines_cancelled", _("Lines cancelled")
    CANCELLED = "cancelled", _("Cancelled")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    RETURNED = "returned", _("Returned")
    COMPLETED = "completed", _("Completed")
    INVOICE_ISSUED = "invoice_issued", _("Invoice issued")
    CREDIT_NOTE_ISSUED = "credit_note_issued", _("Credit note issued")
    AWAITING_TRANSFER = "awaiting_transfer", _("Awaiting a stock transfer")
    READY_FOR_PICKUP = "ready_for_pickup", _("Ready for pickup")
    COLLECTED = "collected", _("Collected")
    PICKUP_LOCKED = "pickup_locked", _("Hand-over locked")
    PICKUP_UNLOCKED = "pickup_unlocked", _("Hand-over unlocked")
    RETURN_REQUESTED = "return_requested", _("Return requested")
    RETURN_APPROVED = "return_approved", _("Return approved")
    RETURN_REJECTED = "return_rejected", _("Return rejected")
    RETURN_CANCELLED = "return_cancelled", _("Return cancelled")
    RETURN_CLOSED = "return_closed", _("Return closed")
    REFUND_DUE = "refund_due", _("Refund due")
    REFUND_SETTLED = "refund_settled", _("Refund settled")
    FEEDBACK_RECEIVED = "feedback_received", _("Satisfaction response received")


class OrderEvent(TenantModel):
    """The order's timeline: who did what, when, with the state before and after."""

    tenant = tenant_field(db_index=False)  # composite indexes below lead with the tenant

    id = models.BigAutoField(_("ID"), primary_key=True)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events", verbose_name=_("order"))
    at = models.DateTimeField(_("at"), default=timezone.now)
    actor_label = models.CharField(_("by"), max_length=200)
    kind = models.CharField(_("kind"), max_length=40)
    message = models.CharField(_("message"), max_length=500, blank=True)
    before = models.JSONField(_("before"), default=dict, blank=True)
    after = models.JSONField(_("after"), default=dict, blank=True)

    class Meta:
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["tenant", "order", "at"], name="orderevent_order_at_idx")]


class InvoiceKind(models.TextChoices):
    INVOICE = "invoice", _("Invoice")
    CREDIT_NOTE = "credit_note", _("Credit note")


class Invoice(TenantModel):
    """An invoice (or credit note) with a gap-free per-tenant number, frozen when issued."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="invoices", verbose_name=_("order"))
    kind = models.CharField(_("kind"), max_length=12, choices=InvoiceKind.choices, default=InvoiceKind.INVOICE)
    number = models.CharField(_("number"), max_length=32)
    sequence = models.PositiveBigIntegerField(_("sequence"))
    credited_invoice = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_notes",
        verbose_name=_("credited invoice"),
    )
    issued_at = models.DateTimeField(_("issued at"), default=timezone.now)
    currency = models.CharField(_("currency"), max_length=3)
    seller = models.JSONField(_("seller"), default=dict, blank=True)
    buyer = models.JSONField(_("buyer"), default=dict, blank=True)
    reference = models.CharField(_("reference"), max_length=120, blank=True)
    subtotal = models.DecimalField(_("subtotal"), max_digits=14, decimal_places=2, default=Decimal("0"))
    discount_total = models.DecimalField(_("discount total"), max_digits=14, decimal_places=2, default=Decimal("0"))
    tax_total = models.DecimalField(_("tax total"), max_digits=14, decimal_places=2, default=Decimal("0"))
    shipping_total = models.DecimalField(_("shipping total"), max_digits=14, decimal_places=2, default=Decimal("0"))
    total = models.DecimalField(_("total"), max_digits=14, decimal_places=2, default=Decimal("0"))
    promotions = models.JSONField(_("promotions"), default=list, blank=True)

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["sequence"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "number"], name="invoice_unique_number"),
            models.UniqueConstraint(fields=["tenant", "sequence"], name="invoice_unique_sequence"),
        ]
        indexes = [models.Index(fields=["tenant", "order"], name="invoice_tenant_order_idx")]

    def __str__(self):
        return self.number


class InvoiceLine(TenantModel):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines", verbose_name=_("invoice"))
    order_line = models.ForeignKey(
        OrderLine, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("order line")
    )
    sku = models.CharField(_("SKU"), max_length=64)
    description = models.CharField(_("description"), max_length=255, blank=True)
    quantity = models.PositiveIntegerField(_("quantity"))
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=2)
    discount = models.DecimalField(_("discount"), max_digits=12, decimal_places=2, default=Decimal("0"))
    tax_rate = models.DecimalField(_("tax rate (%)"), max_digits=6, decimal_places=3, null=True, blank=True)
    tax = models.DecimalField(_("tax"), max_digits=12, decimal_places=2, default=Decimal("0"))
    total = models.DecimalField(_("total"), max_digits=14, decimal_places=2, default=Decimal("0"))

    class Meta:
        verbose_name = _("invoice line")
        verbose_name_plural = _("invoice lines")
        ordering = ["id"]

    @property
    def net(self) -> Decimal:
        return self.unit_price * self.quantity - self.discount


class FeedbackSource(models.TextChoices):
    API = "api", _("Sent by the shop (API)")
    LINK = "link", _("Answered through the link sent to the customer")


FEEDBACK_SCORES = range(1, 6)
FEEDBACK_COMMENT_MAX_LENGTH = 2000


class Feedback(TenantModel):
    """A customer's satisfaction response about one order they received: a score from 1 (very dissatisfied) to 5
    (very satisfied) and an optional comment. One per order; reporting counts them (csat_avg, csat_response_rate)."""

    tenant = tenant_field(db_index=False)  # the unique constraint and the index below lead with the tenant
    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="feedback_responses", verbose_name=_("order")
    )
    score = models.PositiveSmallIntegerField(
        _("score"), validators=[MinValueValidator(FEEDBACK_SCORES[0]), MaxValueValidator(FEEDBACK_SCORES[-1])]
    )
    comment = models.TextField(_("comment"), blank=True, max_length=FEEDBACK_COMMENT_MAX_LENGTH)
    source = models.CharField(_("source"), max_length=8, choices=FeedbackSource.choices)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("satisfaction response")
        verbose_name_plural = _("satisfaction responses")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "order"], name="feedback_unique_order"),
            models.CheckConstraint(
                condition=Q(score__gte=FEEDBACK_SCORES[0], score__lte=FEEDBACK_SCORES[-1]), name="feedback_score_1_to_5"
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("comment"), FEEDBACK_COMMENT_MAX_LENGTH),
                name="feedback_comment_max_length",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "created_at"], name="feedback_tenant_created_idx")]

    def __str__(self):
        return f"{self.order_id}: {self.score}/{FEEDBACK_SCORES[-1]}"
