"""The demo: `python -m oms.demo` (`make demo`) runs the whole system in miniature on one machine.

This package holds what the demo publishes (accounts, the fixed API key, the receiver's address), as plain
constants that the launcher reads without loading Django; `embedded` (the PostgreSQL started from a wheel),
`launcher` (the supervisor of the web server, the Celery worker and beat) and `receiver` (the webhook receiver
the demo tenant's subscription points at) sit beside it.
"""

TENANT_SLUG = "demo"
TENANT_NAME = "Maison Demo"
PASSWORD = "demo-password-2026"
# (e-mail, role, full name): one user per role.
USERS = (
    ("admin@demo.test", "admin", "Alice Martin"),
    ("backoffice@demo.test", "back_office", "Bruno Lefèvre"),
    ("clerk@demo.test", "store_clerk", "Chloé Bernard"),
    ("manager@demo.test", "manager", "Marc Dubois"),
    ("viewer@demo.test", "viewer", "Valérie Petit"),
)
# Published in the README on purpose, so that the demo answers to the same key after every restart. It exists
# only in the demo tenant, which seed_demo alone creates; never give a real tenant a published secret.
API_KEY = "oms_demo_published-demo-key-never-use-in-production"
API_KEY_LABEL = "demo-web"
API_KEY_CHANNEL = "WEB"
RECEIVER_DESCRIPTION = "Demo receiver"


def receiver_path(tenant_slug: str) -> str:
    """Where the demo receiver takes a tenant's deliveries (oms/demo/urls.py serves it)."""
    return f"/demo/webhooks/{tenant_slug}/receive/"
