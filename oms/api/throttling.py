"""Per-key throttling: the default rate from OMS_API_THROTTLE ('100/s'; 'off' disables), or the key's own rate.

Counters live in the default cache (Redis when REDIS_URL is set), so every web process shares them. On Redis a
rate of N per period is a generic cell rate algorithm (GCRA): one small value per key (the theoretical arrival
time of the next request), checked and moved by one Lua script, so a call costs one round trip whatever the
rate and concurrent calls cannot both take the last slot. N calls may come at once; after that one call every
period/N. Other caches (the demo's files, without Redis) keep DRF's sliding log.
"""

import weakref

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.throttling import SimpleRateThrottle

from oms.rates import valid_rate

# KEYS[1]: the key's theoretical arrival time (ms); ARGV: period/N (ms), the period (ms). Returns 0 when the call
# is allowed, else the milliseconds until it would be. Redis's own clock serves every web process alike.
_GCRA = """
local now = redis.call('TIME')
now = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local interval, period = tonumber(ARGV[1]), tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local next_tat = tat + interval
if next_tat - now > period then return math.max(1, math.ceil(next_tat - now - period)) end
redis.call('SET', KEYS[1], next_tat, 'PX', math.ceil(next_tat - now))
return 0
"""


_script = None
_clients: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # cache backend -> its Redis client


def _gcra(key: str, interval_ms: float, period_ms: int) -> int | None:
    """Run the GCRA script on the Redis behind the default cache: 0 (allowed) or the milliseconds to wait;
    None when the default cache is not Redis."""
    global _script
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return None
    redis_key = backend.make_and_validate_key(key)
    client = _clients.get(backend)
    if client is None:
        # Building a client costs as much as the call itself; it shares the backend's connection pool.
        client = _clients[backend] = backend._cache.get_client(redis_key, write=True)
    if _script is None:
        _script = client.register_script(_GCRA)  # the script's SHA: loaded once per Redis server, then EVALSHA
    return int(_script(keys=[redis_key], args=[interval_ms, period_ms], client=client))


class ApiKeyRateThrottle(SimpleRateThrottle):
    scope = "api"

    def __init__(self):
        # The rate depends on the key, so it is chosen in allow_request(), not here.
        self._wait = None

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
        period_ms = self.duration * 1000
        wait_ms = _gcra(self.get_cache_key(request, view), period_ms / self.num_requests, period_ms)
        if wait_ms is None:
            return super().allow_request(request, view)
        if wait_ms <= 0:
            return True
        self._wait = wait_ms / 1000
        return False

    def wait(self):
        if self._wait is not None:
            return self._wait
        return super().wait()

    def get_cache_key(self, request, view):
        api_key = getattr(request, "api_key", None)
        if api_key is not None:
            ident = f"key:{api_key.prefix}"
        elif getattr(request, "user", None) is not None and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return f"throttle:{self.num_requests}/{self.duration}:{ident}"
