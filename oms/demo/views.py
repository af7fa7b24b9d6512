"""The demo receiver's endpoint and page; both answer 404 unless OMS_DEMO is on."""

from functools import wraps

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from oms import rls
from oms.actors import actor_from_request
from oms.demo import receiver, receiver_path
from oms.events import mask_secrets_in_text
from oms.models import Tenant
from oms.permissions import STAFF_ROLES, page_access, role_of
from oms.views import register_home_tile


def demo_only(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not settings.OMS_DEMO:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapped


@csrf_exempt  # called by the webhook sender, which signs its body instead
@demo_only
@require_POST
def receive(request, tenant_slug: str):
    tenant = Tenant.objects.filter(slug=tenant_slug, active=True).first()
    if tenant is None:
        raise Http404
    rls.bind(tenant.id)  # the address names the tenant: the delivery is recorded behind its wall
    received = receiver.receive(tenant=tenant, headers=request.headers, body=request.body)
    if received.answered != 200:
        return JsonResponse(
            {"detail": "The demo receiver was asked to refuse this delivery."}, status=received.answered
        )
    return JsonResponse({"received": True, "signature_verified": received.signature_verified})


def _received_tile(request):
    """Every demo user finds the receiver from the home page (the webhooks page is for staff)."""
    if not settings.OMS_DEMO:
        return None
    count = receiver.received_count(tenant=request.tenant)
    return {"title": _("Webhooks received (demo)"), "value": count, "url": reverse("demo-webhooks")}


register_home_tile(_received_tile, order=920)


class RefusalsForm(forms.Form):
    count = forms.IntegerField(
        label=_("Answer 503 to the next"),
        min_value=0,
        max_value=receiver.MAX_REFUSALS,
        help_text=_("deliveries; 0 answers every delivery with 200 again."),
    )


@demo_only
@page_access("home")
def received(request):
    """What the demo tenant's receiver took; staff may make it refuse the next deliveries to see retries."""
    can_refuse = role_of(request) in STAFF_ROLES
    form = RefusalsForm(request.POST or None, initial={"count": 3})
    if request.method == "POST":
        if not can_refuse:
            raise PermissionDenied
        if form.is_valid():
            count = form.cleaned_data["count"]
            receiver.refuse_next(tenant=request.tenant, actor=actor_from_request(request), count=count)
            if count:
                text = ngettext(
                    "The receiver answers 503 to the next delivery.",
                    "The receiver answers 503 to the next %(count)s deliveries.",
                    count,
                ) % {"count": count}
            else:
                text = _("The receiver answers every delivery with 200.")
            messages.success(request, text)
            return redirect("demo-webhooks")
    received = list(receiver.received_list(tenant=request.tenant))
    for delivery in received:
        # What the shop alone may read (a pickup code) stays hidden on a page every member, store clerks included, sees.
        delivery.body = mask_secrets_in_text(delivery.body)
    return render(
        request,
        "oms/demo_webhooks.html",
        {
            "received": received,
            "form": form,
            "can_refuse": can_refuse,
            "pending": receiver.pending_refusals(tenant=request.tenant),
            "address": settings.OMS_PUBLIC_URL + receiver_path(request.tenant.slug),
            "webhooks_url": reverse("webhooks"),
        },
    )
