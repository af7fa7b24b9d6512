from django.core.management.base import CommandError

from oms import services
from oms.actors import Actor
from oms.management.commands._base import OmsCommand
from oms.models import ApiKey
from oms.sales_channels import find_channel


class Command(OmsCommand):
    help = (
        "Issue an API key for a tenant, optionally bound to a sales channel. The secret is printed once, "
        "on the last line. A label already in use is reported; the existing secret cannot be shown again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True)
        parser.add_argument("--label", required=True)
        parser.add_argument("--channel", help="channel code: every call made with this key acts for that channel")
        parser.add_argument("--throttle", default="", help="this key's own rate, e.g. 500/s, or off")

    def handle(self, *args, tenant, label, channel, throttle, **options):
        tenant = self.tenant(tenant)
        channel_obj = None
        if channel:
            channel_obj = find_channel(tenant=tenant, code=channel)
            if channel_obj is None:
                raise CommandError(f"No channel {channel!r} in tenant {tenant.slug}.")
        existing = ApiKey.objects.for_tenant(tenant).filter(label=label).first()
        if existing is not None:
            state = "revoked" if existing.revoked_at else "active"
            raise CommandError(
                f"An API key labelled {label!r} already exists in {tenant.slug} (prefix "
                f"{existing.prefix}, {state}); its secret cannot be shown again. Choose another label."
            )
        issued = services.create_api_key(
            tenant=tenant,
            label=label,
            channel=channel_obj,
            throttle_rate=throttle,
            actor=Actor.system("manage.py create_api_key"),
        )
        self.stdout.write(
            f"API key {label!r} for tenant {tenant.slug}"
            + (f", channel {channel}" if channel else "")
            + ". Keep this secret, it is shown once:"
        )
        self.stdout.write(issued.secret)
