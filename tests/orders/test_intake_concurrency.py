"""Concurrent intake: order numbers unique per tenant, one customer per e-mail however many first orders race."""
import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from oms.actors import Actor
from oms.services import create_api_key
from orders.models import Customer, Order
from tests import factories
from tests.orders.support import build_shop, order_body, stock

pytestmark = pytest.mark.django_db(transaction=True)


def test_sixteen_concurrent_clients_get_unique_order_numbers(tenant):
    shop = build_shop(tenant, code="RUSH")
    for product in shop.products:
        stock(tenant, product, shop.wh1, 1000)
    issued = create_api_key(tenant=tenant, label=f"rush-{factories.next_id()}", actor=Actor.system("tests"))
    clients, per_client = 16, 3
    barrier = threading.Barrier(clients)
    answers, errors = [], []

    def place(index):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.secret}")
        try:
            barrier.wait(timeout=10)
            for round_ in range(per_client):
                response = client.post("/api/v1/orders/", order_body(shop, external_ref=f"RUSH-{index}-{round_}"),
                                       format="json", HTTP_IDEMPOTENCY_KEY=f"rush-{index}-{round_}")
                answers.append((response.status_code, response.json().get("number")))
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=place, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    assert [status for status, _ in answers] == [201] * clients * per_client
    numbers = sorted(number for _, number in answers)
    assert numbers == sorted(Order.objects.for_tenant(tenant).values_list("number", flat=True))
    assert numbers == [f"SO-{n:06d}" for n in range(1, clients * per_client + 1)]


def test_racing_first_orders_of_one_customer_create_the_customer_once(tenant):
    shop = build_shop(tenant, code="NEW")
    for product in shop.products:
        stock(tenant, product, shop.wh1, 1000)
    issued = create_api_key(tenant=tenant, label=f"new-{factories.next_id()}", actor=Actor.system("tests"))
    clients = 8
    barrier = threading.Barrier(clients)
    statuses, errors = [], []

    def place(index):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.secret}")
        body = order_body(shop, external_ref=f"NEW-{index}",
                          customer={"email": "First.Time@example.com", "name": "First Time"})
        try:
            barrier.wait(timeout=10)
            statuses.append(client.post("/api/v1/orders/", body, format="json").status_code)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=place, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == [] and statuses == [201] * clients
    customers = Customer.objects.for_tenant(tenant).filter(email="first.time@example.com")
    assert customers.count() == 1
    assert Order.objects.for_tenant(tenant).filter(customer=customers.get()).count() == clients
