"""The platform, at the bottom of the import graph: settings, URLs, the Celery app, tenancy (tenants, members,
roles, API keys), the outbox and webhooks, audit, errors, and the API toolkit (oms.api) every app builds on.

It imports no domain app. Where it must reach one, the app registers itself when Django starts: its outbox
handlers (oms.outbox), its home tiles and menu entries (oms.views, oms.permissions), its channels
(oms.sales_channels); URLs include the apps' modules by name. The import-linter contracts in pyproject.toml keep
it so (`make check`).
"""

from .celery import app as celery_app

__all__ = ["celery_app"]
