"""`flush` as the tables' owner: TRUNCATE is not granted to the application's roles (it ignores row-level
security). The test suite flushes its tables this way between tests."""

from django.core.management.commands.flush import Command as DjangoFlush

from oms import rls


class Command(DjangoFlush):
    def execute(self, *args, **options):
        with rls.as_owner("flush"):
            return super().execute(*args, **options)
