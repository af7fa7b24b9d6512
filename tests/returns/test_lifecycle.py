"""The return's lifecycle: the transition map, approve / reject / cancel through the API with their timeline,
and the printable slip."""

import re
import zlib

import pytest

from oms.errors import IllegalTransition
from oms.models import OutboxEvent
from orders.models import EventKind, OrderEvent
from returns.models import ReturnStatus as S
from returns.states import FINAL, TRANSITIONS, check_transition
from tests.orders.support import build_shop
from tests.returns.support import return_body, shipped_order

pytestmark = pytest.mark.django_db


def test_the_map_goes_from_request_to_refund_exchange_or_closing():
    path = [S.REQUESTED, S.APPROVED, S.RECEIVED, S.INSPECTED]
    for current, target in zip(path, path[1:], strict=False):
        check_transition(current, target)
    for end in (S.REFUNDED, S.EXCHANGED, S.CLOSED):
        check_transition(S.INSPECTED, end)
    assert FINAL == {S.REFUNDED, S.EXCHANGED, S.CLOSED, S.REJECTED, S.CANCELLED}
    assert set(TRANSITIONS) == set(S.values)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.REQUESTED, S.RECEIVED),  # nothing comes back before approval
        (S.REJECTED, S.APPROVED),
        (S.CANCELLED, S.REQUESTED),
        (S.RECEIVED, S.CANCELLED),  # units in hand are no longer withdrawn
        (S.APPROVED, S.REFUNDED),  # no refund before inspection
        (S.REFUNDED, S.CLOSED),
    ],
)
def test_the_map_refuses_what_it_does_not_name(current, target):
    with pytest.raises(IllegalTransition):
        check_transition(current, target)


@pytest.fixture
def shop(tenant):
    return build_shop(tenant)


@pytest.fixture
def requested(tenant, shop, api):
    order = shipped_order(tenant, shop)
    return api.post("/api/v1/returns/", return_body(order, (shop.a.sku, 1, "too_small")), format="json").json()


def test_an_approval_is_on_the_returns_and_the_orders_timeline(tenant, api, requested):
    answer = api.post(f"/api/v1/returns/{requested['id']}/approve/", {}, format="json")

    assert answer.status_code == 200 and answer.json()["status"] == "approved"
    assert answer.json()["decided_at"] is not None
    assert [(event["kind"], event["status"]) for event in answer.json()["timeline"]] == [
        ("requested", "requested"),
        ("approved", "approved"),
    ]
    assert OrderEvent.objects.for_tenant(tenant).filter(kind=EventKind.RETURN_APPROVED).count() == 1
    assert OutboxEvent.objects.for_tenant(tenant).filter(topic="return.approved").count() == 1


def test_a_rejection_says_why(tenant, api, requested):
    without = api.post(f"/api/v1/returns/{requested['id']}/reject/", {}, format="json")
    answer = api.post(f"/api/v1/returns/{requested['id']}/reject/", {"reason": "Worn and washed"}, format="json")

    assert without.status_code == 400
    assert answer.status_code == 200, answer.json()
    assert answer.json()["status"] == "rejected" and answer.json()["decision_reason"] == "Worn and washed"
    assert answer.json()["timeline"][-1]["message"] == "Worn and washed"
    event = OutboxEvent.objects.for_tenant(tenant).filter(topic="return.rejected").get()
    assert event.payload["reason"] == "Worn and washed"


def test_a_decided_return_cannot_be_decided_again(api, requested):
    api.post(f"/api/v1/returns/{requested['id']}/reject/", {"reason": "late"}, format="json")

    again = api.post(f"/api/v1/returns/{requested['id']}/approve/", {}, format="json")
    withdrawn = api.post(f"/api/v1/returns/{requested['id']}/cancel/", {}, format="json")

    assert again.status_code == withdrawn.status_code == 409
    assert again.json()["current"] == "rejected" and again.json()["requested"] == "approved"


def test_a_cancelled_return_is_closed_and_told(tenant, api, requested):
    answer = api.post(f"/api/v1/returns/{requested['id']}/cancel/", {"reason": "Kept it"}, format="json")

    assert answer.status_code == 200 and answer.json()["status"] == "cancelled"
    assert answer.json()["closed_at"] is not None
    assert OutboxEvent.objects.for_tenant(tenant).filter(topic="return.cancelled").get().payload["reason"] == "Kept it"


def _pdf_strings(pdf: bytes) -> bytes:
    """The PDF's objects, inflated (WeasyPrint deflates its object streams; the slip's heading is a bookmark)."""
    parts = [pdf]
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            parts.append(zlib.decompress(match.group(1)))
        except zlib.error:
            continue
    return b"\n".join(parts)


def test_the_slip_is_a_pdf_with_the_rma_number(api, requested):
    answer = api.get(f"/api/v1/returns/{requested['id']}/slip.pdf")

    assert answer.status_code == 200 and answer["Content-Type"] == "application/pdf"
    assert answer.content.startswith(b"%PDF")
    assert requested["number"].encode() in _pdf_strings(answer.content)
    assert requested["slip"] == f"/api/v1/returns/{requested['id']}/slip.pdf"


def test_the_slip_carries_a_qr_code_of_the_number(tenant, requested):
    from returns.models import Return
    from returns.slip import qr_svg, render_slip_html

    rma = Return.objects.for_tenant(tenant).get(id=requested["id"])
    page = render_slip_html(rma, language="fr")

    assert qr_svg(rma.number) in page and "<svg" in page
    assert "Trop petit" in page and rma.number in page
