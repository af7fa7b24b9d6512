"""The Celery application: `celery -A oms worker -Q default,routing,webhooks,reporting` and `celery -A oms beat`."""

import os

from celery import Celery, Task

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms.settings")


class WalledTask(Task):
    """Every task runs in its own row-level security frame (oms.rls), set to no tenant: a task names the tenant it
    works for (`rls.bind`, from its arguments or the rows it loads) or takes the cross-tenant path by name."""

    def __call__(self, *args, **kwargs):
        from oms import rls

        with rls.unscoped():
            return super().__call__(*args, **kwargs)


app = Celery("oms", task_cls=WalledTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
