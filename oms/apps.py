from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OmsConfig(AppConfig):
    name = "oms"
    verbose_name = _("Tenancy and platform")

    def ready(self):
        # Models can be imported only now. checks registers the system checks, schema the OpenAPI descriptions of
        # the authentication classes; the outbox learns which tasks carry its work to the workers.
        from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
        from django.db.models.signals import post_migrate

        from oms import checks, outbox, rls, tasks  # noqa: F401
        from oms.api import schema  # noqa: F401

        # After every migrate, once every app's migrations ran: new tables are put behind the tenant wall at once.
        post_migrate.connect(_install_rls, sender=self, dispatch_uid="oms-install-rls")

        # Sign-ins, refused sign-ins and sign-outs, on the pages and in the admin, go to the audit trail.
        user_logged_in.connect(_signed_in, dispatch_uid="oms-audit-signed-in")
        user_login_failed.connect(_sign_in_failed, dispatch_uid="oms-audit-sign-in-failed")
        user_logged_out.connect(_signed_out, dispatch_uid="oms-audit-signed-out")

        outbox.register_tasks(
            process_event=tasks.process_outbox_event,
            process_events=tasks.process_outbox_events,
            deliver_webhook=tasks.deliver_webhook,
        )


def _install_rls(sender, using, **kwargs):
    from django.db import connections

    from oms import rls

    rls.install(connections[using])


def _actor(request):
    from oms.actors import Actor, actor_from_request

    return actor_from_request(request) if request is not None else Actor.system("sign-in without a request")


def _signed_in(sender, request, user, **kwargs):
    from oms import accounts

    accounts.record_sign_in(user=user, actor=_actor(request))


def _sign_in_failed(sender, credentials, request=None, **kwargs):
    # Django has already masked the password in `credentials`; only the e-mail is read.
    from oms import accounts

    accounts.record_failed_sign_in(email=str(credentials.get("username") or ""), actor=_actor(request))


def _signed_out(sender, request, user, **kwargs):
    from oms import accounts

    if user is not None and user.is_authenticated:
        accounts.record_sign_out(user=user, actor=_actor(request))
