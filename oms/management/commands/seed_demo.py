"""The demo tenant: `manage.py seed_demo` (run by `make demo`).

Creates, or brings back to its known state, the tenant `demo` ("Maison Demo", EUR, Europe/Paris) with one user
per role, then lets each app add its own demo data: an app contributes with a module `<app>/demo.py` holding
`seed_demo(tenant, stdout)`, which must be idempotent too. They run in the order below (locations and stock
first, channels next, then what builds on them). Then it subscribes the tenant to every event at the demo's
webhook receiver (active in the demo only, OMS_DEMO), and installs the demo's fixed, published API key for the
web shop channel (oms.demo.API_KEY), printed on the last line: every run answers to the same key.
"""

import importlib

from django.apps import apps
from django.conf import settings
from django.db import transaction

from oms import demo, rls, services, webhooks
from oms.actors import Actor
from oms.errors import Conflict
from oms.management.commands._base import OmsCommand
from oms.models import Role, WebhookSubscription

DEMO_SLUG = demo.TENANT_SLUG
DEMO_NAME = demo.TENANT_NAME
DEMO_PASSWORD = demo.PASSWORD
DEMO_USERS = tuple((email, Role(role), full_name) for email, role, full_name in demo.USERS)
CONTRIBUTORS = ("inventory.demo", "channels.demo", "orders.demo", "fulfillment.demo", "returns.demo", "reporting.demo")
ACTOR = Actor.system("manage.py seed_demo")


def load_contributor(name: str):
    """The module, or None when the app has no demo module (an import error inside it is not hidden)."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name == name:
            return None
        raise


class Command(OmsCommand):
    help = (
        "Create the demo tenant 'demo' with one user per role (password demo-password-2026), the apps' demo "
        "data and a webhook subscription to the demo's receiver; safe to run again. Prints how to sign in, and "
        "the demo's fixed API key for the web shop on the last line."
    )

    def handle(self, *args, **options):
        tenant = self.seed_tenant()
        rls.bind(tenant.id)
        self.seed_users(tenant)
        for name in CONTRIBUTORS:
            module = load_contributor(name)
            if module is None:
                continue
            self.stdout.write(f"{name}:")
            module.seed_demo(tenant, self.stdout)
        self.bind_clerk_to_a_store(tenant)
        self.subscribe_receiver(tenant)
        channel = self.install_web_key(tenant)
        emails = ", ".join(email for email, _role, _name in DEMO_USERS)
        url = settings.OMS_PUBLIC_URL
        self.stdout.write(self.style.SUCCESS("Demo ready."))
        self.stdout.write(
            f"Sign in at {url}/login/ as one of {emails} with the password "
            f"{DEMO_PASSWORD} (admin@demo.test also opens /admin/)."
        )
        self.stdout.write(f"Call the API with: curl -H 'Authorization: Bearer {demo.API_KEY}' {url}/api/v1/orders/")
        bound = f"channel {channel.code}" if channel is not None else "tenant integration, no channel"
        self.stdout.write(f"API key ({bound}): {demo.API_KEY}")

    def seed_tenant(self):
        try:
            tenant = services.create_tenant(
                slug=DEMO_SLUG, name=DEMO_NAME, currency="EUR", timezone_name="Europe/Paris", locale="fr"
            )
            self.stdout.write(f"Created tenant {DEMO_SLUG} ({DEMO_NAME}).")
        except Conflict:
            tenant = services.get_tenant(DEMO_SLUG)
            self.stdout.write(f"Tenant {DEMO_SLUG} already exists ({tenant.name}); bringing it up to date.")
        return tenant

    def seed_users(self, tenant):
        created_users = existing = 0
        with transaction.atomic():
            for email, role, full_name in DEMO_USERS:
                user, created = services.create_user(email=email, password=DEMO_PASSWORD, full_name=full_name)
                if not created:
                    existing += 1
                    if not user.check_password(DEMO_PASSWORD) or not user.is_active:
                        user.set_password(DEMO_PASSWORD)
                        user.is_active = True
                        user.save(update_fields=["password", "is_active"])
                else:
                    created_users += 1
                current = services.membership_for(user, tenant)
                locations = list(current.locations.all()) if current is not None else []
                services.set_membership(tenant=tenant, user=user, role=role, locations=locations, actor=ACTOR)
        if created_users:
            self.stdout.write(f"Created {created_users} demo user(s), one per role.")
        if existing:
            self.stdout.write(
                f"{existing} demo user(s) already existed; their roles and the demo password are in place."
            )

    def bind_clerk_to_a_store(self, tenant):
        """The store clerk works in the first store, once the inventory demo has created stores."""
        location_model = apps.get_model("inventory", "Location")
        store = location_model.objects.for_tenant(tenant).filter(kind="store", active=True).order_by("code").first()
        if store is None:
            return
        clerk = services.create_user(email="clerk@demo.test", password=DEMO_PASSWORD)[0]
        services.set_membership(tenant=tenant, user=clerk, role=Role.STORE_CLERK, locations=[store], actor=ACTOR)
        self.stdout.write(f"clerk@demo.test works at store {store.code}.")

    def subscribe_receiver(self, tenant):
        """Every event to the demo's receiver at OMS_PUBLIC_URL; paused outside the demo, where the receiver is a
        404 (deliveries then wait instead of failing)."""
        url = settings.OMS_PUBLIC_URL + demo.receiver_path(tenant.slug)
        active = settings.OMS_DEMO
        existing = (
            WebhookSubscription.objects.for_tenant(tenant)
            .filter(description=demo.RECEIVER_DESCRIPTION)
            .order_by("id")
            .first()
        )
        if existing is None:
            webhooks.create_subscription(
                tenant=tenant, actor=ACTOR, url=url, events=["*"], description=demo.RECEIVER_DESCRIPTION, active=active
            )
        else:
            webhooks.update_subscription(
                tenant=tenant,
                actor=ACTOR,
                subscription_id=existing.id,
                changes={"url": url, "events": ["*"], "active": active},
            )
        state = "every event" if active else "paused outside the demo (OMS_DEMO)"
        self.stdout.write(f"Webhooks: the demo receiver at {url} ({state}).")

    def install_web_key(self, tenant):
        """The demo's published key, for the web shop (after channels.demo ran): the same key on every run."""
        channel_model = apps.get_model("channels", "Channel")
        channel = channel_model.objects.for_tenant(tenant).filter(code=demo.API_KEY_CHANNEL).first()
        services.install_published_api_key(
            tenant=tenant, label=demo.API_KEY_LABEL, secret=demo.API_KEY, channel=channel, actor=ACTOR
        )
        return channel
