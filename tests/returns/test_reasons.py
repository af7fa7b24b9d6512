"""The tenant's return reasons: the list every tenant starts with (English and French), kept by the office."""

import pytest

from returns.models import ReturnReason
from returns.reasons import DEFAULT_REASONS, seed_reasons
from tests import factories
from tests.conftest import make_api_client
from tests.orders.support import build_shop
from tests.returns.support import return_body, shipped_order

pytestmark = pytest.mark.django_db

DEFAULT_CODES = [
    "too_small",
    "too_large",
    "damaged",
    "defective",
    "wrong_item",
    "not_as_described",
    "changed_mind",
    "late_delivery",
]


def test_a_new_tenant_starts_with_the_default_reasons(api):
    listed = api.get("/api/v1/return-reasons/").json()["results"]

    assert [reason["code"] for reason in listed] == DEFAULT_CODES
    too_small = listed[0]
    assert (too_small["label_en"], too_small["label_fr"], too_small["customer_pays_shipping"]) == (
        "Too small",
        "Trop petit",
        True,
    )
    assert {reason["code"]: reason["customer_pays_shipping"] for reason in listed}["damaged"] is False


def test_labels_follow_the_request_language(api):
    french = api.get("/api/v1/return-reasons/", HTTP_ACCEPT_LANGUAGE="fr").json()["results"]
    english = api.get("/api/v1/return-reasons/", HTTP_ACCEPT_LANGUAGE="en").json()["results"]

    assert [reason["label"] for reason in french][:3] == ["Trop petit", "Trop grand", "Arrivé endommagé"]
    assert [reason["label"] for reason in english][:3] == ["Too small", "Too large", "Arrived damaged"]


def test_a_return_line_names_its_reason_in_french_for_a_french_reader(tenant, api):
    shop = build_shop(tenant)
    order = shipped_order(tenant, shop)
    made = api.post("/api/v1/returns/", return_body(order, (shop.a.sku, 1, "wrong_item")), format="json").json()

    read = api.get(f"/api/v1/returns/{made['id']}/", HTTP_ACCEPT_LANGUAGE="fr").json()

    assert read["lines"][0]["reason_label"] == "Mauvais article envoyé"


def test_seeding_keeps_the_tenants_own_edits_and_adds_only_what_is_missing(tenant):
    ReturnReason.objects.for_tenant(tenant).filter(code="too_small").update(label_en="Runs small")
    ReturnReason.objects.for_tenant(tenant).filter(code="late_delivery").delete()

    seed_reasons(tenant)

    reasons = {reason.code: reason for reason in ReturnReason.objects.for_tenant(tenant)}
    assert len(reasons) == len(DEFAULT_REASONS)
    assert reasons["too_small"].label_en == "Runs small"


def test_the_office_adds_and_deactivates_reasons(tenant, api):
    created = api.post(
        "/api/v1/return-reasons/",
        {"code": "gift", "label_en": "Unwanted gift", "label_fr": "Cadeau non désiré", "customer_pays_shipping": True},
        format="json",
    )
    duplicate = api.post(
        "/api/v1/return-reasons/", {"code": "gift", "label_en": "Gift", "label_fr": "Cadeau"}, format="json"
    )
    deactivated = api.patch("/api/v1/return-reasons/damaged/", {"active": False}, format="json")

    assert created.status_code == 201 and created["Location"] == "/api/v1/return-reasons/gift/"
    assert duplicate.status_code == 409
    assert deactivated.status_code == 200 and deactivated.json()["active"] is False
    assert api.get("/api/v1/return-reasons/gift/").json()["label_fr"] == "Cadeau non désiré"
    assert api.get("/api/v1/return-reasons/nope/").status_code == 404


def test_a_deactivated_reason_is_no_longer_accepted(tenant, api):
    shop = build_shop(tenant)
    order = shipped_order(tenant, shop)
    api.patch("/api/v1/return-reasons/damaged/", {"active": False}, format="json")

    answer = api.post("/api/v1/returns/", return_body(order, (shop.a.sku, 1, "damaged")), format="json")

    assert answer.status_code == 400


def test_a_shop_reads_the_reasons_but_does_not_change_them(tenant):
    shop_key = make_api_client(tenant, channel=factories.ChannelFactory(tenant=tenant, code="SHOP"))

    assert shop_key.get("/api/v1/return-reasons/").status_code == 200
    assert shop_key.patch("/api/v1/return-reasons/damaged/", {"active": False}, format="json").status_code == 403


def test_another_tenants_reasons_are_its_own(tenant, other_tenant, api, other_api):
    other_api.patch("/api/v1/return-reasons/damaged/", {"label_en": "Broken"}, format="json")

    assert api.get("/api/v1/return-reasons/damaged/").json()["label_en"] == "Arrived damaged"
