from datetime import date

from django.core.management.base import CommandError

from oms.management.commands._base import OmsCommand
from reporting import aggregation

BAR = 30


class Command(OmsCommand):
    help = (
        "Recompute a tenant's KPI tables for a range of days from the orders, fulfilments, returns, counts and "
        "stock ledger, a month at a time, with a progress bar. Safe to run again; the dashboards read the new "
        "figures as each month is written."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="the tenant's slug")
        parser.add_argument("--from", dest="first", required=True, help="first day, YYYY-MM-DD")
        parser.add_argument("--to", dest="last", help="last day, YYYY-MM-DD (today by default)")

    def handle(self, *args, tenant, first, last=None, **options):
        tenant_obj = self.tenant(tenant)
        try:
            first_day = date.fromisoformat(first)
            last_day = date.fromisoformat(last) if last else aggregation.today_for(tenant_obj)
        except ValueError as exc:
            raise CommandError(f"Give days as YYYY-MM-DD ({exc}).") from None
        if last_day < first_day:
            raise CommandError("--from comes after --to.")

        def progress(done: int, total: int) -> None:
            filled = BAR * done // total
            self.stdout.write(f"\r[{'#' * filled}{'.' * (BAR - filled)}] {done}/{total} days", ending="")
            self.stdout.flush()

        days = aggregation.rebuild_range(tenant=tenant_obj, first=first_day, last=last_day, progress=progress)
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"KPIs of {tenant} rebuilt for {days} days ({first_day} to {last_day})."))
