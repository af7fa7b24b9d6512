"""Cycle counts of lot-tracked products: lot by lot, or as a whole (shortfalls FEFO, surpluses must name a lot)."""

from datetime import timedelta

import pytest

from inventory import counts
from inventory.counts import Counted
from inventory.ledger import ledger_discrepancies
from inventory.models import CycleCount, Lot, StockLevel, StockMovement
from inventory.sourcing import today_for
from oms.errors import ValidationFailed
from tests import factories
from tests.inventory.stock_helpers import ACTOR, receive

pytestmark = pytest.mark.django_db


@pytest.fixture
def fresh(tenant):
    """Yoghurts at PAR01: 3 units of L-SOON (expires in 2 days), 5 of L-LATE (in 10 days); a plain SKU too."""
    store = factories.LocationFactory(tenant=tenant, code="PAR01", kind="store")
    product = factories.ProductFactory(tenant=tenant, sku="YAOURT", tracks_lots=True)
    receive(tenant, product, store, 3, lot="L-SOON", expires_in_days=2)
    receive(tenant, product, store, 5, lot="L-LATE", expires_in_days=10)
    receive(tenant, factories.ProductFactory(tenant=tenant, sku="SHIRT"), store, 4)
    return product, store


def _lots(tenant, product):
    return {lot.code: lot.on_hand for lot in Lot.objects.for_tenant(tenant).filter(stock_level__product=product)}


def _on_hand(tenant, product):
    return StockLevel.objects.for_tenant(tenant).get(product=product).on_hand


def test_a_count_lists_each_stocked_lot_of_a_lot_tracked_sku(tenant, fresh):
    count = counts.start_count(tenant=tenant, actor=ACTOR, location="PAR01")

    lines = [(line.product.sku, line.lot_code) for line in count.lines.select_related("product").order_by("id")]
    assert lines == [("SHIRT", ""), ("YAOURT", "L-SOON"), ("YAOURT", "L-LATE")]
    soon = count.lines.get(lot_code="L-SOON")
    assert soon.expires_on == today_for(tenant) + timedelta(days=2)


def test_a_surplus_without_a_lot_is_refused_naming_lot_and_nothing_is_posted(tenant, fresh):
    product, _store = fresh
    count = counts.start_count(tenant=tenant, actor=ACTOR, location="PAR01", skus=["SHIRT"])
    counts.record_counts(
        tenant=tenant, actor=ACTOR, count_id=count.id, counted=[Counted("SHIRT", 3), Counted("YAOURT", 10)]
    )

    with pytest.raises(ValidationFailed) as refused:
        counts.complete_count(tenant=tenant, actor=ACTOR, count_id=count.id)

    [message] = refused.value.extra["errors"]["lot"]
    assert "YAOURT" in message and "2 more" in message and "lot" in message
    count.refresh_from_db()
    assert count.status == CycleCount.Status.OPEN
    assert not StockMovement.objects.for_tenant(tenant).filter(kind="count").exists()
    assert _on_hand(tenant, product) == 8


def test_a_surplus_with_a_new_lot_creates_the_lot_with_its_expiry(tenant, fresh):
    product, _store = fresh
    expiry = today_for(tenant) + timedelta(days=20)

    count = counts.count_and_post(
        tenant=tenant, actor=ACTOR, location="PAR01", counted=[Counted("YAOURT", 4, lot="L-NEW", expires_on=expiry)]
    )

    line = count.lines.get()
    assert (line.lot_code, line.expected, line.variance, line.expires_on) == ("L-NEW", 0, 4, expiry)
    new = Lot.objects.for_tenant(tenant).get(code="L-NEW")
    assert (new.on_hand, new.expires_on) == (4, expiry)
    assert line.movement.lot == new and line.movement.kind == "count"
    assert _lots(tenant, product) == {"L-SOON": 3, "L-LATE": 5, "L-NEW": 4}
    assert _on_hand(tenant, product) == 12
    assert ledger_discrepancies(tenant=tenant) == []


def test_a_surplus_on_a_known_lot_posts_to_that_lot(tenant, fresh):
    product, _store = fresh

    counts.count_and_post(tenant=tenant, actor=ACTOR, location="PAR01", counted=[Counted("YAOURT", 7, lot="L-LATE")])

    assert _lots(tenant, product) == {"L-SOON": 3, "L-LATE": 7}
    assert ledger_discrepancies(tenant=tenant) == []


def test_a_shortfall_on_a_named_lot_is_taken_from_that_lot_only(tenant, fresh):
    product, _store = fresh

    count = counts.count_and_post(
        tenant=tenant,
        actor=ACTOR,
        location="PAR01",
        counted=[Counted("YAOURT", 1, lot="L-LATE"), Counted("YAOURT", 3, lot="L-SOON")],
    )

    lines = {line.lot_code: (line.expected, line.variance) for line in count.lines.all()}
    assert lines == {"L-LATE": (5, -4), "L-SOON": (3, 0)}
    assert _lots(tenant, product) == {"L-SOON": 3, "L-LATE": 1}
    assert ledger_discrepancies(tenant=tenant) == []


def test_a_shortfall_without_a_lot_is_taken_earliest_expiry_first(tenant, fresh):
    product, _store = fresh

    count = counts.count_and_post(tenant=tenant, actor=ACTOR, location="PAR01", counted={"YAOURT": 4})

    line = count.lines.get()
    assert (line.lot_code, line.expected, line.variance) == ("", 8, -4)
    assert _lots(tenant, product) == {"L-SOON": 0, "L-LATE": 4}
    assert ledger_discrepancies(tenant=tenant) == []


def test_a_new_lot_needs_its_expiry_and_a_known_lot_keeps_its_own(tenant, fresh):
    with pytest.raises(ValidationFailed) as missing:
        counts.count_and_post(
            tenant=tenant,
            actor=ACTOR,
            location="PAR01",
            counted=[Counted("SHIRT", 4), Counted("YAOURT", 2, lot="L-NEW")],
        )
    assert "expires_on" in missing.value.extra["errors"]["lines[1].expires_on"][0]

    with pytest.raises(ValidationFailed) as other_date:
        counts.count_and_post(
            tenant=tenant,
            actor=ACTOR,
            location="PAR01",
            counted=[Counted("YAOURT", 5, lot="L-LATE", expires_on=today_for(tenant) + timedelta(days=30))],
        )
    assert "L-LATE" in other_date.value.extra["errors"]["lines[0].expires_on"][0]
    assert not CycleCount.objects.for_tenant(tenant).exists()


def test_a_lot_sku_is_counted_as_a_whole_or_lot_by_lot_not_both(tenant, fresh):
    with pytest.raises(ValidationFailed) as mixed:
        counts.count_and_post(
            tenant=tenant,
            actor=ACTOR,
            location="PAR01",
            counted=[Counted("YAOURT", 8), Counted("YAOURT", 5, lot="L-LATE")],
        )
    assert "both as a whole and lot by lot" in mixed.value.extra["errors"]["lines[0].lot"][0]


def test_a_lot_on_a_sku_without_lots_is_refused(tenant, fresh):
    with pytest.raises(ValidationFailed) as refused:
        counts.count_and_post(
            tenant=tenant,
            actor=ACTOR,
            location="PAR01",
            counted=[Counted("SHIRT", 4, lot="X1", expires_on=today_for(tenant))],
        )
    assert "does not track lots" in refused.value.extra["errors"]["lines[0].lot"][0]


def test_the_counts_api_takes_lots_and_names_the_line_of_a_surplus_without_one(api, other_api, tenant, fresh):
    product, _store = fresh
    expiry = (today_for(tenant) + timedelta(days=15)).isoformat()

    refused = api.post(
        "/api/v1/inventory/counts/",
        {"location": "PAR01", "lines": [{"sku": "SHIRT", "counted": 4}, {"sku": "YAOURT", "counted": 9}]},
        format="json",
    )
    assert refused.status_code == 400
    assert refused["Content-Type"].startswith("application/problem+json")
    assert "YAOURT" in refused.json()["errors"]["lines[1].lot"][0]

    response = api.post(
        "/api/v1/inventory/counts/",
        {
            "location": "PAR01",
            "lines": [
                {"sku": "YAOURT", "counted": 2, "lot": "L-SOON"},
                {"sku": "YAOURT", "counted": 6, "lot": "L-FOUND", "expires_on": expiry},
            ],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    lines = {line["lot"]: line for line in response.json()["lines"]}
    assert (lines["L-SOON"]["variance"], lines["L-FOUND"]["variance"]) == (-1, 6)
    assert lines["L-FOUND"]["expires_on"] == expiry
    assert _lots(tenant, product) == {"L-SOON": 2, "L-LATE": 5, "L-FOUND": 6}
    assert ledger_discrepancies(tenant=tenant) == []
    assert other_api.get(f"/api/v1/inventory/counts/{response.json()['id']}/").status_code == 404

    plain = api.post(
        "/api/v1/inventory/counts/", {"location": "PAR01", "lines": [{"sku": "SHIRT", "counted": 4}]}, format="json"
    )
    assert plain.json()["lines"][0]["lot"] is None
    twice = api.post(
        "/api/v1/inventory/counts/",
        {
            "location": "PAR01",
            "lines": [
                {"sku": "YAOURT", "counted": 1, "lot": "L-SOON"},
                {"sku": "YAOURT", "counted": 1, "lot": "L-SOON"},
            ],
        },
        format="json",
    )
    assert twice.status_code == 400


def test_a_clerk_adds_a_lot_found_on_the_shelf_from_the_page(user_client, tenant, fresh):
    product, store = fresh
    client = user_client("store_clerk", locations=[store])
    count = counts.start_count(tenant=tenant, actor=ACTOR, location="PAR01", skus=["YAOURT"])
    soon, late = count.lines.get(lot_code="L-SOON"), count.lines.get(lot_code="L-LATE")
    html = client.get(f"/inventory/counts/{count.id}/").content.decode()
    assert "L-SOON" in html and "L-LATE" in html

    expiry = today_for(tenant) + timedelta(days=12)
    client.post(
        f"/inventory/counts/{count.id}/",
        {"action": "add_lot", "sku": "YAOURT", "lot": "L-SHELF", "expires_on": expiry.isoformat(), "counted": "2"},
    )
    client.post(
        f"/inventory/counts/{count.id}/", {"action": "complete", f"counted-{soon.id}": "3", f"counted-{late.id}": "4"}
    )

    count.refresh_from_db()
    assert count.status == CycleCount.Status.COMPLETED
    assert _lots(tenant, product) == {"L-SOON": 3, "L-LATE": 4, "L-SHELF": 2}
    assert Lot.objects.for_tenant(tenant).get(code="L-SHELF").expires_on == expiry
    assert ledger_discrepancies(tenant=tenant) == []


def test_the_page_explains_a_surplus_without_a_lot_and_keeps_the_count_open(user_client, tenant):
    store = factories.LocationFactory(tenant=tenant, code="PAR01", kind="store")
    product = factories.ProductFactory(tenant=tenant, sku="CREME", tracks_lots=True)
    receive(tenant, product, store, 0)
    client = user_client("back_office")
    count = counts.start_count(tenant=tenant, actor=ACTOR, location="PAR01", skus=["CREME"])
    whole = count.lines.get()
    assert whole.lot_code == ""

    page = client.post(
        f"/inventory/counts/{count.id}/", {"action": "complete", f"counted-{whole.id}": "2"}, follow=True
    ).content.decode()

    assert "CREME tracks lots" in page
    count.refresh_from_db()
    assert count.status == CycleCount.Status.OPEN
    # The figure is emptied, the lot added: the count now posts.
    client.post(f"/inventory/counts/{count.id}/", {"action": "save", f"counted-{whole.id}": ""})
    client.post(
        f"/inventory/counts/{count.id}/",
        {
            "action": "add_lot",
            "sku": "CREME",
            "lot": "C1",
            "expires_on": (today_for(tenant) + timedelta(days=5)).isoformat(),
            "counted": "2",
        },
    )
    client.post(f"/inventory/counts/{count.id}/", {"action": "complete"})
    count.refresh_from_db()
    assert count.status == CycleCount.Status.COMPLETED
    assert _lots(tenant, product) == {"C1": 2}
