"""The demo tenant: `manage.py seed_demo` (run by `make demo`).

Creates, or brings back to its known state, the tenant `demo` ("Maison Demo", EUR, Europe/Paris) with one user
per role, then lets each app add its own demo data: an app contributes with a module `<app>/demo.py` holding
`seed_demo(tenant, stdout)`, which must be idempotent too. They run in the order below (locations and stock
first, channels next, then what builds on them). Finally it issues an API key for the web shop channel and
prints it on the last line; each run replaces the previous demo key, since a secret can only be shown once.
"""
import importlib

from django.apps import apps
from django.db import transaction

from oms import services
from oms.actors import Actor
from oms.errors import Conflict
from oms.management.commands._base import OmsCommand
from oms.models import ApiKey, Role

DEMO_SLUG = "demo"
DEMO_NAME = "Maison Demo"
DEMO_PASSWORD = "demo-password-2026"
DEMO_USERS = (
    ("admin@demo.test", Role.ADMIN, "Alice Martin"),
    ("backoffice@demo.test", Role.BACK_OFFICE, "Bruno Lefèvre"),
    ("clerk@demo.test", Role.STORE_CLERK, "Chloé Bernard"),
    ("manager@demo.test", Role.MANAGER, "Marc Dubois"),
    ("viewer@demo.test", Role.VIEWER, "Valérie Petit"),
)
CONTRIBUTORS = ("inventory.demo", "channels.demo", "orders.demo", "fulfillment.demo", "returns.demo",
                "reporting.demo")
WEB_CHANNEL = "WEB"
KEY_LABEL = "demo-web"
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
    help = ("Create the demo tenant 'demo' with one user per role (password demo-password-2026) and the apps' "
            "demo data; safe to run again. Prints how to sign in, and a fresh API key for the web shop on the "
            "last line.")

    def handle(self, *args, **options):
        tenant = self.seed_tenant()
        self.seed_users(tenant)
        for name in CONTRIBUTORS:
            module = load_contributor(name)
            if module is None:
                continue
            self.stdout.write(f"{name}:")
            module.seed_demo(tenant, self.stdout)
        self.bind_clerk_to_a_store(tenant)
        secret, channel = self.issue_web_key(tenant)
        emails = ", ".join(email for email, _role, _name in DEMO_USERS)
        self.stdout.write(self.style.SUCCESS("Demo ready."))
        self.stdout.write(f"Sign in at http://127.0.0.1:8000/login/ as one of {emails} with the password "
                          f"{DEMO_PASSWORD} (admin@demo.test also opens /admin/).")
        self.stdout.write("Call the API with: curl -H 'Authorization: Bearer <key>' "
                          "http://127.0.0.1:8000/api/v1/orders/")
        bound = f"channel {channel.code}" if channel is not None else "tenant integration, no channel"
        self.stdout.write(f"API key ({bound}): {secret}")

    def seed_tenant(self):
        try:
            tenant = services.create_tenant(slug=DEMO_SLUG, name=DEMO_NAME, currency="EUR",
                                            timezone_name="Europe/Paris", locale="fr")
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
            self.stdout.write(f"{existing} demo user(s) already existed; "
                              "their roles and the demo password are in place.")

    def bind_clerk_to_a_store(self, tenant):
        """The store clerk works in the first store, once the inventory demo has created stores."""
        location_model = apps.get_model("inventory", "Location")
        store = location_model.objects.for_tenant(tenant).filter(kind="store", active=True).order_by("code").first()
        if store is None:
            return
        clerk = services.create_user(email="clerk@demo.test", password=DEMO_PASSWORD)[0]
        services.set_membership(tenant=tenant, user=clerk, role=Role.STORE_CLERK, locations=[store], actor=ACTOR)
        self.stdout.write(f"clerk@demo.test works at store {store.code}.")

    def issue_web_key(self, tenant):
        """A new key for the web shop (after channels.demo ran); the previous demo keys are revoked."""
        channel_model = apps.get_model("channels", "Channel")
        channel = channel_model.objects.for_tenant(tenant).filter(code=WEB_CHANNEL).first()
        previous = ApiKey.objects.for_tenant(tenant).filter(label__startswith=KEY_LABEL)
        for key in previous.filter(revoked_at__isnull=True):
            services.revoke_api_key(tenant=tenant, key_id=key.id, actor=ACTOR)
            self.stdout.write(f"Revoked the previous demo API key {key.label} ({key.prefix}…).")
        labels = set(previous.values_list("label", flat=True))
        number = 1
        while f"{KEY_LABEL}-{number}" in labels:
            number += 1
        issued = services.create_api_key(tenant=tenant, label=f"{KEY_LABEL}-{number}", channel=channel,
                                         actor=ACTOR)
        return issued.secret, channel
