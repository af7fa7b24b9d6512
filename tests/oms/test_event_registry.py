"""One event registry (oms.events): emit() refuses any other topic, every registered topic is emitted somewhere in
the code and documented, and webhook subscriptions may name only registered topics."""

import ast
from pathlib import Path

import pytest
from django.db import transaction

from oms.events import EVENTS
from oms.outbox import emit

ROOT = Path(__file__).resolve().parents[2]
APPS = ("oms", "inventory", "channels", "orders", "fulfillment", "returns", "reporting")


def _string_constants() -> set[str]:
    """Every string literal of the apps' code, except the registry's own module and migrations."""
    found = set()
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if path.name == "events.py" and path.parent.name == "oms" or "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    found.add(node.value)
    return found


def _emitted_literals() -> set[str]:
    """The topics named literally in emit(tenant, "topic", ...) calls and in `topic=` arguments."""
    topics = set()
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                if name == "emit" and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant):
                    topics.add(node.args[1].value)
                for keyword in node.keywords:
                    if keyword.arg == "topic" and isinstance(keyword.value, ast.Constant) and keyword.value.value:
                        topics.add(keyword.value.value)
    return topics


def test_every_registered_topic_is_emitted_by_the_code():
    constants = _string_constants()

    assert sorted(topic for topic in EVENTS if topic not in constants) == []


def test_every_topic_the_code_emits_is_registered():
    assert sorted(_emitted_literals() - set(EVENTS)) == []


def test_every_registered_topic_is_documented_with_its_payload():
    docs = (ROOT / "docs" / "events.md").read_text(encoding="utf-8")

    for event in EVENTS.values():
        assert f"## `{event.topic}`" in docs
        section = docs.split(f"## `{event.topic}`", 1)[1].split("\n## ", 1)[0]
        assert all(f"`{field}`" in section for field in event.payload), event.topic


@pytest.mark.django_db
def test_emit_refuses_an_unregistered_topic(tenant):
    with pytest.raises(ValueError, match="unregistered"), transaction.atomic():
        emit(tenant, "order.teleported", {})


@pytest.mark.django_db
@pytest.mark.parametrize("topic", ["order.picked_up", "return.created", "fulfillment.teleported"])
def test_a_subscription_may_not_name_a_topic_nothing_emits(api, topic):
    answer = api.post("/api/v1/webhooks/", {"url": "https://hooks.example.com/x", "events": [topic]}, format="json")

    assert answer.status_code == 400 and list(answer.json()["errors"]) == ["events"]


@pytest.mark.django_db
def test_a_subscription_may_name_the_fulfilment_topics(api):
    topics = ["fulfillment.accepted", "fulfillment.rejected", "fulfillment.shipped", "shipment.delivered"]

    answer = api.post("/api/v1/webhooks/", {"url": "https://hooks.example.com/x", "events": topics}, format="json")

    assert answer.status_code == 201
