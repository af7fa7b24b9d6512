from django.core.management.base import BaseCommand, CommandError

from oms import rls
from oms.errors import DomainError
from oms.services import get_tenant


def describe(exc: DomainError) -> str:
    """One line: the detail, then each field's messages."""
    errors = exc.extra.get("errors") or {}
    fields = "; ".join(f"{field}: {' '.join(str(m) for m in messages)}" for field, messages in errors.items())
    return f"{exc.detail} {fields}".strip() if fields else exc.detail


class OmsCommand(BaseCommand):
    """Domain errors become a one-line CommandError, never a traceback.

    A command runs in its own row-level security frame (oms.rls), set to no tenant: `tenant(slug)` binds it to
    the tenant the command names, and a command that works across tenants says so and why, with `across_tenants`
    on the class or `rls.all_tenants(...)` around the part that does."""

    across_tenants: str | None = None

    def execute(self, *args, **options):
        name = self.__class__.__module__.rsplit(".", 1)[-1]
        frame = rls.all_tenants(f"manage.py {name}: {self.across_tenants}") if self.across_tenants else rls.unscoped()
        try:
            with frame:
                return super().execute(*args, **options)
        except DomainError as exc:
            raise CommandError(describe(exc)) from None

    def tenant(self, slug):
        tenant = get_tenant(slug)
        if not self.across_tenants:
            rls.bind(tenant.id)
        return tenant
