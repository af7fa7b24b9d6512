"""The delivery promise's back-office page: the carrier transit table (configured days beside the days recent
deliveries measured) and the tenant's closures; those who may change the network edit both."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from fulfillment.forms import ClosureForm, TransitTimeForm
from fulfillment.services import promises
from inventory.models import Location
from oms.errors import NotFound, ValidationFailed
from oms.permissions import page_access, page_roles, register_nav

EDITORS = page_roles("network", write=True)

register_nav(_("Delivery promise"), "delivery-promise", page_roles("network"), order=45)


def _locations(tenant):
    return list(Location.objects.for_tenant(tenant).filter(active=True).order_by("code"))


@page_access("network")
def delivery_promise(request, transit_form=None, closure_form=None, status=200):
    """The carrier transit table with measured p50/p90 and the closures to come."""
    tenant, now = request.tenant, timezone.now()
    context = {
        "rows": promises.carrier_table(tenant=tenant, now=now),
        "closures": promises.closures_ahead(tenant=tenant, today=now.date()),
        "service": promises.delivery_service(tenant),
        "can_edit": request.oms_scope.has_role(*EDITORS),
        "transit_form": transit_form or TransitTimeForm(),
        "closure_form": closure_form or ClosureForm(locations=_locations(tenant)),
        "measured_days": promises.MEASURED_DAYS,
    }
    return render(request, "fulfillment/delivery_promise.html", context, status=status)


@require_POST
@page_access("network", write=True)
def transit_time_save(request):
    form = TransitTimeForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            promises.save_transit_time(tenant=request.tenant, **data)
        except ValidationFailed as exc:
            for name, problems in exc.extra.get("errors", {}).items():
                for problem in problems:
                    form.add_error(name if name in form.fields else None, problem)
        else:
            messages.success(request, gettext("Transit time saved."))
            return redirect("delivery-promise")
    return delivery_promise(request, transit_form=form, status=400)


@require_POST
@page_access("network", write=True)
def transit_time_delete(request):
    post = request.POST
    promises.delete_transit_time(
        tenant=request.tenant,
        service=post.get("service", ""),
        country=post.get("country", ""),
        postal_prefix=post.get("postal_prefix", ""),
    )
    messages.success(request, gettext("Transit time removed."))
    return redirect("delivery-promise")


@require_POST
@page_access("network", write=True)
def closure_add(request):
    locations = _locations(request.tenant)
    form = ClosureForm(request.POST, locations=locations)
    if not form.is_valid():
        return delivery_promise(request, closure_form=form, status=400)
    data = form.cleaned_data
    by_code = {loc.code: loc for loc in locations}
    promises.add_closure(
        tenant=request.tenant,
        location=by_code.get(data["location"]),
        starts_on=data["starts_on"],
        ends_on=data["ends_on"],
        reason=data["reason"],
    )
    messages.success(request, gettext("Closure added."))
    return redirect("delivery-promise")


@require_POST
@page_access("network", write=True)
def closure_delete(request, pk: int):
    try:
        promises.delete_closure(tenant=request.tenant, closure_id=pk)
    except NotFound:
        raise Http404 from None
    messages.success(request, gettext("Closure removed."))
    return redirect("delivery-promise")
