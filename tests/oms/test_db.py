"""insert_rows: the rows the ORM would write, with their keys read back in order."""

import pytest

from oms.db import insert_rows
from oms.models import OutboxEvent
from orders.models import OrderEvent
from tests import factories


@pytest.mark.django_db
def test_rows_are_written_as_the_orm_would_and_get_their_keys_in_order(tenant):
    events = [OutboxEvent(tenant=tenant, topic=f"order.t{i}", payload={"n": i, "note": "é"}) for i in range(3)]

    ids = insert_rows(events)

    assert ids == [event.id for event in events] and ids == sorted(ids)
    stored = {event.id: event for event in OutboxEvent.objects.for_tenant(tenant)}
    for i, event in enumerate(events):
        row = stored[event.id]
        assert (row.topic, row.payload, row.event_id) == (f"order.t{i}", {"n": i, "note": "é"}, event.event_id)
        assert row.created_at is not None and row.published_at is None
        assert event._state.adding is False


@pytest.mark.django_db
def test_auto_timestamps_are_filled_and_foreign_keys_written(tenant):
    order = factories.OrderFactory(tenant=tenant)
    event = OrderEvent(tenant=tenant, order=order, actor_label="tests", kind="note", after={"x": 1})

    insert_rows([event])

    row = OrderEvent.objects.for_tenant(tenant).get(id=event.id)
    assert row.order_id == order.id and row.after == {"x": 1} and row.at is not None


def test_mixing_models_or_given_and_missing_keys_is_refused(tenant):
    with pytest.raises(ValueError):
        insert_rows([OutboxEvent(tenant=tenant, topic="a"), OutboxEvent(tenant=tenant, topic="b", id=99)])
    assert insert_rows([]) == []
