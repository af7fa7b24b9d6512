from oms.permissions import nav_for


def tenancy(request):
    membership = getattr(request, "membership", None)
    return {
        "current_tenant": getattr(request, "tenant", None),
        "current_membership": membership,
        "user_memberships": getattr(request, "user_memberships", []),
        "nav_items": nav_for(request),
    }
