"""The tenant's return reasons: the list every tenant starts with, and the services that keep it."""

from django.db import IntegrityError, transaction

from oms import audit
from oms.actors import Actor
from oms.errors import Conflict, NotFound, ValidationFailed
from returns.models import ReturnReason

# code, English label, French label, whether the customer pays the return shipping.
DEFAULT_REASONS = (
    ("too_small", "Too small", "Trop petit", True),
    ("too_large", "Too large", "Trop grand", True),
    ("damaged", "Arrived damaged", "Arrivé endommagé", False),
    ("defective", "Defective", "Défectueux", False),
    ("wrong_item", "Wrong item sent", "Mauvais article envoyé", False),
    ("not_as_described", "Not as described", "Non conforme à la description", False),
    ("changed_mind", "Changed my mind", "Changement d'avis", True),
    ("late_delivery", "Arrived too late", "Livré trop tard", False),
)
REASON_FIELDS = ("label_en", "label_fr", "customer_pays_shipping", "active", "position")


def seed_reasons(tenant) -> None:
    """Give a tenant the default reasons it does not have yet (by code); its own edits are kept."""
    have = set(ReturnReason.objects.for_tenant(tenant).values_list("code", flat=True))
    ReturnReason.objects.for_tenant(tenant).bulk_create(
        [
            ReturnReason(
                tenant=tenant,
                code=code,
                label_en=label_en,
                label_fr=label_fr,
                customer_pays_shipping=pays,
                position=(index + 1) * 10,
            )
            for index, (code, label_en, label_fr, pays) in enumerate(DEFAULT_REASONS)
            if code not in have
        ]
    )


def reason_list(*, tenant, active: bool | None = None):
    queryset = ReturnReason.objects.for_tenant(tenant)
    if active is not None:
        queryset = queryset.filter(active=active)
    return queryset.order_by("position", "code")


def reason_by_code(*, tenant, code: str) -> ReturnReason:
    try:
        return ReturnReason.objects.for_tenant(tenant).get(code=code)
    except ReturnReason.DoesNotExist:
        raise NotFound(f"No return reason {code!r}.") from None


def _check(data: dict) -> dict:
    errors = {}
    for name in ("label_en", "label_fr"):
        if name in data:
            data[name] = (data[name] or "").strip()
            if not data[name]:
                errors[name] = ["Give the reason a label."]
    if errors:
        raise ValidationFailed(errors=errors)
    return data


def create_reason(*, tenant, actor: Actor, code: str, **fields) -> ReturnReason:
    data = _check({name: value for name, value in fields.items() if name in REASON_FIELDS})
    try:
        with transaction.atomic():
            reason = ReturnReason.objects.create(tenant=tenant, code=code, **data)
            audit.record(tenant=tenant, actor=actor, action="return_reason.created", obj=reason, changes=data)
    except IntegrityError:
        raise Conflict(f"A return reason with code {code!r} already exists.", code_taken=code) from None
    return reason


def update_reason(*, tenant, actor: Actor, code: str, **fields) -> ReturnReason:
    """Change labels, the shipping flag, the position, or deactivate a reason (one that returns name stays: a
    deactivated reason is offered no more)."""
    data = _check({name: value for name, value in fields.items() if name in REASON_FIELDS})
    with transaction.atomic():
        reason = reason_by_code(tenant=tenant, code=code)
        changes = {
            name: [getattr(reason, name), value] for name, value in data.items() if getattr(reason, name) != value
        }
        for name, value in data.items():
            setattr(reason, name, value)
        if changes:
            reason.save(update_fields=[*data, "updated_at"])
            audit.record(tenant=tenant, actor=actor, action="return_reason.changed", obj=reason, changes=changes)
    return reason
