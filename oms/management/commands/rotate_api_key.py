from datetime import timedelta

from django.core.management.base import CommandError

from oms import services
from oms.actors import Actor
from oms.management.commands._base import OmsCommand
from oms.models import ApiKey


class Command(OmsCommand):
    help = (
        "Rotate a tenant's API key: a new secret with the same label, channel and rate, printed once on the last "
        "line; the old secret keeps working for --overlap-hours (default 24, 0 stops it at once)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True)
        parser.add_argument("--label", required=True, help="the label of the active key to rotate")
        parser.add_argument("--overlap-hours", type=float, default=24.0)

    def handle(self, *args, tenant, label, overlap_hours, **options):
        tenant = self.tenant(tenant)
        key = ApiKey.objects.for_tenant(tenant).filter(label=label, revoked_at__isnull=True).first()
        if key is None:
            raise CommandError(f"No active API key labelled {label!r} in {tenant.slug}.")
        if not 0 <= overlap_hours <= services.MAX_ROTATION_OVERLAP.days * 24:
            raise CommandError(f"--overlap-hours: from 0 to {services.MAX_ROTATION_OVERLAP.days * 24}.")
        issued = services.rotate_api_key(
            tenant=tenant,
            key_id=key.id,
            actor=Actor.system("manage.py rotate_api_key"),
            overlap=timedelta(hours=overlap_hours),
        )
        key.refresh_from_db()
        self.stdout.write(
            f"API key {label!r} of tenant {tenant.slug} rotated; the old secret (prefix {key.prefix}) works until "
            f"{key.expires_at:%Y-%m-%d %H:%M:%S %Z}. Keep this secret, it is shown once:"
        )
        self.stdout.write(issued.secret)
