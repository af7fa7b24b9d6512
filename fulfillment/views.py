"""Back-office pages of routing: the policy editor with its version history, the dry run of an order and the
simulation of a draft policy on a past period."""

import json
from datetime import timedelta

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from fulfillment.forms import SimulationForm
from fulfillment.selectors import simulation_detail, simulations_for
from fulfillment.services import policies, simulation
from fulfillment.services.routing import question_for_order, route
from inventory.sourcing import today_for
from oms.errors import DomainError, NotFound, ValidationFailed
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
        **_simulation_section(request, active),
    }
    return render(request, "fulfillment/routing.html", context, status=400 if errors else 200)


# --- policy simulation ---------------------------------------------------------------------------------------


def _simulation_section(request, active) -> dict:
    """The routing page's "Simulate a draft" section: the form, starting from the active rules and the last 30
    days, and the latest simulations."""
    today = today_for(request.tenant)
    form = SimulationForm(
        initial={
            "draft": json.dumps(active.document, indent=2),
            "date_from": today - timedelta(days=30),
            "date_to": today - timedelta(days=1),
        }
    )
    return {
        "simulation_form": form,
        "can_simulate": request.oms_scope.has_role(*EDITORS),
        "simulations": simulations_for(scope=request.oms_scope)[:10],
        "max_days": simulation.MAX_DAYS,
        "max_orders": simulation.MAX_ORDERS,
    }


@require_POST
@role_required(*EDITORS)
def simulation_start(request):
    """Start a replay of the draft and follow it on its page; a refused draft or period is shown on the form."""
    form = SimulationForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            started = simulation.start_simulation(
                scope=request.oms_scope, draft=data["draft"], date_from=data["date_from"], date_to=data["date_to"]
            )
        except ValidationFailed as refused:
            form.add_service_errors(refused.extra.get("errors", {}))
        except DomainError as refused:
            form.add_error(None, refused.detail)
        else:
            return redirect("routing-simulation", pk=started.id)
    context = {"simulation_form": form, "max_days": simulation.MAX_DAYS, "max_orders": simulation.MAX_ORDERS}
    return render(request, "fulfillment/simulation_new.html", context, status=400)


def _percent(value):
    return None if value is None else value * 100


def _summary(results: dict) -> list[dict]:
    """The headline figures as rows: label, active, draft, difference, decimals shown."""
    active, draft, difference = results["active"], results["draft"], results["difference"]
    return [
        {
            "label": gettext("Orders with at least one shipment"),
            "active": active["orders_served"],
            "draft": draft["orders_served"],
            "difference": difference["orders_served"],
            "digits": 0,
        },
        {
            "label": gettext("Shipments"),
            "active": active["shipments"],
            "draft": draft["shipments"],
            "difference": difference["shipments"],
            "digits": 0,
        },
        {
            "label": gettext("Shipments per order"),
            "active": active["shipments_per_order"],
            "draft": draft["shipments_per_order"],
            "difference": difference["shipments_per_order"],
            "digits": 2,
        },
        {
            "label": gettext("Split rate (%)"),
            "active": _percent(active["split_rate"]),
            "draft": _percent(draft["split_rate"]),
            "difference": _percent(difference["split_rate"]),
            "digits": 1,
        },
        {
            "label": gettext("Mean distance to the customer (km per shipment)"),
            "active": active["distance"]["mean_km"],
            "draft": draft["distance"]["mean_km"],
            "difference": difference["mean_km"],
            "digits": 1,
        },
        {
            "label": gettext("Orders not fully fillable"),
            "active": active["unfillable"]["orders"],
            "draft": draft["unfillable"]["orders"],
            "difference": difference["unfillable_orders"],
            "digits": 0,
        },
        {
            "label": gettext("Units left unfilled"),
            "active": active["unfillable"]["units"],
            "draft": draft["unfillable"]["units"],
            "difference": difference["unfillable_units"],
            "digits": 0,
        },
    ]


def _simulation_context(found) -> dict:
    context = {"simulation": found}
    if found.status == found.Status.DONE and found.results:
        context["results"] = found.results
        context["summary"] = _summary(found.results)
        context["sides"] = [
            {"label": gettext("Active"), "figures": found.results["active"]},
            {"label": gettext("Draft"), "figures": found.results["draft"]},
        ]
    return context


def _simulation_for(request, pk: int):
    try:
        return simulation_detail(scope=request.oms_scope, simulation_id=pk)
    except NotFound:
        raise Http404 from None


@role_required(*READERS)
def simulation_page(request, pk: int):
    """A simulation's progress and, once done, the comparison of the draft with the active policy."""
    found = _simulation_for(request, pk)
    context = {**_simulation_context(found), "draft_text": json.dumps(found.draft, indent=2)}
    return render(request, "fulfillment/simulation.html", context)


@role_required(*READERS)
def simulation_progress(request, pk: int):
    """The htmx fragment polled while the replay runs (the results once it is done); a job whose hand-over was
    lost is given again."""
    found = _simulation_for(request, pk)
    simulation.resume_if_lost(found)
    return render(request, "fulfillment/_simulation_progress.html", _simulation_context(found))
