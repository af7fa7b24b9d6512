"""Audit entries in words: every action the code records has its sentence, in English and in French, with its
fields under human labels and its values formatted; an unknown action still reads as a sentence."""

import ast
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.utils import timezone, translation

from oms.audit_sentences import ACTIONS, KINDS, action_name, sentence
from oms.models import AuditEntry, User

ROOT = Path(__file__).resolve().parents[2]
SOURCE_DIRS = ("oms", "channels", "inventory", "orders", "fulfillment", "returns", "reporting")
# Recorded by features arriving in parallel: their sentences are ready before their code.
ANNOUNCED = {
    "customer.exported",
    "customer.erased",
    "membership.invited",
    "membership.invitation_accepted",
    "membership.invitation_revoked",
}


def recorded_actions() -> dict[str, str]:
    """Every action string passed as `action=` to a `record…` call in the product's code → where."""
    found: dict[str, str] = {}
    for directory in SOURCE_DIRS:
        for path in sorted((ROOT / directory).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "attr", None) or getattr(node.func, "id", "")
                if not name.startswith("record"):
                    continue
                for keyword in node.keywords:
                    if keyword.arg != "action":
                        continue
                    where = f"{path.relative_to(ROOT)}:{node.lineno}"
                    if isinstance(keyword.value, ast.Name) and keyword.value.id == "action":
                        continue  # a helper handing its own `action` parameter on: its callers are walked
                    assert not any(isinstance(inner, ast.JoinedStr) for inner in ast.walk(keyword.value)), (
                        f"{where}: write the action names out (an f-string hides them from this walk)"
                    )
                    strings = [
                        inner.value
                        for inner in ast.walk(keyword.value)
                        if isinstance(inner, ast.Constant) and isinstance(inner.value, str) and "." in inner.value
                    ]
                    assert strings, f"{where}: the action is not a literal this walk can read"
                    for action in strings:
                        found.setdefault(action, where)
    return found


def test_the_walk_finds_the_actions_recorded_across_the_apps():
    found = recorded_actions()
    for action in (
        "channel.changed",
        "api_key.rotated",
        "inventory.transfer_received",
        "inventory.snapshot",
        "membership.created",
        "membership.changed",
        "order.held",
        "user.signed_in",
        "tenant.changed",
    ):
        assert action in found


def test_every_recorded_action_has_a_sentence():
    missing = {action: where for action, where in recorded_actions().items() if action not in ACTIONS}
    assert not missing, f"add these actions to oms.audit_sentences.ACTIONS: {missing}"


def test_every_action_of_the_registry_is_recorded_somewhere_or_announced():
    stale = set(ACTIONS) - set(recorded_actions()) - ANNOUNCED - {"stock.adjusted"}
    assert not stale


def test_every_action_belongs_to_a_known_kind():
    assert {action.kind for action in ACTIONS.values()} <= set(KINDS)


# --- the sentences --------------------------------------------------------------------------------------------

# For each action, `changes` shaped as the code records them.
SAMPLES = {
    "api_key.created": {"label": "shop", "channel": "WEB"},
    "api_key.restored": {"channel": None},
    "api_key.rotated": {"label": "shop", "successor": "abc123", "valid_until": "2026-12-05T17:00:00+00:00"},
    "channel.changed": {"buffer": [0, 5], "reservation_ttl": [900, 600]},
    "channel.created": {"name": "Web", "buffer": 0, "locations": ["WH1", "PAR01"]},
    "demo_receiver.refusals_set": {"fail_next": 2},
    "inventory.alert_rule_saved": {"threshold": 4},
    "inventory.count_completed": {"lines": 3, "adjusted": 1, "variance": 2},
    "inventory.count_recorded": {"counted": [{"sku": "RED", "counted": 4}]},
    "inventory.count_started": {"location": "WH1", "lines": 3},
    "inventory.import_uploaded": {"mode": "snapshot", "rows": 12},
    "inventory.transfer_created": {"source": "WH1", "destination": "PAR01", "lines": {"RED": 2}},
    "inventory.transfer_in_transit": {"status": ["draft", "in_transit"]},
    "inventory.transfer_received": {"status": ["in_transit", "received"]},
    "inventory.transfer_cancelled": {"status": ["draft", "cancelled"]},
    "inventory.adjustments": {"accepted": 3, "rejected": 1, "as_of": None},
    "inventory.snapshot": {"accepted": 3, "rejected": 0, "as_of": "2026-12-01T08:00:00+00:00"},
    "location.changed": {"pickup": [False, True]},
    "location.created": {"name": "Paris", "kind": "store"},
    "membership.changed": {
        "before": {"role": "viewer", "locations": []},
        "after": {"role": "manager", "locations": []},
    },
    "membership.created": {"before": {"role": "viewer", "locations": []}, "after": {"role": "viewer", "locations": []}},
    "membership.deleted": {"before": {"role": "admin"}},
    "order.cancelled": {"reason": "customer_request", "whole_order": True, "lines": [{"sku": "RED", "quantity": 1}]},
    "order.held": {"hold_kind": "manual", "reason": "Call the customer"},
    "order.hold_released": {"hold_kind": "manual", "reason": "Call the customer", "note": ""},
    "product.bulk_upserted": {"created": ["A", "B"], "updated": ["C"]},
    "product.changed": {"active": [True, False]},
    "product.created": {"name": "Red shirt", "active": True},
    "routing_policy.saved": {"version": [3, 4]},
    "routing_simulation.started": {"from": "2026-11-01", "to": "2026-11-30", "orders": 120},
    "stock.safety_stock_changed": {"safety_stock": [0, 2]},
    "stock.bin_changed": {"bin": [None, "A3-2"]},
    "tenant.changed": {"name": ["Acme", "Acme SA"]},
    "tenant.order_settings_changed": {
        "before": {"order_number_prefix": "SO-"},
        "after": {"order_number_prefix": "CMD-"},
    },
    "user.changed": {"is_active": [True, False]},
    "webhook.changed": {"active": False},
    "webhook.created": {"url": "https://hooks.example.com/x", "events": ["order.placed"], "channel": None},
    "webhook.deleted": {"url": "https://hooks.example.com/x", "events": ["order.placed"]},
    "webhook.updated": {"events": ["order.placed", "order.cancelled"]},
}


def entry(action, changes=None, *, object_repr="WEB", user=None, actor_label="marie@example.com"):
    return AuditEntry(
        action=action,
        actor_label=actor_label,
        user=user,
        object_repr=object_repr,
        object_id="7",
        changes=changes or {},
        at=datetime(2026, 12, 5, 12, tzinfo=UTC),
    )


@pytest.fixture
def marie():
    return User(id=1, email="marie@example.com", full_name="Marie Dupont")


def read(item, language):
    with translation.override(language), timezone.override("Europe/Paris"):
        return sentence(item)


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_each_action_reads_as_its_own_sentence_in_english_and_in_french(action, marie):
    item = entry(action, SAMPLES.get(action), user=marie)

    english, french = read(item, "en"), read(item, "fr")

    fallback = f"did {action}"
    assert fallback not in english and "a effectué" not in french
    assert english != french, "the French translation is missing (see the locale catalogue)"
    for text in (english, french):
        assert "{" not in text and "[" not in text and "None" not in text  # never a dump of the data
        if "%(actor)s" in str(ACTIONS[action].sentence):
            assert "Marie Dupont" in text
    assert action_name(action) != action


def test_a_channel_change_names_its_fields_and_their_before_and_after(marie):
    item = entry("channel.changed", SAMPLES["channel.changed"], user=marie)

    assert read(item, "en") == "Marie Dupont changed channel WEB: buffer 0 → 5, reservation time 900 s → 600 s"
    assert read(item, "fr") == (
        "Marie Dupont a modifié le canal WEB\u00a0: tampon 0 → 5, durée de réservation 900 s → 600 s"
    )


def test_a_rotated_key_says_until_when_the_old_key_works_in_the_readers_time_zone(marie):
    item = entry("api_key.rotated", SAMPLES["api_key.rotated"], object_repr="shop (rotated)", user=marie)

    english, french = read(item, "en"), read(item, "fr")

    assert english.startswith("Marie Dupont rotated API key «shop»; the old key stays valid until Dec. 5, 2026")
    assert "6 p.m." in english  # 17:00 UTC is 18:00 in Paris
    assert french.startswith("Marie Dupont a renouvelé la clé d’API « shop » ; l’ancienne clé reste valable jusqu’au")
    assert "5 décembre 2026 18:00" in french


def test_an_order_cancellation_gives_the_reason_and_the_lines(marie):
    item = entry("order.cancelled", SAMPLES["order.cancelled"], object_repr="SO-1042", user=marie)

    assert read(item, "en") == (
        "Marie Dupont cancelled order SO-1042: reason customer_request, whole order yes, lines RED: 1"
    )
    assert read(item, "fr") == (
        "Marie Dupont a annulé la commande SO-1042\u00a0: motif customer_request, commande entière oui, lignes RED: 1"
    )


def test_a_role_change_shows_the_roles_by_their_names():
    item = entry("membership.changed", SAMPLES["membership.changed"], object_repr="clerk@example.com")

    assert read(item, "en") == "marie@example.com changed the role of clerk@example.com: role Viewer → Manager"
    assert read(item, "fr") == (
        "marie@example.com a modifié le rôle de clerk@example.com\u00a0: rôle Lecteur → Responsable"
    )


def test_an_api_key_actor_is_named_as_a_key():
    item = entry("webhook.deleted", {}, object_repr="https://hooks.example.com/x", actor_label="api-key:erp")

    assert read(item, "en") == "API key «erp» deleted the webhook subscription https://hooks.example.com/x"
    assert read(item, "fr") == "Clé d’API « erp » a supprimé l’abonnement webhook https://hooks.example.com/x"


def test_booleans_and_dates_are_formatted_for_the_reader(marie):
    product = entry("product.changed", {"active": [True, False]}, object_repr="RED", user=marie)
    simulation = entry("routing_simulation.started", SAMPLES["routing_simulation.started"], user=marie)

    assert read(product, "en").endswith("active yes → no")
    assert read(product, "fr").endswith("actif oui → non")
    assert "from Nov. 1, 2026, to Nov. 30, 2026" in read(simulation, "en")
    assert "du 1 novembre 2026, au 30 novembre 2026" in read(simulation, "fr")


def test_an_unknown_action_falls_back_to_a_readable_sentence(marie):
    item = entry("thing.frobnicated", {"colour": "red", "size": [1, 2], "nested": {"a": True}}, user=marie)

    english, french = read(item, "en"), read(item, "fr")

    assert english == "Marie Dupont did thing.frobnicated on WEB: colour red, size 1, 2, nested a yes"
    assert french.startswith("Marie Dupont a effectué thing.frobnicated sur WEB\u00a0: colour red")
    assert "{" not in english and "'" not in english


def test_an_unknown_action_without_an_object_still_reads():
    item = entry("thing.happened", object_repr="")
    item.object_id = ""

    assert read(item, "en") == "marie@example.com did thing.happened"


def test_long_lists_are_cut_short():
    item = entry("product.bulk_upserted", {"created": [f"SKU{n}" for n in range(40)], "updated": []})

    assert read(item, "en") == "marie@example.com created 40 and updated 0 products in one batch"
    webhook = entry("webhook.updated", {"events": [f"e.{n}" for n in range(14)]})
    assert read(webhook, "en").endswith("e.9 (and 4 more)")
