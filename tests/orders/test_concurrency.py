"""Intake and fulfilment facts under concurrency, in one process with real threads: order numbers unique and
increasing per tenant, one customer per e-mail however many first orders race, invoice numbers gap-free.

The flash sale, duplicate Idempotency-Keys and duplicate external references race through a real HTTP server
in test_http_concurrency.py."""

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from oms.actors import Actor
from oms.services import create_api_key
from orders import services
from orders.models import Customer, Invoice, Order
from tests import factories
from tests.orders.support import build_shop, order_body, stock
from tests.race import race

pytestmark = pytest.mark.django_db(transaction=True)
SYSTEM = Actor.system("tests")


def _client(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def test_sixteen_concurrent_clients_get_unique_order_numbers(tenant):
    shop = build_shop(tenant, code="RUSH")
    for product in shop.products:
        stock(tenant, product, shop.wh1, 1000)
    issued = create_api_key(tenant=tenant, label=f"rush-{factories.next_id()}", actor=SYSTEM)
    clients, per_client = 16, 3

    def place(index):
        client = _client(issued.secret)
        answers = []
        for round_ in range(per_client):
            response = client.post(
                "/api/v1/orders/",
                order_body(shop, external_ref=f"RUSH-{index}-{round_}"),
                format="json",
                HTTP_IDEMPOTENCY_KEY=f"rush-{index}-{round_}",
            )
            answers.append((response.status_code, response.json().get("number")))
        return answers

    outcomes = race(clients, place)

    assert outcomes.errors == []
    answers = [answer for answers in outcomes for answer in answers]
    assert [status for status, _ in answers] == [201] * clients * per_client
    numbers = sorted(number for _, number in answers)
    assert numbers == sorted(Order.objects.for_tenant(tenant).values_list("number", flat=True))
    assert numbers == [f"SO-{n:06d}" for n in range(1, clients * per_client + 1)]


def test_racing_first_orders_of_one_customer_create_the_customer_once(tenant):
    shop = build_shop(tenant, code="NEW")
    for product in shop.products:
        stock(tenant, product, shop.wh1, 1000)
    issued = create_api_key(tenant=tenant, label=f"new-{factories.next_id()}", actor=SYSTEM)
    clients = 8

    def place(index):
        body = order_body(
            shop, external_ref=f"NEW-{index}", customer={"email": "First.Time@example.com", "name": "First Time"}
        )
        return _client(issued.secret).post("/api/v1/orders/", body, format="json").status_code

    outcomes = race(clients, place)

    assert outcomes == [201] * clients
    customers = Customer.objects.for_tenant(tenant).filter(email="first.time@example.com")
    assert customers.count() == 1
    assert Order.objects.for_tenant(tenant).filter(customer=customers.get()).count() == clients


def test_invoice_numbers_stay_gap_free_when_shipments_are_recorded_concurrently(tenant):
    shop = build_shop(tenant, code="INV")
    orders = []
    for index in range(8):
        data = services.OrderInput(
            channel=shop.channel,
            external_ref=f"INV-{index}",
            currency="EUR",
            customer={"email": f"c{index}@example.com"},
            address={"line1": "1 rue", "city": "Paris", "postal_code": "75001", "country": "FR"},
            lines=[services.LineInput(sku=shop.a.sku, quantity=1, unit_price=10)],
        )
        orders.append(services.place_order(tenant=tenant, actor=SYSTEM, data=data))

    def ship(index):
        order = orders[index]
        if index == 3:
            # A shipment whose transaction fails after taking its number must not leave a gap.
            try:
                with transaction.atomic():
                    services.record_shipment(
                        tenant=tenant,
                        order_id=order.id,
                        actor=SYSTEM,
                        lines=[services.LineQuantity(order.lines_list[0].id, 1)],
                    )
                    raise RuntimeError("carrier label failed")
            except RuntimeError:
                return "rolled back"
        services.record_shipment(
            tenant=tenant, order_id=order.id, actor=SYSTEM, lines=[services.LineQuantity(order.lines_list[0].id, 1)]
        )
        return "shipped"

    outcomes = race(8, ship)

    assert outcomes.count("shipped") == 7, outcomes
    numbers = list(Invoice.objects.for_tenant(tenant).order_by("sequence").values_list("sequence", flat=True))
    assert numbers == list(range(1, 8))
