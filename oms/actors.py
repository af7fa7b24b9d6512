"""Who is acting: a signed-in user, an API key, or the system (tasks, commands)."""
from dataclasses import dataclass
from typing import Any


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


def actor_from_request(request) -> Actor:
    ip = request.META.get("REMOTE_ADDR")
    request_id = getattr(request, "request_id", "")
    api_key = getattr(request, "api_key", None)
    if api_key is not None:
        return Actor.for_api_key(api_key, ip=ip, request_id=request_id)
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return Actor.for_user(user, ip=ip, request_id=request_id)
    return Actor(label="anonymous", ip=ip, request_id=request_id)
