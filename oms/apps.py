from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OmsConfig(AppConfig):
    name = "oms"
    verbose_name = _("Tenancy and platform")

    def ready(self):
        # Models can be imported only now. checks registers the system checks, schema the OpenAPI descriptions of
        # the authentication classes; the outbox learns which tasks carry its work to the workers.
        from django.db.models.signals import post_migrate

        from oms import checks, outbox, rls, tasks  # noqa: F401
        from oms.api import schema  # noqa: F401

        # After every migrate, once every app's migrations ran: new tables are put behind the tenant wall at once.
        post_migrate.connect(_install_rls, sender=self, dispatch_uid="oms-install-rls")

        outbox.register_tasks(
            process_event=tasks.process_outbox_event,
            process_events=tasks.process_outbox_events,
            deliver_webhook=tasks.deliver_webhook,
        )


def _install_rls(sender, using, **kwargs):
    from django.db import connections

    from oms import rls

    rls.install(connections[using])
