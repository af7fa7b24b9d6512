"""Per-tenant numbers: gap-free ones (invoices) and unique, non-blocking ones (orders)."""

import threading

import pytest
from django.db import connection, transaction

from oms.models import TenantSequence
from oms.sequences import next_unique_value, next_value
from tests.race import in_background, race

pytestmark = pytest.mark.django_db


def test_next_value_is_one_statement_once_the_sequence_exists(tenant, django_assert_num_queries):
    with transaction.atomic():
        next_value(tenant=tenant, name="invoice")
        with django_assert_num_queries(1):
            assert next_value(tenant=tenant, name="invoice") == 2


def test_unique_values_count_per_tenant_and_name(tenant, other_tenant):
    with transaction.atomic():
        ours = [next_unique_value(tenant=tenant, name="order") for _ in range(3)]
        other_name = next_unique_value(tenant=tenant, name="quote")
        theirs = next_unique_value(tenant=other_tenant, name="order")

    assert ours == [1, 2, 3]
    assert other_name == 1
    assert theirs == 1


def test_unique_values_continue_after_the_gap_free_counter_of_the_same_name(tenant):
    TenantSequence.objects.create(tenant=tenant, name="order", value=41)

    with transaction.atomic():
        assert next_unique_value(tenant=tenant, name="order") == 42


def test_unique_values_are_one_statement_once_the_sequence_exists(tenant, django_assert_num_queries):
    with transaction.atomic():
        next_unique_value(tenant=tenant, name="order")
        with django_assert_num_queries(1):
            assert next_unique_value(tenant=tenant, name="order") == 2


def test_unique_value_names_are_plain_identifiers(tenant):
    with pytest.raises(ValueError):
        next_unique_value(tenant=tenant, name='order"; DROP TABLE oms_tenant; --')


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_unique_value_is_not_given_again(tenant):
    with transaction.atomic():
        assert next_unique_value(tenant=tenant, name="order") == 1
    try:
        with transaction.atomic():
            assert next_unique_value(tenant=tenant, name="order") == 2
            raise RuntimeError("the order was not placed")
    except RuntimeError:
        pass
    with transaction.atomic():
        assert next_unique_value(tenant=tenant, name="order") == 3


@pytest.mark.django_db(transaction=True)
def test_a_unique_value_does_not_wait_for_an_open_transaction_of_the_tenant(tenant):
    with transaction.atomic():
        next_unique_value(tenant=tenant, name="order")  # the sequence exists from here on
    taken, release = threading.Event(), threading.Event()

    def hold_a_number_open():
        with transaction.atomic():
            value = next_unique_value(tenant=tenant, name="order")
            taken.set()
            release.wait(10)
        return value

    with in_background(hold_a_number_open) as done:
        try:
            assert taken.wait(10)
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '1s'")
                mine = next_unique_value(tenant=tenant, name="order")
        finally:
            release.set()

    assert (done, mine) == ([2], 3)


@pytest.mark.django_db(transaction=True)
def test_unique_values_never_repeat_under_concurrency_even_on_first_use(tenant, other_tenant):
    threads_count, per_thread = 16, 5

    def take(index):
        which = tenant if index % 4 else other_tenant
        taken = []
        for _ in range(per_thread):
            with transaction.atomic():
                taken.append((which.id, next_unique_value(tenant=which, name="order")))
        return taken

    outcomes = race(threads_count, take, timeout=30)

    assert outcomes.errors == []
    results = [pair for taken in outcomes for pair in taken]
    ours = sorted(value for tenant_id, value in results if tenant_id == tenant.id)
    theirs = sorted(value for tenant_id, value in results if tenant_id == other_tenant.id)
    assert ours == list(range(1, 12 * per_thread + 1))
    assert theirs == list(range(1, 4 * per_thread + 1))
