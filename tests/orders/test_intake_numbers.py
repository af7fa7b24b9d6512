"""Order numbers under concurrent intake: unique per tenant, never queued behind another open order."""
import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from oms.actors import Actor
from oms.services import create_api_key
from orders.models import Order
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
