from oms import services
from oms.errors import Conflict
from oms.management.commands._base import OmsCommand


class Command(OmsCommand):
    help = "Create a tenant (a retailer). Running it again for an existing slug says so and changes nothing."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--name", required=True)
        parser.add_argument("--currency", default="EUR")
        parser.add_argument("--timezone", default="Europe/Paris")
        parser.add_argument("--locale", default="fr")

    def handle(self, *args, slug, name, currency, timezone, locale, **options):
        try:
            tenant = services.create_tenant(
                slug=slug, name=name, currency=currency, timezone_name=timezone, locale=locale
            )
        except Conflict:
            tenant = services.get_tenant(slug)
            self.stdout.write(
                f"Tenant {tenant.slug} already exists ({tenant.name}, {tenant.default_currency}, "
                f"{tenant.timezone}); nothing changed."
            )
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Created tenant {tenant.slug} ({tenant.name}, {tenant.default_currency}, {tenant.timezone})."
            )
        )
