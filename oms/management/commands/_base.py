from django.core.management.base import BaseCommand, CommandError

from oms.errors import DomainError
from oms.services import get_tenant


class OmsCommand(BaseCommand):
    """Domain errors become a one-line CommandError, never a traceback."""

    def execute(self, *args, **options):
        try:
            return super().execute(*args, **options)
        except DomainError as exc:
            errors = getattr(exc, "extra", {}).get("errors")
            detail = exc.detail + (f" {errors}" if errors else "")
            raise CommandError(detail) from None

    def tenant(self, slug):
        return get_tenant(slug)
