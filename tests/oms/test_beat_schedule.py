from django.conf import settings

from oms.celery import app


def test_every_beat_entry_names_a_task_the_worker_knows():
    app.loader.import_default_modules()  # what `celery beat` and `celery worker` do at start
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled <= set(app.tasks), scheduled - set(app.tasks)
    assert {"oms.sweep_outbox", "inventory.expire_reservations", "inventory.evaluate_stock_alerts"} <= scheduled
