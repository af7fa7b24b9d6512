"""Sales channels and their sourcing pools."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from oms.tenancy import TenantModel


class ChannelKind(models.TextChoices):
    WEB = "web", _("Web shop")
    STORE = "store", _("Store")
    CLICK_COLLECT = "click_collect", _("Click & collect")
    MARKETPLACE = "marketplace", _("Marketplace")


class BufferKind(models.TextChoices):
    UNITS = "units", _("Units")
    PERCENT = "percent", _("Percent")


class Channel(TenantModel):
    code = models.CharField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=ChannelKind.choices)
    active = models.BooleanField(_("active"), default=True)
    # Held back from the network quantity so that a channel never sells the last units.
    buffer = models.PositiveIntegerField(_("stock buffer"), default=0)
    buffer_kind = models.CharField(
        _("buffer kind"), max_length=10, choices=BufferKind.choices, default=BufferKind.UNITS
    )
    reservation_ttl = models.PositiveIntegerField(_("reservation time-to-live (seconds)"), default=900)
    allow_backorders = models.BooleanField(_("allow backorders"), default=False)
    min_shelf_life_days = models.PositiveIntegerField(_("minimum remaining shelf life (days)"), default=0)
    return_window_days = models.PositiveIntegerField(
        _("return window (days)"),
        default=30,
        db_default=30,
        help_text=_("days after delivery or collection during which the channel's customers may return units"),
    )
    locations = models.ManyToManyField(
        "inventory.Location", through="ChannelLocation", related_name="channels", verbose_name=_("sourcing pool")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("channel")
        verbose_name_plural = _("channels")
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["tenant", "code"], name="channel_unique_code")]

    def __str__(self):
        return self.code


class ChannelLocation(TenantModel):
    """A location in a channel's sourcing pool; lower priority numbers are tried first."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="pool")
    location = models.ForeignKey("inventory.Location", on_delete=models.CASCADE, related_name="+")
    priority = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["priority", "id"]
        constraints = [models.UniqueConstraint(fields=["tenant", "channel", "location"], name="pool_unique_location")]

    def __str__(self):
        return f"{self.channel} → {self.location}"
