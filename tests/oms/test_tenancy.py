"""Tenant scoping fails closed; gap-free per-tenant sequences."""

import pytest
from django.db import transaction

from oms.models import TenantSequence, WebhookSubscription
from oms.sequences import next_value
from tests.oms.conftest import subscribe
from tests.race import race

pytestmark = pytest.mark.django_db


def test_the_default_manager_of_a_tenant_model_returns_nothing(tenant, other_tenant):
    subscribe(tenant)
    subscribe(other_tenant)

    assert list(WebhookSubscription.objects.all()) == []
    assert WebhookSubscription.objects.count() == 0
    assert not WebhookSubscription.objects.filter(tenant=tenant).exists()
    assert WebhookSubscription.all_tenants.count() == 2


def test_for_tenant_returns_that_tenants_rows_only(tenant, other_tenant):
    mine = subscribe(tenant)
    subscribe(other_tenant)

    assert list(WebhookSubscription.objects.for_tenant(tenant)) == [mine]
    assert list(WebhookSubscription.all_tenants.for_tenant(tenant)) == [mine]


def test_for_tenant_none_raises(tenant):
    with pytest.raises(ValueError):
        WebhookSubscription.objects.for_tenant(None)
    with pytest.raises(ValueError):
        WebhookSubscription.all_tenants.for_tenant(None)


def test_creating_a_row_without_a_tenant_raises():
    with pytest.raises(ValueError):
        WebhookSubscription.objects.create(url="https://x.example", events=["*"], secret="s")


def test_get_or_create_finds_the_existing_row_of_its_tenant(tenant, other_tenant):
    first, created = TenantSequence.objects.get_or_create(tenant=tenant, name="orders")
    again, created_again = TenantSequence.objects.get_or_create(tenant=tenant, name="orders")
    theirs, created_theirs = TenantSequence.objects.get_or_create(tenant=other_tenant, name="orders")

    assert (created, created_again, created_theirs) == (True, False, True)
    assert again == first != theirs
    with pytest.raises(ValueError):
        TenantSequence.objects.get_or_create(name="orders")


def test_next_value_counts_per_tenant_and_name(tenant, other_tenant):
    with transaction.atomic():
        values = [next_value(tenant=tenant, name="orders") for _ in range(3)]
        invoices = next_value(tenant=tenant, name="invoices")
        theirs = next_value(tenant=other_tenant, name="orders")

    assert values == [1, 2, 3]
    assert invoices == 1
    assert theirs == 1


@pytest.mark.django_db(transaction=True)
def test_next_value_needs_a_transaction(tenant):
    with pytest.raises(RuntimeError):
        next_value(tenant=tenant, name="orders")


def test_a_rolled_back_number_is_given_again(tenant):
    with transaction.atomic():
        assert next_value(tenant=tenant, name="orders") == 1
    try:
        with transaction.atomic():
            assert next_value(tenant=tenant, name="orders") == 2
            raise RuntimeError("the order was not placed")
    except RuntimeError:
        pass
    with transaction.atomic():
        assert next_value(tenant=tenant, name="orders") == 2


@pytest.mark.django_db(transaction=True)
def test_next_value_is_unique_and_gap_free_under_concurrency(tenant, other_tenant):
    def take(index):
        which = tenant if index % 4 else other_tenant
        with transaction.atomic():
            return which.id, next_value(tenant=which, name="orders")

    outcomes = race(20, take, timeout=30)

    assert outcomes.errors == []
    results = list(outcomes)
    mine = sorted(value for tenant_id, value in results if tenant_id == tenant.id)
    theirs = sorted(value for tenant_id, value in results if tenant_id == other_tenant.id)
    assert mine == list(range(1, 16))
    assert theirs == list(range(1, 6))


def test_a_model_without_its_own_tenant_index_has_a_composite_index_led_by_the_tenant():
    """tenant_field(db_index=False) is only for models whose tenant filters another index serves."""
    from django.apps import apps
    from django.db import models

    from oms.tenancy import TenantModel

    unindexed = [
        model
        for model in apps.get_models()
        if issubclass(model, TenantModel) and not model._meta.get_field("tenant").db_index
    ]
    assert {model.__name__ for model in unindexed} >= {"Order", "OrderLine", "Reservation", "OutboxEvent"}
    for model in unindexed:
        meta = model._meta
        leads = [list(index.fields)[0] for index in meta.indexes if index.fields and index.condition is None]
        leads += [
            list(c.fields)[0]
            for c in meta.constraints
            if isinstance(c, models.UniqueConstraint) and c.fields and c.condition is None
        ]
        assert "tenant" in leads, f"{model.__name__}: no index or unique constraint led by the tenant"
