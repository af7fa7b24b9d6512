"""The routing policy: every save is the next numbered version, the highest is the one routing follows.

A tenant that never saved one routes by the default policy, recorded as version 1 the first time it is read, so
that every routing decision names a version that exists.
"""

from django.db import IntegrityError, transaction
from django.db.models import Max

from fulfillment.models import RoutingPolicy
from fulfillment.policy import DEFAULT_POLICY, validate_policy
from oms import audit
from oms.api.scope import Scope, rows
from oms.errors import Conflict, StaleVersion
from oms.models import Tenant


def active_policy(*, tenant: Tenant) -> RoutingPolicy:
    """The tenant's highest version; the default policy, saved as version 1, when none was ever saved."""
    latest = RoutingPolicy.objects.for_tenant(tenant).order_by("-version").first()
    if latest is not None:
        return latest
    try:
        with transaction.atomic():
            return RoutingPolicy.objects.create(
                tenant=tenant,
                version=1,
                document=validate_policy(DEFAULT_POLICY),
                created_by="system",
                note="Default policy",
            )
    except IntegrityError:  # saved by a concurrent first reader
        return RoutingPolicy.objects.for_tenant(tenant).order_by("-version").first()


def save_policy(*, scope: Scope, document, note: str = "", expected_version: int | None = None) -> RoutingPolicy:
    """Validate the rules and save them as the next version (an audited change). With `expected_version`, a save
    made on top of an older version than the active one is refused (409 stale_version), so that two editors never
    overwrite each other unknowingly."""
    scope.forbid_channel_key("change the routing policy")
    rules = validate_policy(document)
    tenant = scope.tenant
    with transaction.atomic():
        current = active_policy(tenant=tenant)
        if expected_version is not None and expected_version != current.version:
            raise StaleVersion(
                f"The policy is at version {current.version}; you edited version {expected_version}.",
                current_version=current.version,
            )
        number = (RoutingPolicy.objects.for_tenant(tenant).aggregate(top=Max("version"))["top"] or 0) + 1
        try:
            with transaction.atomic():
                saved = RoutingPolicy.objects.create(
                    tenant=tenant, version=number, document=rules, note=note[:200], created_by=scope.actor.label[:200]
                )
        except IntegrityError:
            raise Conflict("Another version was saved at the same moment; read it and try again.") from None
        audit.record(
            tenant=tenant,
            actor=scope.actor,
            action="routing_policy.saved",
            obj=saved,
            changes={"version": [current.version, saved.version]},
        )
    return saved


def policy_versions(*, scope: Scope | None):
    """Every version, newest first; nothing without a scope."""
    return rows(RoutingPolicy, scope).order_by("-version")
