"""Low-stock alert rules: a threshold per SKU at a location or over a channel's sourcing pool."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from oms.tenancy import TenantModel


class StockAlertRule(TenantModel):
    """A low-stock threshold for one SKU, at one location or over one channel's sourcing pool.

    Available stock at or below `threshold` is low: `stock.low` is emitted once, when the rule goes low,
    and `stock.recovered` once, when it climbs back above the threshold.
    """

    product = models.ForeignKey(
        "inventory.Product", on_delete=models.CASCADE, related_name="+", verbose_name=_("product")
    )
    location = models.ForeignKey(
        "inventory.Location",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("location"),
    )
    channel = models.ForeignKey(
        "channels.Channel", on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("channel")
    )
    threshold = models.PositiveIntegerField(_("threshold"))
    is_low = models.BooleanField(_("low"), default=False)
    last_available = models.IntegerField(_("last available"), null=True, blank=True)
    changed_at = models.DateTimeField(_("state changed at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("low-stock alert")
        verbose_name_plural = _("low-stock alerts")
        constraints = [
            models.CheckConstraint(
                condition=Q(location__isnull=False, channel__isnull=True)
                | Q(location__isnull=True, channel__isnull=False),
                name="alert_rule_location_xor_channel",
            ),
            models.UniqueConstraint(
                fields=["tenant", "product", "location"],
                name="alert_rule_unique_location",
                condition=Q(location__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["tenant", "product", "channel"],
                name="alert_rule_unique_channel",
                condition=Q(channel__isnull=False),
            ),
        ]
        indexes = [models.Index(fields=["tenant", "product"], name="alert_rule_tenant_product_idx")]

    def __str__(self):
        return f"{self.product} @ {self.scope} ≤ {self.threshold}"

    @property
    def scope(self):
        return self.location if self.location_id else self.channel
