"""Per-key throttling: the default rate from OMS_API_THROTTLE ('100/s'; 'off' disables), or the key's own rate.

Counters live in the default cache (Redis when REDIS_URL is set), so every web process shares them.
"""
import re

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

RATE_PATTERN = re.compile(r"^(off|\d+/(s|sec|second|m|min|minute|h|hour|d|day))$")


def valid_rate(rate: str) -> bool:
    return bool(RATE_PATTERN.match((rate or "").strip().lower()))


class ApiKeyRateThrottle(SimpleRateThrottle):
    scope = "api"

    def __init__(self):
        # The rate depends on the key, so it is chosen in allow_request(), not here.
        pass

    def _rate_for(self, request) -> str:
        api_key = getattr(request, "api_key", None)
        own = (api_key.throttle_rate or "").strip().lower() if api_key is not None else ""
        if own and valid_rate(own):
            return own
        return (settings.OMS_API_THROTTLE or "off").strip().lower()

    def allow_request(self, request, view):
        rate = self._rate_for(request)
        if rate == "off" or not valid_rate(rate):
            return True
        self.rate = rate
        self.num_requests, self.duration = self.parse_rate(rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        api_key = getattr(request, "api_key", None)
        if api_key is not None:
            ident = f"key:{api_key.prefix}"
        elif getattr(request, "user", None) is not None and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return f"throttle:{self.duration}:{ident}"
