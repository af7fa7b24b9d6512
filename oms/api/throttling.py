"""Per-key throttling: the default rate from OMS_API_THROTTLE ('100/s'; 'off' disables), or the key's own rate."""
from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


class ApiKeyRateThrottle(SimpleRateThrottle):
    scope = "api"

    def __init__(self):
        # The rate depends on the key, so it is chosen in allow_request(), not here.
        pass

    def allow_request(self, request, view):
        api_key = getattr(request, "api_key", None)
        rate = (api_key.throttle_rate if api_key is not None and api_key.throttle_rate else None) \
            or settings.OMS_API_THROTTLE
        if not rate or rate.strip().lower() == "off":
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
        return f"throttle:{ident}"
