"""Probes for load balancers and orchestrators."""

import redis
from django.conf import settings
from django.http import JsonResponse

from oms import db


def healthz(request):
    """The process is up and serving."""
    return JsonResponse({"status": "ok"})


def readyz(request):
    """The database and (when configured) Redis answer; 503 otherwise."""
    checks = {}
    try:
        db.ping()
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    if settings.REDIS_URL:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
        try:
            client.ping()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"error: {type(exc).__name__}"
        finally:
            client.close()
    else:
        checks["redis"] = "not configured (file broker)"
    ready = all(not value.startswith("error") for value in checks.values())
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503)
