"""Customer satisfaction responses: one per order received, sent by the shop through the API or answered on the page
of the signed link the shop sends its customer (no account), each with its timeline entry and its
`order.feedback_received` event; the link's page in English and French, its tampered and expired links, and two
responses racing for one order."""

import re
import time
from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings
from django.core import signing
from django.test import Client
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.test import APIClient

from oms.actors import Actor
from oms.api.scope import Scope
from oms.models import OutboxEvent, Role
from oms.services import create_api_key, set_membership
from orders import services
from orders.models import EventKind, Feedback, OrderEvent
from orders.services.feedback import LINK_VALIDITY, FeedbackExists
from tests import factories
from tests.conftest import make_api_client
from tests.orders.support import build_shop, order_body, stock
from tests.race import race

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("tests")


def _place(api, shop, **overrides) -> dict:
    answer = api.post("/api/v1/orders/", order_body(shop, **overrides), format="json")
    assert answer.status_code == 201, answer.json()
    return answer.json()


def _ship(tenant, order: dict) -> None:
    services.record_shipment(
        tenant=tenant,
        order_id=order["id"],
        actor=SYSTEM,
        lines=[services.LineQuantity(order["lines"][0]["id"], 1)],
    )


@pytest.fixture
def shipped(tenant, shop, api) -> dict:
    """An order one unit of which has left the warehouse."""
    order = _place(api, shop)
    _ship(tenant, order)
    return order


def _feedback_url(order) -> str:
    return f"/api/v1/orders/{order['id']}/feedback/"


def _link(api, order) -> str:
    """The path of the order's feedback link (the page under OMS_PUBLIC_URL)."""
    answer = api.get(f"/api/v1/orders/{order['id']}/feedback-link/")
    assert answer.status_code == 200, answer.json()
    return answer.json()["url"].removeprefix(settings.OMS_PUBLIC_URL)


# --- the API ----------------------------------------------------------------------------------------------------


def test_a_shop_records_its_customers_response_to_an_order_they_received(api, tenant, shipped):
    answer = api.post(_feedback_url(shipped), {"score": 4, "comment": " Quick, well packed. "}, format="json")

    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert body.pop("created_at")
    assert body == {
        "order": shipped["id"],
        "number": shipped["number"],
        "score": 4,
        "comment": "Quick, well packed.",
        "source": "api",
    }
    assert answer["Location"] == _feedback_url(shipped)
    stored = Feedback.objects.for_tenant(tenant).get()
    assert (stored.order_id, stored.score, stored.source) == (shipped["id"], 4, "api")


def test_the_response_is_read_back_and_404_before_there_is_one(api, shipped):
    assert api.get(_feedback_url(shipped)).status_code == 404

    api.post(_feedback_url(shipped), {"score": 5}, format="json")
    answer = api.get(_feedback_url(shipped))

    assert answer.status_code == 200
    assert answer.json() | {"score": 5, "comment": "", "source": "api"} == answer.json()


def test_the_response_is_told_by_an_event_and_written_on_the_timeline(api, tenant, shipped):
    api.post(_feedback_url(shipped), {"score": 2, "comment": "Late."}, format="json")

    event = OutboxEvent.objects.for_tenant(tenant).get(topic="order.feedback_received")
    feedback = Feedback.objects.for_tenant(tenant).get()
    assert (
        event.payload
        | {
            "order_id": shipped["id"],
            "number": shipped["number"],
            "channel": "WEB",
            "feedback_id": feedback.id,
            "score": 2,
            "comment": "Late.",
            "source": "api",
        }
        == event.payload
    )
    assert parse_datetime(event.payload["created_at"]) == feedback.created_at
    entry = OrderEvent.objects.for_tenant(tenant).get(order_id=shipped["id"], kind=EventKind.FEEDBACK_RECEIVED)
    assert entry.message == "Score 2/5, sent by the shop." and entry.actor_label.startswith("api-key:")


def test_a_second_response_is_a_conflict_and_changes_nothing(api, tenant, shipped):
    first = api.post(_feedback_url(shipped), {"score": 5}, format="json")

    second = api.post(_feedback_url(shipped), {"score": 1, "comment": "Changed my mind"}, format="json")
    third = api.post(_feedback_url(shipped), {"score": 3}, format="json")

    assert first.status_code == 201
    for answer in (second, third):
        assert answer.status_code == 409
        assert answer["Content-Type"] == "application/problem+json"
        assert answer.json()["code"] == "feedback_exists" and answer.json()["order"] == shipped["id"]
    assert list(Feedback.objects.for_tenant(tenant).values_list("score", flat=True)) == [5]
    assert OutboxEvent.objects.for_tenant(tenant).filter(topic="order.feedback_received").count() == 1


def test_a_retry_with_the_same_idempotency_key_replays_the_first_answer(api, tenant, shipped):
    first = api.post(_feedback_url(shipped), {"score": 4}, format="json", HTTP_IDEMPOTENCY_KEY="fb-1")
    again = api.post(_feedback_url(shipped), {"score": 4}, format="json", HTTP_IDEMPOTENCY_KEY="fb-1")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert Feedback.objects.for_tenant(tenant).count() == 1


def test_an_order_nothing_of_which_has_shipped_cannot_be_rated(api, tenant, shop):
    placed = _place(api, shop)

    answer = api.post(_feedback_url(placed), {"score": 3}, format="json")

    assert answer.status_code == 409 and answer.json()["code"] == "order_not_received"
    assert not Feedback.objects.for_tenant(tenant).exists()


def test_an_in_store_sale_can_be_rated_at_once(tenant):
    store = factories.LocationFactory(tenant=tenant, code="LYO", kind="store")
    till = factories.ChannelFactory(tenant=tenant, code="TILL", kind="store")
    factories.ChannelLocationFactory(tenant=tenant, channel=till, location=store, priority=0)
    mug = factories.ProductFactory(tenant=tenant, sku="TILL-MUG")
    stock(tenant, mug, store, 4)
    api = make_api_client(tenant, channel=till)
    sale = {
        "external_ref": "TICKET-1",
        "currency": "EUR",
        "delivery": {"method": "in_store"},
        "lines": [{"sku": "TILL-MUG", "quantity": 1, "unit_price": "8.00"}],
    }
    order = api.post("/api/v1/orders/", sale, format="json").json()

    assert api.post(_feedback_url(order), {"score": 5}, format="json").status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"score": 0}, "score"),
        ({"score": 6}, "score"),
        ({"score": "great"}, "score"),
        ({"comment": "No score"}, "score"),
        ({"score": 4, "comment": "x" * 2001}, "comment"),
        ({"score": 4, "rating": 5}, "rating"),
        ({"score": 4, "source": "link"}, "source"),
    ],
)
def test_a_score_out_of_range_or_an_unknown_field_is_refused(api, tenant, shipped, body, field):
    answer = api.post(_feedback_url(shipped), body, format="json")

    assert answer.status_code == 400
    assert field in answer.json()["errors"]
    assert not Feedback.objects.for_tenant(tenant).exists()


def test_another_tenants_order_is_not_found_before_the_body_is_read(other_tenant, shipped):
    stranger = make_api_client(other_tenant)

    for answer in (
        stranger.post(_feedback_url(shipped), {"score": "not even a number"}, format="json"),
        stranger.get(_feedback_url(shipped)),
        stranger.get(f"/api/v1/orders/{shipped['id']}/feedback-link/"),
    ):
        assert answer.status_code == 404

    assert not Feedback.all_tenants.exists()


def test_a_channel_key_rates_only_its_own_channels_orders(tenant, shop, shipped):
    own = make_api_client(tenant, channel=shop.channel)
    other = make_api_client(tenant, channel=factories.ChannelFactory(tenant=tenant, code="MKT", kind="marketplace"))

    assert other.post(_feedback_url(shipped), {"score": "x"}, format="json").status_code == 404
    assert other.get(f"/api/v1/orders/{shipped['id']}/feedback-link/").status_code == 404
    assert own.post(_feedback_url(shipped), {"score": 3}, format="json").status_code == 201
    assert other.get(_feedback_url(shipped)).status_code == 404


@pytest.mark.parametrize(("role", "reads", "writes"), [(Role.VIEWER, 200, 403), (Role.STORE_CLERK, 403, 403)])
def test_members_read_and_record_as_the_role_matrix_says(user_client, api, shipped, role, reads, writes):
    api.post(_feedback_url(shipped), {"score": 4}, format="json")
    member = user_client(role)

    assert member.get(_feedback_url(shipped)).status_code == reads
    answer = member.post(_feedback_url(shipped), {"score": 4}, content_type="application/json")
    assert answer.status_code == writes


def test_the_order_detail_carries_its_response(api, shipped):
    assert api.get(f"/api/v1/orders/{shipped['id']}/").json()["feedback"] is None

    api.post(_feedback_url(shipped), {"score": 3, "comment": "OK"}, format="json")

    feedback = api.get(f"/api/v1/orders/{shipped['id']}/").json()["feedback"]
    assert feedback | {"score": 3, "comment": "OK", "source": "api"} == feedback


# --- the link ---------------------------------------------------------------------------------------------------


def test_the_link_opens_the_rating_page_of_the_order_for_60_days(api, tenant, shipped):
    before = timezone.now()
    answer = api.get(f"/api/v1/orders/{shipped['id']}/feedback-link/")

    body = answer.json()
    assert body["url"].startswith(f"{settings.OMS_PUBLIC_URL}/feedback/") and body["url"].endswith("/")
    expires = parse_datetime(body["expires_at"])
    assert before + LINK_VALIDITY - timedelta(seconds=1) <= expires <= timezone.now() + LINK_VALIDITY
    page = Client().get(body["url"].removeprefix(settings.OMS_PUBLIC_URL))
    assert page.status_code == 200
    text = page.content.decode()
    assert shipped["number"] in text and tenant.name in text
    assert text.count('type="radio" name="score"') == 5


def test_the_customer_rates_the_order_through_the_link_without_an_account(api, tenant, shipped):
    page = _link(api, shipped)

    answer = Client().post(page, {"score": "5", "comment": "Perfect"})

    assert answer.status_code == 200
    assert "Thank you!" in answer.content.decode()
    stored = Feedback.objects.for_tenant(tenant).get()
    assert (stored.order_id, stored.score, stored.comment, stored.source) == (shipped["id"], 5, "Perfect", "link")
    event = OutboxEvent.objects.for_tenant(tenant).get(topic="order.feedback_received")
    assert event.payload["source"] == "link" and event.payload["score"] == 5
    entry = OrderEvent.objects.for_tenant(tenant).get(kind=EventKind.FEEDBACK_RECEIVED)
    assert entry.actor_label == "customer, through the feedback link"


def test_a_second_visit_says_the_order_was_already_rated(api, tenant, shipped):
    page = _link(api, shipped)
    Client().post(page, {"score": "4"})

    again = Client().get(page)
    resent = Client().post(page, {"score": "1"})

    for answer in (again, resent):
        assert answer.status_code == 200
        text = answer.content.decode()
        assert "you have already answered" in text and "4 out of 5" in text and 'name="score"' not in text
    assert list(Feedback.objects.for_tenant(tenant).values_list("score", flat=True)) == [4]


def test_a_response_the_shop_sent_closes_the_link_too(api, tenant, shipped):
    page = _link(api, shipped)
    api.post(_feedback_url(shipped), {"score": 2}, format="json")

    answer = Client().post(page, {"score": "5"})

    assert "you have already answered" in answer.content.decode()
    assert list(Feedback.objects.for_tenant(tenant).values_list("score", "source")) == [(2, "api")]


def test_a_response_through_the_link_closes_the_api_too(api, shipped):
    Client().post(_link(api, shipped), {"score": 5})

    assert api.post(_feedback_url(shipped), {"score": 1}, format="json").json()["code"] == "feedback_exists"


def test_the_page_asks_again_for_a_missing_score_and_records_nothing(api, tenant, shipped):
    answer = Client().post(_link(api, shipped), {"score": "9", "comment": "Hmm"})

    assert answer.status_code == 200
    text = answer.content.decode()
    assert 'role="alert"' in text and "Hmm</textarea>" in text
    assert not Feedback.objects.for_tenant(tenant).exists()


def test_the_page_waits_until_something_of_the_order_was_received(api, tenant, shop):
    placed = _place(api, shop)
    page = _link(api, placed)

    shown, posted = Client().get(page), Client().post(page, {"score": "5"})

    for answer in (shown, posted):
        assert answer.status_code == 200
        assert "Nothing of this order has reached you yet" in answer.content.decode()
    assert not Feedback.objects.for_tenant(tenant).exists()


def _tampered(page: str) -> list[str]:
    token = page.split("/")[2]
    payload, stamp, signature = token.split(":")
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    other_order = "WzEsOTk5OTld"  # [1,99999] in base64, under the original signature
    return [
        f"/feedback/{payload}:{stamp}:{flipped}/",
        f"/feedback/{other_order}:{stamp}:{signature}/",
        f"/feedback/{payload}:{stamp}/",
        "/feedback/not-a-link/",
        "/feedback/%E2%9C%93:x:y/",
    ]


def test_a_tampered_link_is_a_clear_404_page_and_records_nothing(api, tenant, shipped):
    for page in _tampered(_link(api, shipped)):
        for answer in (Client().get(page), Client().post(page, {"score": "5"})):
            assert answer.status_code == 404, page
            assert "This link does not work" in answer.content.decode()
    assert not Feedback.objects.for_tenant(tenant).exists()


def test_a_link_signed_for_another_purpose_is_refused(api, shipped, tenant):
    token = signing.dumps([tenant.id, shipped["id"]], salt="another.purpose", compress=False)

    assert Client().get(f"/feedback/{token}/").status_code == 404


def _link_made(api, order, days_ago: float) -> str:
    made = time.time() - days_ago * 86400
    with mock.patch("django.core.signing.time.time", return_value=made):
        return _link(api, order)


def test_an_expired_link_is_a_clear_410_page_and_records_nothing(api, tenant, shipped):
    page = _link_made(api, shipped, days_ago=LINK_VALIDITY.days + 1)

    for answer in (Client().get(page), Client().post(page, {"score": "5"})):
        assert answer.status_code == 410
        assert "This link has expired" in answer.content.decode()
    assert not Feedback.objects.for_tenant(tenant).exists()


def test_a_link_a_day_before_it_expires_still_records(api, tenant, shipped):
    page = _link_made(api, shipped, days_ago=LINK_VALIDITY.days - 1)

    assert Client().post(page, {"score": "3"}).status_code == 200
    assert Feedback.objects.for_tenant(tenant).get().score == 3


def test_the_link_of_an_inactive_tenant_opens_nothing(api, tenant, shipped):
    page = _link(api, shipped)
    tenant.active = False
    tenant.save(update_fields=["active"])

    assert Client().post(page, {"score": "5"}).status_code == 404
    assert not Feedback.all_tenants.exists()


def test_a_member_of_another_tenant_opening_the_link_rates_in_the_links_tenant(api, tenant, shipped, other_tenant):
    page = _link(api, shipped)
    stranger = Client()
    user = factories.UserFactory()
    set_membership(tenant=other_tenant, user=user, role=Role.ADMIN, locations=[], actor=SYSTEM)
    stranger.force_login(user)

    assert stranger.post(page, {"score": "4"}).status_code == 200
    assert Feedback.all_tenants.get().tenant_id == tenant.id


def test_the_page_speaks_french_to_a_french_browser(api, shipped):
    page = _link(api, shipped)

    shown = Client().get(page, HTTP_ACCEPT_LANGUAGE="fr")
    thanked = Client().post(page, {"score": "4"}, HTTP_ACCEPT_LANGUAGE="fr")
    again = Client().get(page, HTTP_ACCEPT_LANGUAGE="fr")

    text = shown.content.decode()
    assert '<html lang="fr">' in text
    assert "Notez votre commande" in text and "Très satisfait" in text and "Envoyer ma note" in text
    assert "Merci" in thanked.content.decode()
    assert "vous avez déjà répondu" in again.content.decode()
    expired = Client().get(_link_made(api, shipped, days_ago=61), HTTP_ACCEPT_LANGUAGE="fr")
    assert "Ce lien a expiré" in expired.content.decode()
    assert "Ce lien ne fonctionne pas" in Client().get("/feedback/x:y:z/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()


def test_the_page_speaks_english_by_default_and_follows_the_language_switch(api, shipped):
    page = _link(api, shipped)
    browser = Client()

    assert "Rate your order" in browser.get(page).content.decode()
    browser.post("/i18n/setlang/", {"language": "fr", "next": page})
    assert "Notez votre commande" in browser.get(page).content.decode()


def test_the_page_runs_no_inline_script_or_style_under_the_content_security_policy(api, shipped):
    answer = Client().get(_link(api, shipped))

    text = answer.content.decode()
    assert "script-src 'self'" in answer["Content-Security-Policy"]
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text)
    assert not re.search(r"\son[a-z]+=", text) and "style=" not in text and "<style" not in text
    assert 'name="viewport"' in text


def test_the_link_stays_out_of_the_request_log(api, shipped, caplog):
    page = _link(api, shipped)

    caplog.clear()
    with caplog.at_level("INFO", logger="oms.request"):
        Client().get(page)
        Client().post(page, {"score": "4"})

    paths = [record.path for record in caplog.records if hasattr(record, "path")]
    assert paths == ["/feedback/<token>/", "/feedback/<token>/"]


# --- two responses at once ----------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_responses_racing_for_one_order_leave_exactly_one(tenant):
    shop = build_shop(tenant, code="RACE")
    api = make_api_client(tenant)
    order = _place(api, shop)
    _ship(tenant, order)
    page = _link(api, order)
    secret = create_api_key(tenant=tenant, label="racing shop", actor=SYSTEM).secret

    def respond(index):
        if index % 2:
            return Client().post(page, {"score": str(index % 5 + 1)}).content.decode()
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        return client.post(_feedback_url(order), {"score": index % 5 + 1}, format="json").status_code

    outcomes = race(8, respond)

    assert outcomes.errors == []
    assert Feedback.objects.for_tenant(tenant).count() == 1
    api_answers = [value for value in outcomes.values if isinstance(value, int)]
    pages = [value for value in outcomes.values if isinstance(value, str)]
    recorded = api_answers.count(201) + sum("Thank you!" in text for text in pages)
    assert recorded == 1
    assert sorted(set(api_answers) - {201}) in ([409], [])
    assert all("Thank you!" in text or "already answered" in text for text in pages)
    assert OutboxEvent.objects.for_tenant(tenant).filter(topic="order.feedback_received").count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_service_refuses_all_but_one_of_racing_responses(tenant):
    shop = build_shop(tenant, code="SVC")
    order = _place(make_api_client(tenant), shop)
    _ship(tenant, order)
    scope = Scope.system(tenant, "tests")

    outcomes = race(
        6,
        lambda index: services.record_feedback(scope=scope, order_id=order["id"], score=index % 5 + 1, source="api"),
    )

    assert len(outcomes.values) == 1
    assert len(outcomes.errors) == 5 and all(isinstance(error, FeedbackExists) for error in outcomes.errors)
    assert Feedback.objects.for_tenant(tenant).get().score == outcomes.values[0].score
