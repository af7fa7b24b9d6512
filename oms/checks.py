"""System checks for OMS's own settings."""

from django.conf import settings
from django.core.checks import Error, register

from oms.rates import valid_rate


@register()
def throttle_rate_check(app_configs, **kwargs):
    rate = settings.OMS_API_THROTTLE
    if not valid_rate(rate):
        return [
            Error(f"OMS_API_THROTTLE={rate!r} is not a rate.", hint="Use e.g. 100/s, 6000/min, or off.", id="oms.E001")
        ]
    return []
