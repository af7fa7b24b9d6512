"""`migrate` as the tables' owner: schema changes are the one thing the application's role may not do (oms.rls).
Row-level security is installed afterwards, on post_migrate."""

from django.core.management.commands.migrate import Command as DjangoMigrate

from oms import rls


class Command(DjangoMigrate):
    def execute(self, *args, **options):
        with rls.as_owner("migrate"):
            return super().execute(*args, **options)
