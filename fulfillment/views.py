"""Back-office pages of fulfilment: routing (the policy editor with its version history, the dry run of an order
and the simulation of a draft policy on a past period), the fulfilment board of each location with its print-outs,
shipments and their tracking, and the order page's manual re-route. The pages call the same services as the API."""

import json
import re
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from fulfillment import board, carriers, selectors
from fulfillment.forms import SimulationForm
from fulfillment.models import ShipmentStatus
from fulfillment.selectors import simulation_detail, simulations_for
from fulfillment.services import execution, policies, simulation, tracking
from fulfillment.services.routing import question_for_order, route
from inventory.sourcing import today_for
from oms.digits import whole_number
from oms.errors import DomainError, NotFound, ValidationFailed
from oms.permissions import page_access, page_roles, register_nav
from orders.selectors import orders_for

READERS = page_roles("routing_policy")
EDITORS = page_roles("routing_policy", write=True)

register_nav(_("Routing"), "routing-policy", READERS, order=40)


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


@page_access("routing_policy")
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


# --- fulfilment work: the board per location, a fulfilment order's page, print-outs, shipments, re-route ----

WORKERS = page_roles("fulfillments", write=True)
DISPATCHERS = page_roles("shipments", write=True)
BOARD_READERS = page_roles("fulfillments")

register_nav(_("Fulfilment"), "fulfillment-board", BOARD_READERS, order=35)
register_nav(_("Shipments"), "shipment-list", BOARD_READERS, order=36)


def _fulfillment_or_404(scope, pk):
    try:
        return selectors.fulfillment_detail(scope=scope, fulfillment_id=pk)
    except NotFound:
        raise Http404 from None


def _shipment_or_404(scope, pk):
    try:
        return selectors.shipment_detail(scope=scope, shipment_id=pk)
    except NotFound:
        raise Http404 from None


@page_access("fulfillments")
def fulfillment_board(request):
    """One location's open fulfilment orders in a column per status, each with its age against the SLA."""
    scope = request.oms_scope
    locations = board.board_locations(scope=scope)
    chosen = board.chosen_location(locations, request.GET.get("location", ""))
    context = {"locations": locations, "location": chosen, "can_work": scope.has_role(*WORKERS)}
    if chosen is not None:
        context.update(board.board(scope=scope, location=chosen, now=timezone.now()))
    return render(request, "fulfillment/board.html", context)


@page_access("fulfillments")
def fulfillment_detail(request, pk: int):
    scope = request.oms_scope
    fulfillment = _fulfillment_or_404(scope, pk)
    return render(
        request,
        "fulfillment/detail.html",
        {
            "fulfillment": fulfillment,
            "lines": list(fulfillment.lines.all()),
            "order": fulfillment.order,
            "can_work": scope.has_role(*WORKERS),
            "reject_reasons": execution.REJECT_REASONS,
            "carriers": sorted(carriers.BUILT_IN.items()),
            "due_at": fulfillment.created_at + timedelta(hours=carriers.sla_hours(request.tenant)),
        },
    )


def _step_done(request, pk: int, run, done_message):
    try:
        run()
        messages.success(request, done_message)
    except ValidationFailed as refused:
        problems = refused.extra.get("errors") or {}
        messages.error(request, " ".join(f"{path}: {' '.join(map(str, errs))}" for path, errs in problems.items()))
    except DomainError as refused:
        messages.error(request, refused.detail)
    return redirect("fulfillment-detail", pk=pk)


def _posted_units(request, fulfillment) -> list | None:
    """Quantities typed per line (`qty-<order line id>`); None when every one is left empty (all open units)."""
    units, errors = [], {}
    for line in fulfillment.lines.all():
        raw = request.POST.get(f"qty-{line.order_line_id}", "").strip()
        if not raw:
            continue
        quantity = whole_number(raw)
        if quantity is None:
            errors[line.order_line.sku] = [gettext("A whole number of units.")]
        elif quantity > 0:
            units.append(execution.Units(line.order_line_id, quantity))
    if errors:
        raise ValidationFailed(errors=errors)
    return units or None


@require_POST
@page_access("fulfillments", write=True)
def fulfillment_step(request, pk: int, step: str):
    """The buttons of a fulfilment order's page and of the board: accept, pick, pack, ship, reject."""
    scope = request.oms_scope
    fulfillment = _fulfillment_or_404(scope, pk)  # 404 first
    post = request.POST

    def run():
        if step == "accept":
            execution.accept(scope=scope, fulfillment_id=pk)
        elif step == "pick":
            execution.start_picking(scope=scope, fulfillment_id=pk)
        elif step == "pack":
            execution.pack(scope=scope, fulfillment_id=pk, parcels=_posted_parcels(post))
        elif step == "ship":
            execution.ship(
                scope=scope,
                fulfillment_id=pk,
                carrier=_carrier_code(post.get("carrier", "")),
                service=post.get("service", "")[:60],
                tracking_numbers=[t.strip()[:60] for t in post.get("tracking_numbers", "").split(",") if t.strip()],
                lines=_posted_units(request, fulfillment),
            )
        elif step == "reject":
            execution.reject(
                scope=scope, fulfillment_id=pk, reason=post.get("reason", ""), lines=_posted_units(request, fulfillment)
            )
        else:
            raise Http404

    done = {
        "accept": gettext("Accepted."),
        "pick": gettext("Picking started."),
        "pack": gettext("Packed."),
        "ship": gettext("Shipped."),
        "reject": gettext("Rejected: the units were routed again."),
    }
    response = _step_done(request, pk, run, done.get(step, ""))
    back = post.get("next", "")
    if back.startswith("/fulfillment/board/"):
        return redirect(back)
    return response


def _carrier_code(raw: str) -> str:
    code = raw.strip().lower()
    if not re.fullmatch(r"[a-z0-9_]{1,40}", code):
        raise ValidationFailed(errors={"carrier": [gettext("A carrier code: lower-case letters, digits, _.")]})
    return code


def _posted_parcels(post) -> list[dict]:
    """Parcel weights in kilograms, separated by spaces or semicolons (a comma is a decimal separator in French)."""
    parcels = []
    for index, raw in enumerate(re.split(r"[;\s]+", post.get("parcels", "").strip())):
        if not raw:
            continue
        try:
            weight = Decimal(raw.replace(",", "."))
        except InvalidOperation:
            weight = None
        if weight is None or not Decimal("0.001") <= weight <= Decimal("1000"):
            raise ValidationFailed(errors={f"parcels[{index}]": [gettext("A weight in kg, up to 1000.")]})
        parcels.append({"weight_kg": str(weight)})
    return parcels


@page_access("fulfillments")
def pick_list(request, pk: int):
    fulfillment = _fulfillment_or_404(request.oms_scope, pk)
    return render(
        request,
        "fulfillment/pick_list.html",
        {"fulfillments": [fulfillment], "totals": board.pick_totals([fulfillment]), "printed_at": timezone.now()},
    )


@page_access("fulfillments")
def batch_pick_list(request):
    """Every accepted fulfilment order of one location on one pick list, with the units per SKU to collect."""
    scope = request.oms_scope
    locations = board.board_locations(scope=scope)
    chosen = board.chosen_location(locations, request.GET.get("location", ""))
    if chosen is None:
        raise Http404
    fulfillments = list(selectors.fulfillment_list(scope=scope, location=chosen.code, status="accepted"))
    return render(
        request,
        "fulfillment/pick_list.html",
        {
            "fulfillments": fulfillments,
            "totals": board.pick_totals(fulfillments),
            "location": chosen,
            "printed_at": timezone.now(),
        },
    )


@page_access("fulfillments")
def packing_slip(request, pk: int):
    fulfillment = _fulfillment_or_404(request.oms_scope, pk)
    return render(
        request,
        "fulfillment/packing_slip.html",
        {"fulfillment": fulfillment, "order": fulfillment.order, "lines": list(fulfillment.lines.all())},
    )


@page_access("shipments")
def shipment_list(request):
    scope = request.oms_scope
    status = request.GET.get("status", "")
    search = request.GET.get("q", "").strip()
    queryset = selectors.shipment_list(scope=scope, status=status if status in ShipmentStatus.values else "")
    if search:
        queryset = queryset.filter(Q(order__number__icontains=search) | Q(tracking_numbers__icontains=search))
    page = Paginator(queryset, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "fulfillment/shipments.html",
        {"page": page, "status": status, "q": search, "statuses": ShipmentStatus.choices},
    )


@page_access("shipments")
def shipment_detail(request, pk: int):
    scope = request.oms_scope
    shipment = _shipment_or_404(scope, pk)
    if request.method == "POST":
        if not scope.has_role(*DISPATCHERS):
            raise PermissionDenied
        try:
            recorded = tracking.record_tracking(
                scope=scope,
                shipment_id=pk,
                status=request.POST.get("status", ""),
                detail=request.POST.get("detail", "")[:300],
            )
        except DomainError as refused:
            messages.error(request, refused.detail)
        else:
            if recorded.created:
                messages.success(request, gettext("Tracking event recorded."))
        return redirect("shipment-detail", pk=pk)
    return render(
        request,
        "fulfillment/shipment.html",
        {
            "shipment": shipment,
            "can_report": scope.has_role(*DISPATCHERS),
            "reported": [(value, label) for value, label in ShipmentStatus.choices if value in tracking.REPORTED],
        },
    )


@require_POST
@page_access("rerouting", write=True)
def order_reroute(request, pk: int):
    """The order page's re-route: the work no location has started on goes where the policy sends it now."""
    if not orders_for(scope=request.oms_scope).filter(id=pk).exists():
        raise Http404
    codes = [code.strip() for code in request.POST.get("exclude", "").split(",") if code.strip()]
    try:
        created = execution.reroute(scope=request.oms_scope, order_id=pk, exclude=codes)
    except ValidationFailed as refused:
        problems = refused.extra.get("errors") or {}
        messages.error(request, " ".join(" ".join(map(str, errs)) for errs in problems.values()))
    except DomainError as refused:
        messages.error(request, refused.detail)
    else:
        places = ", ".join(sorted({f.location.code for f in created}))
        messages.success(request, gettext("Re-routed to %(places)s.") % {"places": places})
    return redirect("order-detail", pk=pk)


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
@page_access("routing_simulations", write=True)
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


@page_access("routing_simulations")
def simulation_page(request, pk: int):
    """A simulation's progress and, once done, the comparison of the draft with the active policy."""
    found = _simulation_for(request, pk)
    context = {**_simulation_context(found), "draft_text": json.dumps(found.draft, indent=2)}
    return render(request, "fulfillment/simulation.html", context)


@page_access("routing_simulations")
def simulation_progress(request, pk: int):
    """The htmx fragment polled while the replay runs (the results once it is done); a job whose hand-over was
    lost is given again."""
    found = _simulation_for(request, pk)
    simulation.resume_if_lost(found)
    return render(request, "fulfillment/_simulation_progress.html", _simulation_context(found))
