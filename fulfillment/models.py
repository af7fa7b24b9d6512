"""Routing policies (numbered versions), routing decisions and the fulfilment orders each location executes."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from oms.tenancy import TenantModel, tenant_field


class RoutingPolicy(TenantModel):
    """One version of a tenant's routing policy. Saving the policy writes the next version; a version is never
    changed afterwards, so every routing decision can name the rules it followed. The highest version is active."""

    tenant = tenant_field(db_index=False)  # the unique constraint below leads with the tenant
    version = models.PositiveIntegerField(_("version"))
    document = models.JSONField(_("rules"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.CharField(_("saved by"), max_length=200)
    created_at = models.DateTimeField(_("saved at"), default=timezone.now)

    class Meta:
        verbose_name = _("routing policy version")
        verbose_name_plural = _("routing policy versions")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "version"], name="routing_policy_unique_version"),
            models.CheckConstraint(condition=Q(version__gte=1), name="routing_policy_version_positive"),
        ]

    def __str__(self):
        return f"v{self.version}"


class RoutingDecision(TenantModel):
    """Where routing sent an order and why: the plan, a reason for every candidate location, the policy version."""

    class Kind(models.TextChoices):
        INITIAL = "initial", _("Initial routing")
        REROUTE = "reroute", _("Re-route")
        REJECTION = "rejection", _("After a rejection")
        BACKORDER = "backorder", _("Backorder arrived")

    tenant = tenant_field(db_index=False)  # the index below leads with the tenant
    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="routing_decisions")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.INITIAL)
    policy_version = models.PositiveIntegerField(_("policy version"))
    plan = models.JSONField(_("plan"), default=dict)
    reasons = models.JSONField(_("reasons"), default=list)
    unfilled = models.JSONField(_("unfilled"), default=list)
    decided_at = models.DateTimeField(_("decided at"), default=timezone.now)

    class Meta:
        verbose_name = _("routing decision")
        verbose_name_plural = _("routing decisions")
        indexes = [models.Index(fields=["tenant", "order", "-id"], name="routing_decision_order_idx")]


class FulfillmentStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACCEPTED = "accepted", _("Accepted")
    PICKING = "picking", _("Picking")
    PACKED = "packed", _("Packed")
    SHIPPED = "shipped", _("Shipped")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")
    AWAITING_TRANSFER = "awaiting_transfer", _("Awaiting a stock transfer")
    READY_FOR_PICKUP = "ready_for_pickup", _("Ready for pickup")
    COLLECTED = "collected", _("Collected")


class FulfillmentOrder(TenantModel):
    """The part of an order one location fulfils."""

    tenant = tenant_field(db_index=False)  # the indexes below lead with the tenant
    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="fulfillments")
    location = models.ForeignKey("inventory.Location", on_delete=models.PROTECT, related_name="fulfillments")
    decision = models.ForeignKey(RoutingDecision, on_delete=models.PROTECT, related_name="fulfillments")
    status = models.CharField(
        _("status"), max_length=20, choices=FulfillmentStatus.choices, default=FulfillmentStatus.PENDING
    )
    reason = models.CharField(_("routing reason"), max_length=500, blank=True)
    reject_reason = models.CharField(_("rejection reason"), max_length=40, blank=True)
    parcels = models.JSONField(_("parcels"), default=list, blank=True)
    # The carrier and service the packer chose for the label; shipping may still name another.
    carrier = models.CharField(_("carrier"), max_length=40, blank=True)
    carrier_service = models.CharField(_("carrier service"), max_length=60, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    packed_at = models.DateTimeField(_("packed at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    # Click & collect (fulfillment.services.pickup): the transfer bringing the units to the pickup store, and the
    # hand-over. The pickup code is kept only as a keyed hash; a wrong code counts an attempt, too many lock it.
    transfer = models.ForeignKey(
        "inventory.Transfer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="fulfillments",
        verbose_name=_("awaited transfer"),
    )
    ready_at = models.DateTimeField(_("ready for pickup at"), null=True, blank=True)
    pickup_expires_at = models.DateTimeField(_("pickup expires at"), null=True, blank=True)
    pickup_code_hash = models.CharField(_("pickup code (keyed hash)"), max_length=64, blank=True)
    pickup_attempts = models.PositiveSmallIntegerField(_("wrong pickup attempts"), default=0)
    pickup_locked_at = models.DateTimeField(_("hand-over locked at"), null=True, blank=True)
    pickup_reminded_at = models.DateTimeField(_("pickup reminder sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("fulfilment order")
        verbose_name_plural = _("fulfilment orders")
        indexes = [
            models.Index(fields=["tenant", "location", "status", "-id"], name="fulfillment_board_idx"),
            models.Index(fields=["tenant", "order"], name="fulfillment_order_idx"),
        ]

    def __str__(self):
        return f"{self.order_id}@{self.location_id}"

    @property
    def is_open(self) -> bool:
        return self.status not in CLOSED_STATUSES


# A fulfilment order in one of these has no work left for its location.
CLOSED_STATUSES = frozenset(
    {
        FulfillmentStatus.SHIPPED,
        FulfillmentStatus.REJECTED,
        FulfillmentStatus.CANCELLED,
        FulfillmentStatus.COLLECTED,
    }
)


class FulfillmentLine(TenantModel):
    tenant = tenant_field(db_index=False)  # the index below leads with the tenant
    fulfillment = models.ForeignKey(FulfillmentOrder, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey("orders.OrderLine", on_delete=models.CASCADE, related_name="fulfillment_lines")
    quantity = models.PositiveIntegerField(_("quantity"))
    quantity_shipped = models.PositiveIntegerField(_("quantity shipped"), default=0)
    quantity_rejected = models.PositiveIntegerField(_("quantity rejected"), default=0)
    quantity_cancelled = models.PositiveIntegerField(_("quantity cancelled"), default=0)
    # Units confirmed by a scan while picking (fulfillment.services.picking): packing from the store screens waits
    # until every open unit is confirmed.
    quantity_picked = models.PositiveIntegerField(_("quantity picked"), default=0)

    @property
    def quantity_open(self) -> int:
        """Units the location still has to ship."""
        return self.quantity - self.quantity_shipped - self.quantity_rejected - self.quantity_cancelled

    @property
    def quantity_to_pick(self) -> int:
        """Open units not yet confirmed by a scan."""
        return max(self.quantity_open - self.quantity_picked, 0)

    class Meta:
        verbose_name = _("fulfilment line")
        verbose_name_plural = _("fulfilment lines")
        indexes = [models.Index(fields=["tenant", "fulfillment"], name="fulfillment_line_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="fulfillment_line_quantity"),
            models.CheckConstraint(
                condition=Q(
                    quantity__gte=models.F("quantity_shipped")
                    + models.F("quantity_rejected")
                    + models.F("quantity_cancelled")
                ),
                name="fulfillment_line_within_quantity",
            ),
            models.CheckConstraint(
                condition=Q(quantity_picked__lte=models.F("quantity")), name="fulfillment_line_picked_within_quantity"
            ),
        ]


class ShipmentStatus(models.TextChoices):
    SHIPPED = "shipped", _("Shipped")
    IN_TRANSIT = "in_transit", _("In transit")
    OUT_FOR_DELIVERY = "out_for_delivery", _("Out for delivery")
    DELIVERED = "delivered", _("Delivered")
    FAILED_ATTEMPT = "failed_attempt", _("Failed delivery attempt")
    RETURNED = "returned", _("Returned to sender")


class Shipment(TenantModel):
    """Parcels a location handed to a carrier for one fulfilment order, with what they hold."""

    tenant = tenant_field(db_index=False)  # the indexes below lead with the tenant
    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="shipments")
    fulfillment = models.ForeignKey(FulfillmentOrder, on_delete=models.PROTECT, related_name="shipments")
    location = models.ForeignKey("inventory.Location", on_delete=models.PROTECT, related_name="shipments")
    carrier = models.CharField(_("carrier"), max_length=40)
    service = models.CharField(_("service"), max_length=60, blank=True)
    tracking_numbers = models.JSONField(_("tracking numbers"), default=list, blank=True)
    tracking_url = models.CharField(_("tracking URL"), max_length=500, blank=True)
    parcels = models.JSONField(_("parcels"), default=list, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=ShipmentStatus.choices, default=ShipmentStatus.SHIPPED
    )
    shipped_at = models.DateTimeField(_("shipped at"), default=timezone.now)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")
        indexes = [
            models.Index(fields=["tenant", "order"], name="shipment_order_idx"),
            models.Index(fields=["tenant", "-id"], name="shipment_recent_idx"),
        ]


class ShipmentLine(TenantModel):
    tenant = tenant_field(db_index=False)  # the index below leads with the tenant
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey("orders.OrderLine", on_delete=models.CASCADE, related_name="shipment_lines")
    quantity = models.PositiveIntegerField(_("quantity"))

    class Meta:
        verbose_name = _("shipment line")
        verbose_name_plural = _("shipment lines")
        indexes = [models.Index(fields=["tenant", "shipment"], name="shipment_line_idx")]
        constraints = [models.CheckConstraint(condition=Q(quantity__gte=1), name="shipment_line_quantity")]


class ShipmentEvent(TenantModel):
    """A tracking report from the carrier. The same report twice (status and time) is recorded once."""

    tenant = tenant_field(db_index=False)  # the constraint below leads with the tenant
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="events")
    status = models.CharField(_("status"), max_length=20, choices=ShipmentStatus.choices)
    occurred_at = models.DateTimeField(_("occurred at"))
    detail = models.CharField(_("detail"), max_length=300, blank=True)
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    recorded_by = models.CharField(_("recorded by"), max_length=200)

    class Meta:
        verbose_name = _("shipment event")
        verbose_name_plural = _("shipment events")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "shipment", "status", "occurred_at"], name="shipment_event_once")
        ]


class RoutingSimulation(TenantModel):
    """A draft routing policy replayed against the orders of a past period beside the active version, in the
    background. The draft lives here only: it is never saved as a policy version. `results` holds the figures of
    both policies and their differences once the replay is done (fulfillment.services.simulation)."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    tenant = tenant_field(db_index=False)  # the index below leads with the tenant
    draft = models.JSONField(_("draft rules"))
    active_policy = models.ForeignKey(
        RoutingPolicy, on_delete=models.PROTECT, related_name="+", verbose_name=_("compared with version")
    )
    date_from = models.DateField(_("from"))
    date_to = models.DateField(_("to"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    orders_total = models.PositiveIntegerField(_("orders to replay"), default=0)
    orders_done = models.PositiveIntegerField(_("orders replayed"), default=0)
    results = models.JSONField(_("results"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    # Each runner that takes the job counts one more; its progress writes name its attempt, so that a runner that
    # lost the job (taken over after it stopped beating) cannot write over the one that has it.
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    created_by = models.CharField(_("started by"), max_length=200)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("routing simulation")
        verbose_name_plural = _("routing simulations")
        indexes = [models.Index(fields=["tenant", "-id"], name="routing_simulation_recent_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(date_to__gte=models.F("date_from")), name="routing_simulation_period"),
            models.CheckConstraint(
                condition=Q(orders_done__lte=models.F("orders_total")), name="routing_simulation_progress"
            ),
        ]

    def __str__(self):
        return f"{self.date_from}..{self.date_to}"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def percent(self) -> int:
        return int(self.orders_done * 100 / self.orders_total) if self.orders_total else (100 if self.finished else 0)


class TransitTime(TenantModel):
    """A carrier service's transit days to a destination zone: a country and a postal-code prefix ("" for the whole
    country; the longest prefix matching a postal code wins). Carrier days: Monday to Saturday, not holidays."""

    tenant = tenant_field(db_index=False)  # the unique constraint below leads with the tenant
    service = models.CharField(_("carrier service"), max_length=40)
    country = models.CharField(_("country"), max_length=2, default="FR")
    postal_prefix = models.CharField(_("postal code prefix"), max_length=10, blank=True)
    min_days = models.PositiveSmallIntegerField(_("minimum transit days"))
    max_days = models.PositiveSmallIntegerField(_("maximum transit days"))

    class Meta:
        verbose_name = _("carrier transit time")
        verbose_name_plural = _("carrier transit times")
        ordering = ["service", "country", "postal_prefix"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "service", "country", "postal_prefix"], name="transit_time_unique_zone"
            ),
            models.CheckConstraint(condition=Q(max_days__gte=models.F("min_days")), name="transit_time_range"),
        ]

    def __str__(self):
        return f"{self.service} {self.country}{self.postal_prefix}"


class Closure(TenantModel):
    """Days a location (or, without one, every location of the tenant) neither prepares nor dispatches orders."""

    tenant = tenant_field(db_index=False)  # the index below leads with the tenant
    location = models.ForeignKey(
        "inventory.Location",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("location"),
        help_text=_("empty: every location"),
    )
    starts_on = models.DateField(_("first day"))
    ends_on = models.DateField(_("last day"))
    reason = models.CharField(_("reason"), max_length=200)

    class Meta:
        verbose_name = _("closure")
        verbose_name_plural = _("closures")
        ordering = ["starts_on"]
        indexes = [models.Index(fields=["tenant", "ends_on"], name="closure_tenant_ends_idx")]
        constraints = [models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")), name="closure_period")]

    def __str__(self):
        return f"{self.starts_on}..{self.ends_on} {self.reason}"
