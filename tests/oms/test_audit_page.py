"""The audit page and its CSV export: sentences in the reader's language, filters (dates in the tenant's time zone,
actor, action, object, text), the export of what the filters select, made safe for spreadsheets, under the page's
access rule and never with another tenant's entries."""

import csv
import io
from datetime import UTC, date, datetime

import pytest

from oms import audit_log
from oms.actors import Actor
from oms.models import Role
from oms.services import create_api_key
from tests import factories
from tests.orders.support import build_shop, order_body

pytestmark = pytest.mark.django_db


def at(*args):
    return datetime(*args, tzinfo=UTC)


def add(tenant, action="thing.done", **fields):
    return factories.AuditEntryFactory(tenant=tenant, action=action, **fields)


def shown(response):
    return [line.entry.object_repr for line in response.context["lines"]]


def rows_of(response):
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


@pytest.fixture
def admin(user_client):
    return user_client(Role.ADMIN)


# --- the page -------------------------------------------------------------------------------------------------


def test_entries_read_as_sentences_not_as_data(admin, tenant):
    add(tenant, "channel.changed", object_repr="WEB", actor_label="ops", changes={"buffer": [0, 5]})

    html = admin.get("/audit/").content.decode()

    assert "ops changed channel WEB: buffer 0 → 5" in html
    assert "[0, 5]" not in html and "{" not in html.split("<main", 1)[-1].split("</table>")[0]


def test_dates_filter_whole_days_in_the_tenants_time_zone(admin, tenant):
    assert tenant.timezone == "Europe/Paris"
    add(tenant, object_repr="late on the 4th", at=at(2026, 12, 4, 22, 30))  # 23:30 in Paris
    add(tenant, object_repr="early on the 5th", at=at(2026, 12, 4, 23, 30))  # 00:30 in Paris
    add(tenant, object_repr="late on the 6th", at=at(2026, 12, 6, 22, 59))  # 23:59 in Paris
    add(tenant, object_repr="the 7th", at=at(2026, 12, 6, 23, 0))

    response = admin.get("/audit/", {"date_from": "2026-12-05", "date_to": "2026-12-06", "action": "thing.done"})

    assert shown(response) == ["late on the 6th", "early on the 5th"]


def test_a_start_after_the_end_is_an_error_on_the_page(admin, tenant):
    response = admin.get("/audit/", {"date_from": "2026-12-06", "date_to": "2026-12-05"})

    assert response.status_code == 200
    assert "The end comes before the start." in response.content.decode()


def test_the_actor_filter_offers_who_appears_and_filters_users_keys_and_the_system(admin, tenant, other_tenant):
    marie = factories.UserFactory(full_name="Marie Dupont")
    key = create_api_key(tenant=tenant, label="erp", actor=Actor.system("tests")).api_key
    add(tenant, object_repr="by marie", user=marie, actor_label=marie.email)
    add(tenant, object_repr="by the key", api_key=key, actor_label="api-key:erp")
    add(tenant, object_repr="by the system", actor_label="manage.py seed")
    add(other_tenant, object_repr="by a stranger", actor_label="stranger@globex.test")

    offered = dict(admin.get("/audit/").context["actors"])

    assert offered[f"user:{marie.id}"] == "Marie Dupont"
    assert offered[f"key:{key.id}"] == "API key «erp»"
    assert offered["label:manage.py seed"] == "manage.py seed"
    assert "stranger@globex.test" not in str(offered)
    assert shown(admin.get("/audit/", {"actor": f"user:{marie.id}"})) == ["by marie"]
    assert shown(admin.get("/audit/", {"actor": f"key:{key.id}"})) == ["by the key"]
    assert shown(admin.get("/audit/", {"actor": "label:manage.py seed"})) == ["by the system"]


def test_the_action_filter_offers_readable_names_grouped_by_kind(admin, tenant):
    add(tenant, "order.cancelled", object_repr="SO-1")
    add(tenant, "order.held", object_repr="SO-2")
    add(tenant, "channel.changed", object_repr="WEB")

    response = admin.get("/audit/", {"action": "order.held"})

    groups = dict(response.context["actions"])
    assert groups["Orders"] == [("order.cancelled", "Order cancelled"), ("order.held", "Order put on hold")]
    assert groups["Sales channels"] == [("channel.changed", "Channel changed")]
    assert shown(response) == ["SO-2"]
    assert '<optgroup label="Orders">' in response.content.decode()


def test_the_object_filter_shows_one_objects_history(admin, tenant):
    add(tenant, "order.held", object_type="orders.order", object_id="12", object_repr="SO-12")
    add(tenant, "order.cancelled", object_type="orders.order", object_id="12", object_repr="SO-12 again")
    add(tenant, "order.held", object_type="orders.order", object_id="13", object_repr="SO-13")
    add(tenant, "product.changed", object_type="inventory.product", object_id="12", object_repr="RED")

    response = admin.get("/audit/", {"object_type": "orders.order", "object_id": "12"})

    assert shown(response) == ["SO-12 again", "SO-12"]
    assert ("orders.order", "Order") in response.context["object_types"]
    assert "?object_type=orders.order&amp;object_id=12" in response.content.decode()


def test_free_text_searches_actor_object_request_id_and_readable_action_names(admin, tenant):
    add(tenant, "order.cancelled", object_repr="SO-1", actor_label="ann")
    add(tenant, "channel.changed", object_repr="WEB", actor_label="bob", request_id="req-42")

    assert shown(admin.get("/audit/", {"q": "bob"})) == ["WEB"]
    assert shown(admin.get("/audit/", {"q": "req-42"})) == ["WEB"]
    assert shown(admin.get("/audit/", {"q": "cancelled"})) == ["SO-1"]


def test_pages_keep_the_filters(admin, tenant):
    for n in range(55):
        add(tenant, "order.held", object_repr=f"SO-{n:02d}")

    html = admin.get("/audit/", {"action": "order.held"}).content.decode()

    assert "Entries found: 55" in html
    assert 'href="?action=order.held&amp;page=2"' in html
    assert 'href="/audit/export.csv?action=order.held"' in html


def test_the_page_reads_in_french(admin, tenant):
    add(tenant, "channel.changed", object_repr="WEB", actor_label="ops", changes={"reservation_ttl": [900, 600]})
    admin.post("/i18n/setlang/", {"language": "fr", "next": "/"})

    html = admin.get("/audit/").content.decode()

    assert '<html lang="fr">' in html
    assert "Journal d’audit" in html and "Exporter en CSV" in html and "Effacer les filtres" in html
    assert "ops a modifié le canal WEB\u00a0: durée de réservation 900 s → 600 s" in html
    assert "Canal modifié" in html


def test_the_page_has_no_inline_script(admin, tenant):
    add(tenant, "order.held", object_repr="SO-1")

    html = admin.get("/audit/").content.decode()

    assert "<script>" not in html and " onclick=" not in html and " onchange=" not in html


# --- the export -----------------------------------------------------------------------------------------------


def test_the_export_holds_the_filtered_entries_with_their_sentence_and_iso_time(admin, tenant):
    add(
        tenant,
        "order.cancelled",
        object_type="orders.order",
        object_id="12",
        object_repr="SO-12",
        actor_label="ann@example.com",
        changes={"reason": "customer_request"},
        ip="203.0.113.9",
        request_id="req-1",
        at=at(2026, 12, 5, 17, 0, 5),
    )
    add(tenant, "order.held", object_repr="SO-13")

    response = admin.get("/audit/export.csv", {"action": "order.cancelled"})

    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-acme-')
    header, *rows = rows_of(response)
    assert header == [
        "When",
        "Who",
        "Action code",
        "What happened",
        "Object type",
        "Object id",
        "IP address",
        "Request id",
    ]
    assert rows == [
        [
            "2026-12-05T18:00:05+01:00",
            "ann@example.com",
            "order.cancelled",
            "ann@example.com cancelled order SO-12: reason customer_request",
            "orders.order",
            "12",
            "203.0.113.9",
            "req-1",
        ]
    ]


def test_the_export_neutralises_formulas(admin, tenant):
    add(tenant, "thing.done", object_repr='=HYPERLINK("http://x")', actor_label="+cmd", object_id="@SUM(A1)")
    add(tenant, "thing.done", object_repr="SO-1", actor_label="-2+3", object_id="\rCR")
    add(tenant, "thing.done", object_repr="x", actor_label="\tTAB", object_id="-7")

    rows = rows_of(admin.get("/audit/export.csv"))[1:]

    cells = [cell for row in rows for cell in row]
    assert {"'+cmd", "'@SUM(A1)", "'-2+3", "'\rCR", "'\tTAB", "-7"} <= set(cells)  # a negative number stays one
    assert '\'+cmd did thing.done on =HYPERLINK("http://x")' in cells
    assert not [cell for cell in cells if cell.startswith(("=", "+", "-", "@", "\t", "\r")) and cell != "-7"]


def test_the_export_streams_every_entry_across_chunks_newest_first(tenant):
    for n in range(7):
        add(tenant, object_repr=f"e{n}", at=at(2026, 12, 1 + n, 12))
    add(tenant, object_repr="same time a", at=at(2026, 12, 9, 12))
    add(tenant, object_repr="same time b", at=at(2026, 12, 9, 12))

    chunks = list(audit_log.export_csv(tenant=tenant, filters=audit_log.AuditFilter(), language="en", chunk=2))

    rows = list(csv.reader(io.StringIO("".join(chunks).lstrip("\ufeff"))))[1:]
    assert len(chunks) > 4
    assert [row[3].split(" on ")[-1] for row in rows] == [
        "same time b",
        "same time a",
        *(f"e{n}" for n in range(6, -1, -1)),
    ]


def test_the_export_follows_the_dates_in_the_tenants_time_zone(admin, tenant):
    add(tenant, object_repr="before", at=at(2026, 12, 4, 22, 30))
    add(tenant, object_repr="inside", at=at(2026, 12, 4, 23, 30))

    rows = rows_of(admin.get("/audit/export.csv", {"date_from": "2026-12-05"}))[1:]

    assert [row[3].split(" on ")[-1] for row in rows if row[2] == "thing.done"] == ["inside"]


def test_the_export_never_holds_another_tenants_entries(admin, tenant, other_tenant):
    add(tenant, object_repr="ours")
    add(other_tenant, object_repr="theirs")

    rows = rows_of(admin.get("/audit/export.csv", {"q": "theirs"}))

    assert rows[1:] == []
    everything = [row[3] for row in rows_of(admin.get("/audit/export.csv"))[1:]]
    assert any("ours" in s for s in everything) and not any("theirs" in s for s in everything)


@pytest.mark.parametrize("role", [Role.BACK_OFFICE, Role.MANAGER, Role.STORE_CLERK, Role.VIEWER])
def test_the_export_obeys_the_pages_access_rule(user_client, tenant, role):
    add(tenant, object_repr="secret")

    response = user_client(role).get("/audit/export.csv")

    assert response.status_code == 403


def test_the_export_asks_anonymous_visitors_to_sign_in(client, tenant):
    response = client.get("/audit/export.csv")

    assert response.status_code == 302 and response.url.startswith("/login/")


def test_invalid_filters_are_refused_by_the_export(admin):
    response = admin.get("/audit/export.csv", {"date_from": "not a date"})

    assert response.status_code == 400


def test_the_export_speaks_the_readers_language(admin, tenant):
    add(tenant, "order.held", object_repr="SO-1", actor_label="ann", changes={"reason": "fraude"})
    admin.post("/i18n/setlang/", {"language": "fr", "next": "/"})

    header, *rows = rows_of(admin.get("/audit/export.csv", {"action": "order.held"}))

    assert header[0:4] == ["Quand", "Qui", "Code de l’action", "Ce qui s’est passé"]
    assert rows[0][3] == "ann a bloqué la commande SO-1\u00a0: motif fraude"


def test_filters_are_plain_values_for_the_selector(tenant):
    filters = audit_log.AuditFilter(date_from=date(2026, 12, 5), actor="nonsense")

    assert not audit_log.valid_actor("nonsense") and audit_log.valid_actor("user:3")
    assert list(audit_log.audit_entries(tenant=tenant, filters=filters)) == []


# --- from an order to its entries ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.ADMIN, Role.BACK_OFFICE])
def test_an_order_page_links_to_its_entries_for_those_who_may_read_them(user_client, api, tenant, role):
    order = api.post("/api/v1/orders/", order_body(build_shop(tenant)), format="json").json()
    api.post(f"/api/v1/orders/{order['id']}/hold/", {"kind": "manual"}, format="json")
    client = user_client(role)

    html = client.get(f"/orders/{order['id']}/").content.decode()

    link = f"/audit/?object_type=orders.order&amp;object_id={order['id']}"
    assert (link in html) == (role == Role.ADMIN)
    if role == Role.ADMIN:
        entries = client.get("/audit/", {"object_type": "orders.order", "object_id": order["id"]})
        assert [line.entry.action for line in entries.context["lines"]] == ["order.held"]
