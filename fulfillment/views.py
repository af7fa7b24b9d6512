"""Back-office pages of routing: the policy editor with its version history, and the dry run of an order."""

import json

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from fulfillment.services import policies
from fulfillment.services.routing import question_for_order, route
from oms.errors import DomainError, ValidationFailed
from oms.models import Role
from oms.permissions import register_nav, role_required
from orders.selectors import orders_for

READERS = (Role.ADMIN, Role.BACK_OFFICE, Role.MANAGER, Role.VIEWER)
EDITORS = (Role.ADMIN, Role.MANAGER)

register_nav(_("Routing"), "routing-policy", frozenset(READERS), order=40)


def _dry_run(request, number: str) -> dict:
    """The plan and reasons for the order with this number, as the page shows them; an error message otherwise."""
    order = orders_for(scope=request.oms_scope).select_related("channel", "pickup_location").filter(number=number)
    order = order.first()
    if order is None:
        return {"error": gettext("No order %(number)s.") % {"number": number}}
    answer = route(tenant=request.tenant, question=question_for_order(order, list(order.lines.all())))
    skus = {line.key: line.sku for line in answer.question.lines}
    names = {location_id: location for location_id, location in answer.locations.items()}
    return {
        "order": order,
        "answer": answer,
        "plan": [
            {"location": names[location_id], "lines": [(skus[key], quantity) for key, quantity in lines]}
            for location_id, lines in answer.plan.allocations.items()
        ],
        "unfilled": [(skus[key], quantity) for key, quantity in answer.plan.unfilled],
        "reasons": [(names[location_id], reason) for location_id, reason in answer.plan.reasons.items()],
    }


@role_required(*READERS)
def routing_policy(request):
    """The active routing policy, its versions and a dry run; admins and managers save new versions."""
    scope = request.oms_scope
    can_edit = scope.has_role(*EDITORS)
    active = policies.active_policy(tenant=request.tenant)
    text, errors = json.dumps(active.document, indent=2), {}
    if request.method == "POST":
        if not can_edit:
            messages.error(request, gettext("Your role cannot change the routing policy."))
            return redirect("routing-policy")
        text = request.POST.get("policy", "")
        try:
            document = json.loads(text)
            saved = policies.save_policy(
                scope=scope,
                document=document,
                note=request.POST.get("note", "")[:200],
                expected_version=int(request.POST.get("version") or 0) or None,
            )
        except json.JSONDecodeError as exc:
            errors = {"policy": [gettext("Not valid JSON: %(problem)s") % {"problem": exc.msg}]}
        except ValidationFailed as refused:
            errors = refused.extra.get("errors", {})
        except DomainError as refused:
            errors = {"policy": [refused.detail]}
        else:
            messages.success(request, gettext("Version %(version)s is now active.") % {"version": saved.version})
            return redirect("routing-policy")
    number = request.GET.get("order", "").strip()
    context = {
        "active": active,
        "text": text,
        "errors": errors,
        "can_edit": can_edit,
        "versions": policies.policy_versions(scope=scope)[:20],
        "number": number,
        "dry_run": _dry_run(request, number) if number else None,
    }
    return render(request, "fulfillment/routing.html", context, status=400 if errors else 200)
