"""The audit trail: one call records who did what to which object."""

from oms.actors import Actor
from oms.models import AuditEntry


def record(
    *,
    tenant,
    actor: Actor,
    action: str,
    obj=None,
    changes: dict | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
) -> AuditEntry:
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)
    return AuditEntry.objects.create(
        tenant=tenant,
        user=actor.user,
        api_key=actor.api_key,
        actor_label=actor.label[:200],
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr[:200],  # its column's length: an e-mail may be longer (up to 254)
        changes=changes or {},
        ip=actor.ip,
        request_id=actor.request_id or "",
    )
