"""Platform models: users, tenants and their memberships, API keys, idempotency, outbox, webhooks, audit."""

import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from oms.tenancy import TenantModel, tenant_field


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **extra):
        if not email:
            raise ValueError("users sign in by e-mail")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra)

    def get_by_natural_key(self, email):
        return self.get(email__iexact=email)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in by e-mail; belongs to one or more tenants through memberships."""

    email = models.EmailField(_("e-mail"), unique=True)
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("operator staff"), default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    # Raised to end every session of the user at once (a changed or removed role: oms.services.end_sessions).
    session_version = models.PositiveIntegerField(default=0, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return self.email

    def _get_session_auth_hash(self, secret=None):
        # Django signs each session with a hash of the password (a new password ends the other sessions); the
        # version joins it, so that raising it ends them too. Overridden here, where Django computes that hash for
        # the current key and each fallback key alike.
        key_salt = "oms.models.User.session_auth_hash"
        return salted_hmac(
            key_salt, f"{self.password}:{self.session_version}", secret=secret, algorithm="sha256"
        ).hexdigest()


class Tenant(models.Model):
    """A retailer using OMS."""

    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=200)
    default_currency = models.CharField(_("default currency"), max_length=3, default="EUR")
    timezone = models.CharField(_("time zone"), max_length=64, default="Europe/Paris")
    locale = models.CharField(_("locale"), max_length=10, default="fr")
    active = models.BooleanField(_("active"), default=True)
    settings = models.JSONField(_("settings"), default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("tenant")
        verbose_name_plural = _("tenants")
        ordering = ["slug"]

    def __str__(self):
        return self.name


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    BACK_OFFICE = "back_office", _("Back office")
    STORE_CLERK = "store_clerk", _("Store clerk")
    MANAGER = "manager", _("Manager")
    VIEWER = "viewer", _("Viewer")


class Membership(TenantModel):
    """A user's role in one tenant; store clerks are bound to their store locations."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    locations = models.ManyToManyField(
        "inventory.Location",
        blank=True,
        related_name="+",
        through="MembershipLocation",
        verbose_name=_("store locations"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [models.UniqueConstraint(fields=["tenant", "user"], name="membership_unique_user")]

    def __str__(self):
        return f"{self.user} @ {self.tenant_id} ({self.role})"


class MembershipLocation(TenantModel):
    """A store a membership is bound to (a store clerk's); the tenant's row like the two it links."""

    tenant = tenant_field(db_index=False)  # the unique constraint below leads with the tenant
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+", verbose_name=_("membership"))
    location = models.ForeignKey(
        "inventory.Location", on_delete=models.CASCADE, related_name="+", verbose_name=_("location")
    )

    class Meta:
        verbose_name = _("membership store")
        verbose_name_plural = _("membership stores")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "membership", "location"], name="membership_location_unique")
        ]


class Invitation(TenantModel):
    """An offer of a role in a tenant, sent by e-mail: the person accepts it (oms/invitations.py), nobody is added
    without their consent. Only the SHA-256 hash of the link's token is stored, as for API keys."""

    tenant = tenant_field(db_index=False)  # the unique constraint below leads with the tenant
    email = models.EmailField(_("e-mail"))  # lower case, as accounts store it
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    locations = models.ManyToManyField(
        "inventory.Location",
        blank=True,
        related_name="+",
        through="InvitationLocation",
        verbose_name=_("store locations"),
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("sent at"), default=timezone.now)
    expires_at = models.DateTimeField(_("valid until"))
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        constraints = [
            # One open invitation per person and tenant: inviting again replaces it.
            models.UniqueConstraint(
                fields=["tenant", "email"],
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_unique_open_email",
            )
        ]
        indexes = [models.Index(fields=["tenant", "-created_at"], name="invitation_tenant_created_idx")]

    def __str__(self):
        return f"{self.email} @ {self.tenant_id} ({self.role})"

    @property
    def is_open(self) -> bool:
        """Neither accepted nor revoked (it may still have expired)."""
        return self.accepted_at is None and self.revoked_at is None

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()


class InvitationLocation(TenantModel):
    """A store an invitation binds its store clerk to once accepted; the tenant's row like the two it links."""

    tenant = tenant_field(db_index=False)  # the unique constraint below leads with the tenant
    invitation = models.ForeignKey(Invitation, on_delete=models.CASCADE, related_name="+", verbose_name=_("invitation"))
    location = models.ForeignKey(
        "inventory.Location", on_delete=models.CASCADE, related_name="+", verbose_name=_("location")
    )

    class Meta:
        verbose_name = _("invitation store")
        verbose_name_plural = _("invitation stores")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "invitation", "location"], name="invitation_location_unique")
        ]


class ApiKey(TenantModel):
    """A secret for an integration; only its SHA-256 hash is stored, the prefix identifies it."""

    label = models.CharField(_("label"), max_length=120)
    prefix = models.CharField(_("prefix"), max_length=16, unique=True)
    hashed_secret = models.CharField(max_length=64, unique=True, editable=False)
    channel = models.ForeignKey(
        "channels.Channel",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="api_keys",
        verbose_name=_("channel"),
    )
    throttle_rate = models.CharField(
        _("throttle rate"),
        max_length=20,
        blank=True,
        help_text=_("Overrides the default rate, e.g. 500/s; 'off' disables."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    # Set when the key is rotated: it keeps working beside its successor until then, so that an integration can
    # switch without a gap.
    expires_at = models.DateTimeField(_("valid until"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        constraints = [models.UniqueConstraint(fields=["tenant", "label"], name="apikey_unique_label")]

    def __str__(self):
        return f"{self.label} ({self.prefix}…)"

    @property
    def is_active(self):
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > timezone.now())


class IdempotencyKey(TenantModel):
    """The first answer to a POST carrying an Idempotency-Key, replayed to its retries."""

    tenant = tenant_field(db_index=False)  # composite indexes below lead with the tenant

    class State(models.TextChoices):
        IN_FLIGHT = "in_flight"
        DONE = "done"

    owner = models.CharField(max_length=64, help_text="api key prefix or user id that sent the key")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    request_hash = models.CharField(max_length=64)
    state = models.CharField(max_length=10, choices=State.choices, default=State.IN_FLIGHT)
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    response_headers = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    completed_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "owner", "key"], name="idempotency_unique_key")]


class OutboxEvent(TenantModel):
    """An event written in the same transaction as the change it reports; the relay publishes it after commit."""

    tenant = tenant_field(db_index=False)  # composite indexes below lead with the tenant

    id = models.BigAutoField(primary_key=True)
    event_id = models.UUIDField(default=uuid.uuid4, editable=False)
    topic = models.CharField(max_length=80)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, help_text="last hand-over to the broker")
    processed_at = models.DateTimeField(null=True, help_text="handlers and webhook fan-out done")
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("outbox event")
        verbose_name_plural = _("outbox events")
        constraints = [models.UniqueConstraint(fields=["tenant", "event_id"], name="outbox_unique_event_id")]
        indexes = [
            models.Index(
                fields=["created_at"], name="outbox_pending_idx", condition=models.Q(processed_at__isnull=True)
            ),
            models.Index(fields=["tenant", "topic", "created_at"], name="outbox_tenant_topic_idx"),
        ]

    def __str__(self):
        return f"{self.topic} #{self.pk}"


class WebhookSubscription(TenantModel):
    url = models.URLField(_("URL"), max_length=1000)
    events = models.JSONField(_("events"), default=list)
    secret = models.CharField(max_length=80, editable=False)
    active = models.BooleanField(_("active"), default=True)
    description = models.CharField(_("description"), max_length=200, blank=True)
    # Set when a channel's API key created it: only that channel's events are delivered (see oms/webhooks.py).
    channel = models.ForeignKey(
        "channels.Channel",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="webhook_subscriptions",
        verbose_name=_("channel"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")
        indexes = [models.Index(fields=["tenant", "active"], name="webhook_tenant_active_idx")]

    def __str__(self):
        return self.url

    def wants(self, topic: str, channel: str | None = None) -> bool:
        """`channel`: the code the event's payload names, if any; a channel-bound subscription hears only its
        channel's events, never those that name no channel."""
        if self.channel_id is not None and (channel is None or channel != self.channel.code):
            return False
        return self.active and ("*" in self.events or topic in self.events)


class WebhookDelivery(TenantModel):
    """One event for one subscription; retried with exponential backoff, every attempt kept."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_status_code = models.PositiveSmallIntegerField(null=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "subscription", "event"], name="delivery_unique_event")
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_due_idx")]


class WebhookAttempt(TenantModel):
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveSmallIntegerField(null=True)
    error = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    response_excerpt = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["number"]


class AuditEntry(TenantModel):
    """Who (user or API key) did what to which object, when, from where."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    api_key = models.ForeignKey(ApiKey, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    actor_label = models.CharField(_("actor"), max_length=200)
    action = models.CharField(_("action"), max_length=80)
    object_type = models.CharField(_("object type"), max_length=80, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit trail")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "-at"], name="audit_tenant_at_idx"),
            models.Index(fields=["tenant", "object_type", "object_id"], name="audit_tenant_object_idx"),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_repr}"


class TenantSequence(TenantModel):
    """Gap-free per-tenant counters (order numbers, invoice numbers), incremented under a row lock."""

    name = models.CharField(max_length=40)
    value = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="sequence_unique_name")]


class DemoReceiver(TenantModel):
    """The demo's webhook receiver, per tenant: how many of the next deliveries it answers 503
    (oms/demo/receiver.py)."""

    tenant = tenant_field(db_index=False)  # the unique constraint below leads with the tenant
    fail_next = models.PositiveIntegerField(_("deliveries to refuse"), default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant"], name="demoreceiver_unique_tenant")]


class DemoReceivedWebhook(TenantModel):
    """A POST the demo's webhook receiver took: what came, whether its signature verified, what it answered."""

    tenant = tenant_field(db_index=False)  # the index below leads with the tenant
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    topic = models.CharField(_("event"), max_length=80, blank=True)
    event_id = models.CharField(_("event id"), max_length=64, blank=True)
    attempt = models.PositiveIntegerField(_("attempt"), null=True)
    signature_verified = models.BooleanField(_("signature verified"), default=False)
    answered = models.PositiveSmallIntegerField(_("answered"))
    body = models.TextField(_("body"), blank=True)

    class Meta:
        verbose_name = _("webhook received by the demo")
        verbose_name_plural = _("webhooks received by the demo")
        indexes = [models.Index(fields=["tenant", "-received_at"], name="demo_received_tenant_at_idx")]
