"""The customer page's personal data actions (GDPR): download everything OMS holds about the customer, and erase
it after a confirmation step. Tenant admins only; the rules are in orders.services.privacy."""

import json

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext

from oms.actors import actor_from_request
from oms.errors import NotFound
from oms.permissions import page_access
from orders import services
from orders.forms import ErasureForm
from orders.services import privacy


def _customer_or_404(request, pk):
    try:
        return privacy.customer_of(tenant=request.tenant, customer_id=pk)
    except NotFound:
        raise Http404 from None


@page_access("customer_privacy")
def customer_export(request, pk: int):
    """The same document as GET /api/v1/customers/{id}/export/, as a file to download."""
    _customer_or_404(request, pk)
    document = services.export_customer(tenant=request.tenant, customer_id=pk, actor=actor_from_request(request))
    response = HttpResponse(
        json.dumps(document, indent=2, ensure_ascii=False), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{privacy.export_filename(pk)}"'
    return response


@page_access("customer_privacy", write=True)
def customer_erase(request, pk: int):
    """GET: what erasure does and keeps, and a box to tick; POST with the box ticked: erase."""
    customer = _customer_or_404(request, pk)
    form = ErasureForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.erase_customer(tenant=request.tenant, customer_id=pk, actor=actor_from_request(request))
        except privacy.OrdersInProgress as exc:
            messages.error(
                request,
                gettext("This customer still has orders to deliver: %(orders)s. Cancel or deliver them first.")
                % {"orders": ", ".join(exc.extra["orders"])},
            )
            return redirect("customer-detail", pk=pk)
        messages.success(request, gettext("The customer's personal data was erased."))
        return redirect("customer-detail", pk=pk)
    return render(request, "orders/customer_erase.html", {"customer": customer, "form": form})
