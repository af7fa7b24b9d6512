from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OmsConfig(AppConfig):
    name = "oms"
    verbose_name = _("Tenancy and platform")

    def ready(self):
        # Registers the system checks and the OpenAPI descriptions of the authentication classes.
        from oms import checks  # noqa: F401
        from oms.api import schema  # noqa: F401
