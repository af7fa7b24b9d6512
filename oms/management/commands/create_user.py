import getpass
import sys

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.db import transaction

from oms import accounts, services
from oms.actors import Actor
from oms.management.commands._base import OmsCommand
from oms.models import Role


class Command(OmsCommand):
    help = (
        "Create a user (or reuse the one with that e-mail) and give them a role in a tenant. "
        "Store clerks are bound to store locations with --locations."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True)
        parser.add_argument("--email", required=True)
        parser.add_argument("--role", required=True, help=f"one of {', '.join(Role.values)}")
        parser.add_argument("--password", help="prompted when omitted and the user is new")
        parser.add_argument("--name", default="")
        parser.add_argument("--locations", default="", help="comma-separated location codes (store clerks)")
        parser.add_argument("--superuser", action="store_true", help="operator: sees every tenant in the admin")

    def handle(self, *args, tenant, email, role, password, name, locations, superuser, **options):
        if role not in Role.values:
            raise CommandError(f"Unknown role {role!r}: choose one of {', '.join(Role.values)}.")
        tenant = self.tenant(tenant)
        codes = [c.strip() for c in locations.split(",") if c.strip()]
        Location = apps.get_model("inventory", "Location")
        found = list(Location.objects.for_tenant(tenant).filter(code__in=codes))
        missing = sorted(set(codes) - {loc.code for loc in found})
        if missing:
            raise CommandError(f"Unknown location(s) in {tenant.slug}: {', '.join(missing)}.")
        if role == Role.STORE_CLERK and not codes:
            self.stderr.write("Note: a store clerk without --locations sees no store until one is assigned.")
        existing = get_user_model().objects.filter(email__iexact=email).first()
        if existing is None and password is None:
            if not self.stdin_isatty():
                raise CommandError("Give --password (no terminal to prompt on).")
            password = getpass.getpass(f"Password for {email}: ")
            if not password:
                raise CommandError("An empty password is not allowed.")
        actor = Actor.system("manage.py create_user")
        with transaction.atomic():
            user, created = services.create_user(
                email=email, password=password, full_name=name, tenant=tenant, actor=actor
            )
            membership, member_created = services.set_membership(
                tenant=tenant,
                user=user,
                role=role,
                locations=found if codes else None,  # none named: kept
                actor=actor,
            )
            if superuser:  # after the membership, so that the tenant's trail shows it
                accounts.update_user(user=user, actor=actor, values={"is_superuser": True, "is_staff": True})
        where = f" at {', '.join(codes)}" if codes else ""
        if created:
            self.stdout.write(self.style.SUCCESS(f"Created user {user.email} as {role} in {tenant.slug}{where}."))
        elif member_created:
            self.stdout.write(f"User {user.email} already exists; added as {role} in {tenant.slug}{where}.")
        else:
            self.stdout.write(f"User {user.email} already exists in {tenant.slug}; role is {role}{where}.")

    @staticmethod
    def stdin_isatty():
        return sys.stdin.isatty()
