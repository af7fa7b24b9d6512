"""Inventory tasks: thin, idempotent, late-acked."""
from celery import shared_task

from inventory import services


@shared_task(name="inventory.expire_reservations", acks_late=True, reject_on_worker_lost=True)
def expire_reservations():
    """Release the holds past their expiry (beat, every 30 s); safe to run twice or in parallel."""
    return services.expire_reservations()


# Stock operations tasks (CSV imports, low-stock sweep) live beside; importing them here registers them.
from inventory.tasks_ops import *  # noqa: E402,F401,F403
