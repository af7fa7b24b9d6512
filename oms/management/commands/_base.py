from django.core.management.base import BaseCommand, CommandError

from oms.errors import DomainError
from oms.services import get_tenant


def describe(exc: DomainError) -> str:
    """One line: the detail, then each field's messages."""
    errors = exc.extra.get("errors") or {}
    fields = "; ".join(f"{field}: {' '.join(str(m) for m in messages)}" for field, messages in errors.items())
    return f"{exc.detail} {fields}".strip() if fields else exc.detail


class OmsCommand(BaseCommand):
    """Domain errors become a one-line CommandError, never a traceback."""

    def execute(self, *args, **options):
        try:
            return super().execute(*args, **options)
        except DomainError as exc:
            raise CommandError(describe(exc)) from None

    def tenant(self, slug):
        return get_tenant(slug)
