"""Concurrency on real PostgreSQL with real threads: flash sales, duplicate retries, gap-free invoice numbers."""
import threading

import pytest
from django.db import connection, transaction
from rest_framework.test import APIClient

from inventory.models import Reservation, StockLevel
from oms.actors import Actor
from oms.services import create_api_key
from orders import services
from orders.models import Invoice, Order
from tests import factories
from tests.orders.support import build_shop, order_body, stock

pytestmark = pytest.mark.django_db(transaction=True)


def _clients(tenant, count):
    issued = create_api_key(tenant=tenant, label=f"load-{factories.next_id()}", actor=Actor.system("tests"))
    clients = []
    for _ in range(count):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.secret}")
        clients.append(client)
    return clients


def _run_together(work, count):
    """Run work(i) in `count` threads released at the same instant; returns their results in order."""
    results = [None] * count
    barrier = threading.Barrier(count)

    def run(index):
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as exc:  # surfaced by the assertions below
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_a_flash_sale_sells_exactly_the_units_in_stock_and_refuses_the_rest_cleanly(tenant):
    shop = build_shop(tenant, code="FLASH")
    hot = factories.ProductFactory(tenant=tenant, sku="HOT")
    stock(tenant, hot, shop.wh1, 3)
    stock(tenant, hot, shop.wh2, 2)
    buyers = 16
    clients = _clients(tenant, buyers)

    def buy(index):
        body = order_body(shop, external_ref=f"FLASH-{index}",
                          lines=[{"sku": "HOT", "quantity": 1, "unit_price": "9.99"}])
        response = clients[index].post("/api/v1/orders/", body, format="json")
        return response.status_code, response["Content-Type"], response.json()

    results = _run_together(buy, buyers)

    statuses = sorted(result[0] for result in results)
    assert statuses == [201] * 5 + [409] * 11, results
    refused = [result for result in results if result[0] == 409]
    assert all(content_type == "application/problem+json" for _, content_type, _ in refused)
    assert all(body["code"] == "insufficient_stock" and body["lines"][0]["sku"] == "HOT" for _, _, body in refused)
    levels = StockLevel.objects.for_tenant(tenant).filter(product=hot)
    assert sum(level.reserved for level in levels) == 5
    assert all(0 <= level.reserved <= level.on_hand for level in levels)
    assert Order.objects.for_tenant(tenant).count() == 5
    assert sorted(Order.objects.for_tenant(tenant).values_list("number", flat=True)) == [
        f"SO-{n:06d}" for n in range(1, 6)]


def test_concurrent_duplicate_posts_with_one_idempotency_key_create_one_order(tenant):
    shop = build_shop(tenant, code="IDEM")
    clients = _clients(tenant, 8)
    body = order_body(shop, external_ref="IDEM-1")

    def post(index):
        response = clients[index].post("/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="same-key")
        return response.status_code, response.json()

    results = _run_together(post, 8)

    assert {status for status, _ in results} <= {201, 409}, results
    created = [body for status, body in results if status == 201]
    assert len({order["id"] for order in created}) == 1
    assert Order.objects.for_tenant(tenant).count() == 1
    assert StockLevel.objects.for_tenant(tenant).get(product=shop.a, location=shop.wh1).reserved == 2


def test_concurrent_posts_of_one_external_ref_create_one_order_and_name_it_to_the_others(tenant):
    shop = build_shop(tenant, code="DUP")
    clients = _clients(tenant, 6)
    body = order_body(shop, external_ref="DUP-1")

    def post(index):
        response = clients[index].post("/api/v1/orders/", body, format="json")
        return response.status_code, response.json()

    results = _run_together(post, 6)

    assert sorted(status for status, _ in results) == [201] + [409] * 5, results
    order = Order.objects.for_tenant(tenant).get()
    assert all(body["order_id"] == order.id for status, body in results if status == 409)
    assert Reservation.objects.for_tenant(tenant).filter(status="active").count() == 2


def test_invoice_numbers_stay_gap_free_when_shipments_are_recorded_concurrently(tenant):
    shop = build_shop(tenant, code="INV")
    actor = Actor.system("tests")
    orders = []
    for index in range(8):
        data = services.OrderInput(channel=shop.channel, external_ref=f"INV-{index}", currency="EUR",
                                   customer={"email": f"c{index}@example.com"},
                                   address={"line1": "1 rue", "city": "Paris", "postal_code": "75001",
                                            "country": "FR"},
                                   lines=[services.LineInput(sku=shop.a.sku, quantity=1, unit_price=10)])
        orders.append(services.place_order(tenant=tenant, actor=actor, data=data))

    def ship(index):
        order = orders[index]
        if index == 3:
            # A shipment whose transaction fails after taking its number must not leave a gap.
            try:
                with transaction.atomic():
                    services.record_shipment(tenant=tenant, order_id=order.id, actor=actor, lines=[
                        services.LineQuantity(order.lines_list[0].id, 1)])
                    raise RuntimeError("carrier label failed")
            except RuntimeError:
                return "rolled back"
        services.record_shipment(tenant=tenant, order_id=order.id, actor=actor,
                                 lines=[services.LineQuantity(order.lines_list[0].id, 1)])
        return "shipped"

    results = _run_together(ship, 8)

    assert results.count("shipped") == 7, results
    numbers = list(Invoice.objects.for_tenant(tenant).order_by("sequence").values_list("sequence", flat=True))
    assert numbers == list(range(1, 8))
