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
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("fulfilment order")
        verbose_name_plural = _("fulfilment orders")
        indexes = [
            models.Index(fields=["tenant", "location", "status", "-id"], name="fulfillment_board_idx"),
            models.Index(fields=["tenant", "order"], name="fulfillment_order_idx"),
        ]

    def __str__(self):
        return f"{self.order_id}@{self.location_id}"


class FulfillmentLine(TenantModel):
    tenant = tenant_field(db_index=False)  # the index below leads with the tenant
    fulfillment = models.ForeignKey(FulfillmentOrder, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey("orders.OrderLine", on_delete=models.CASCADE, related_name="fulfillment_lines")
    quantity = models.PositiveIntegerField(_("quantity"))

    class Meta:
        verbose_name = _("fulfilment line")
        verbose_name_plural = _("fulfilment lines")
        indexes = [models.Index(fields=["tenant", "fulfillment"], name="fulfillment_line_idx")]
        constraints = [models.CheckConstraint(condition=Q(quantity__gte=1), name="fulfillment_line_quantity")]
