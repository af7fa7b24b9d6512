"""The orders models speak the user's language in the admin, and their migrations are up to date."""

import io

import pytest
from django.apps import apps
from django.core.management import call_command
from django.utils.functional import Promise

ORDER_MODELS = list(apps.get_app_config("orders").get_models())


@pytest.mark.parametrize("model", ORDER_MODELS, ids=lambda model: model.__name__)
def test_every_orders_model_and_field_has_a_translatable_name(model):
    untranslated = [
        field.name
        for field in model._meta.get_fields()
        # `tenant` comes from the shared TenantModel base and is never editable; Django names the
        # implicit primary keys itself.
        if field.concrete
        and not field.auto_created
        and field.name != "tenant"
        and not isinstance(field.verbose_name, Promise)
    ]

    assert isinstance(model._meta.verbose_name, Promise)
    assert isinstance(model._meta.verbose_name_plural, Promise)
    assert untranslated == []


@pytest.mark.django_db
def test_the_orders_migrations_match_the_models():
    out = io.StringIO()

    try:
        call_command("makemigrations", "orders", "--check", "--dry-run", stdout=out)
    except SystemExit as exc:  # --check exits non-zero when a migration is missing
        pytest.fail(f"orders models changed without a migration ({exc}):\n{out.getvalue()}")
