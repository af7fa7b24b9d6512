"""Who is acting: a signed-in user, an API key, or the system (tasks, commands)."""

import ipaddress
from dataclasses import dataclass
from typing import Any

from django.conf import settings


@dataclass(frozen=True)
class Actor:
    label: str
    user: Any = None
    api_key: Any = None
    ip: str | None = None
    request_id: str = ""

    @classmethod
    def system(cls, what: str = "system") -> "Actor":
        return cls(label=what)

    @classmethod
    def for_user(cls, user, *, ip=None, request_id="") -> "Actor":
        return cls(label=user.email, user=user, ip=ip, request_id=request_id)

    @classmethod
    def for_api_key(cls, api_key, *, ip=None, request_id="") -> "Actor":
        return cls(label=f"api-key:{api_key.label}", api_key=api_key, ip=ip, request_id=request_id)


def client_ip(request) -> str | None:
    """The caller's address: behind our own proxy (OMS_BEHIND_PROXY), the address it appended to
    X-Forwarded-For; otherwise the peer's. None when it is not an IP address (a Unix socket)."""
    candidate = request.META.get("REMOTE_ADDR") or ""
    if getattr(settings, "OMS_BEHIND_PROXY", False):
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if forwarded:
            candidate = forwarded[-1]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None


def actor_from_request(request) -> Actor:
    ip = client_ip(request)
    request_id = getattr(request, "request_id", "")
    api_key = getattr(request, "api_key", None)
    if api_key is not None:
        return Actor.for_api_key(api_key, ip=ip, request_id=request_id)
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return Actor.for_user(user, ip=ip, request_id=request_id)
    return Actor(label="anonymous", ip=ip, request_id=request_id)
