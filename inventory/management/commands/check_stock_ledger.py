from django.core.management.base import CommandError

from inventory.ledger import ledger_discrepancies
from inventory.models import Lot, StockLevel
from oms import rls
from oms.management.commands._base import OmsCommand


class Command(OmsCommand):
    help = (
        "Prove the stock ledger: for every stock row (and lot), on_hand equals the sum of its movements and "
        "0 <= reserved <= on_hand; a lot-tracked row equals the sum of its lots. Lists the rows that do not "
        "and exits with an error if there are any."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="check one tenant (slug); all tenants by default")
        parser.add_argument(
            "--reservations",
            action="store_true",
            help="also check that reserved equals the units of the row's active reservations",
        )

    def handle(self, *args, tenant=None, reservations=False, **options):
        if tenant:
            self._check(self.tenant(tenant), reservations)
        else:
            with rls.all_tenants("the ledger of every tenant"):
                self._check(None, reservations)

    def _check(self, tenant_obj, reservations):
        problems = ledger_discrepancies(tenant=tenant_obj, check_reservations=reservations)
        levels = StockLevel.all_tenants.filter(tenant=tenant_obj) if tenant_obj else StockLevel.all_tenants.all()
        lots = Lot.all_tenants.filter(tenant=tenant_obj) if tenant_obj else Lot.all_tenants.all()
        checked = f"{levels.count()} stock rows and {lots.count()} lots"
        if not problems:
            self.stdout.write(self.style.SUCCESS(f"Ledger OK: {checked} checked."))
            return
        for problem in problems:
            self.stdout.write(str(problem))
        raise CommandError(f"{len(problems)} ledger problem(s) in {checked}.")
