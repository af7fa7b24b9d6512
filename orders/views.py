"""Order pages: list with search and filters, detail with timeline and actions, phone orders, invoices."""
import uuid

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from channels.models import Channel
from inventory.models import Location
from oms.actors import actor_from_request
from oms.errors import Conflict, DomainError, NotFound
from oms.models import Role
from oms.permissions import STAFF_ROLES, register_nav, role_of, role_required
from oms.views import register_home_tile
from orders import invoicing, selectors, services
from orders.forms import (AddressForm, CancelForm, HoldForm, OrderSearchForm, PhoneOrderForm, PhoneOrderLineFormSet,
                          PickupForm, ReleaseForm)
from orders.models import DeliveryMethod, OrderStatus

PAGE_ROLES = frozenset({Role.ADMIN, Role.BACK_OFFICE, Role.MANAGER, Role.VIEWER})
ACTION_ROLES = STAFF_ROLES

register_nav(_("Orders"), "orders-list", PAGE_ROLES, order=30)


def _held_orders_tile(request):
    if role_of(request) not in PAGE_ROLES:
        return None
    held = selectors.orders_for(tenant=request.tenant).filter(status=OrderStatus.ON_HOLD).count()
    return {"title": _("Orders on hold"), "value": held, "url": reverse("orders-list") + "?status=on_hold"}


register_home_tile(_held_orders_tile)


def _describe(exc: DomainError) -> str:
    parts = [str(exc.detail)]
    for field, problems in (exc.extra.get("errors") or {}).items():
        parts.append(f"{field}: {' '.join(str(p) for p in problems)}")
    for line in exc.extra.get("lines") or []:
        parts.append(", ".join(f"{key} {value}" for key, value in line.items()))
    return " — ".join(parts)


def _order_or_404(request, pk):
    try:
        return selectors.order_detail(tenant=request.tenant, order_id=pk)
    except NotFound:
        raise Http404 from None


def _stores(tenant):
    return Location.objects.for_tenant(tenant).filter(active=True, pickup=True).order_by("code")


@role_required(*PAGE_ROLES)
def order_list(request):
    channels = Channel.objects.for_tenant(request.tenant).order_by("code")
    form = OrderSearchForm(request.GET or None, channels=channels)
    orders = selectors.order_list(tenant=request.tenant)
    if form.is_valid():
        orders = selectors.order_list(tenant=request.tenant, search=form.cleaned_data["q"])
        if form.cleaned_data["status"]:
            orders = orders.filter(status=form.cleaned_data["status"])
        if form.cleaned_data["channel"]:
            orders = orders.filter(channel__code=form.cleaned_data["channel"])
    page = Paginator(orders, 50).get_page(request.GET.get("page"))
    return render(request, "orders/list.html", {"form": form, "page": page,
                                                "can_act": role_of(request) in ACTION_ROLES})


@role_required(*PAGE_ROLES)
def order_detail(request, pk: int):
    order = _order_or_404(request, pk)
    context = {"order": order, "can_act": role_of(request) in ACTION_ROLES, "statuses": OrderStatus}
    if context["can_act"]:
        address = order.shipping_address or {}
        context.update(
            cancel_form=CancelForm(lines=order.lines_list),
            hold_form=HoldForm(),
            release_form=ReleaseForm(),
            address_form=AddressForm(initial={"version": order.version,
                                              **{k: address.get(k, "") for k in AddressForm.ADDRESS_FIELDS}}),
            pickup_form=PickupForm(initial={"version": order.version,
                                            "pickup_location": getattr(order.pickup_location, "code", "")},
                                   stores=_stores(request.tenant)),
            shipped=any(line.quantity_shipped for line in order.lines_list))
    return render(request, "orders/detail.html", context)


def _act(request, pk, run, done_message):
    try:
        run()
        messages.success(request, done_message)
    except DomainError as exc:
        messages.error(request, _describe(exc))
    return redirect("order-detail", pk=pk)


def _invalid(request, pk, form):
    messages.error(request, " ".join(f"{form.fields[name].label if name in form.fields else name}: {' '.join(errs)}"
                                     for name, errs in form.errors.items()))
    return redirect("order-detail", pk=pk)


@require_POST
@role_required(*ACTION_ROLES)
def order_cancel(request, pk: int):
    order = _order_or_404(request, pk)
    form = CancelForm(request.POST, lines=order.lines_list)
    if not form.is_valid():
        return _invalid(request, pk, form)
    chosen = form.line_quantities()
    lines = [services.LineQuantity(line_id, quantity) for line_id, quantity in chosen] if chosen else None
    return _act(request, pk, lambda: services.cancel_order(
        tenant=request.tenant, order_id=pk, actor=actor_from_request(request), reason=form.cleaned_data["reason"],
        lines=lines), _("The lines were cancelled.") if lines else _("The order was cancelled."))


@require_POST
@role_required(*ACTION_ROLES)
def order_hold(request, pk: int):
    form = HoldForm(request.POST)
    if not form.is_valid():
        return _invalid(request, pk, form)
    return _act(request, pk, lambda: services.hold_order(
        tenant=request.tenant, order_id=pk, actor=actor_from_request(request), kind=form.cleaned_data["kind"],
        reason=form.cleaned_data["reason"]), _("The order is on hold."))


@require_POST
@role_required(*ACTION_ROLES)
def order_release(request, pk: int):
    form = ReleaseForm(request.POST)
    if not form.is_valid():
        return _invalid(request, pk, form)
    return _act(request, pk, lambda: services.release_hold(
        tenant=request.tenant, order_id=pk, actor=actor_from_request(request), note=form.cleaned_data["note"]),
        _("The hold was released."))


@require_POST
@role_required(*ACTION_ROLES)
def order_address(request, pk: int):
    form = AddressForm(request.POST)
    if not form.is_valid():
        return _invalid(request, pk, form)
    return _act(request, pk, lambda: services.edit_order(
        tenant=request.tenant, order_id=pk, actor=actor_from_request(request),
        expected_version=form.cleaned_data["version"], address=form.address(),
        reason=_t("Address changed from the order page.")), _("The address was changed."))


@require_POST
@role_required(*ACTION_ROLES)
def order_pickup(request, pk: int):
    form = PickupForm(request.POST, stores=_stores(request.tenant))
    if not form.is_valid():
        return _invalid(request, pk, form)
    return _act(request, pk, lambda: services.edit_order(
        tenant=request.tenant, order_id=pk, actor=actor_from_request(request),
        expected_version=form.cleaned_data["version"], pickup_location=form.cleaned_data["pickup_location"],
        reason=_t("Pickup store changed from the order page.")), _("The pickup store was changed."))


@require_POST
@role_required(*ACTION_ROLES)
def order_reroute(request, pk: int):
    return _act(request, pk, lambda: services.reroute_order(
        tenant=request.tenant, order_id=pk, actor=actor_from_request(request)), _("The order was re-routed."))


@role_required(*ACTION_ROLES)
def order_new(request):
    """A phone order: the back office types what the customer dictates."""
    channels = Channel.objects.for_tenant(request.tenant).filter(active=True).exclude(kind="store").order_by("code")
    stores = _stores(request.tenant)
    form = PhoneOrderForm(request.POST or None, channels=channels, stores=stores,
                          initial={"currency": request.tenant.default_currency})
    lines = PhoneOrderLineFormSet(request.POST or None, prefix="lines")
    reference = request.POST.get("external_ref") or f"PHONE-{uuid.uuid4().hex[:12].upper()}"
    if request.method == "POST" and form.is_valid() and lines.is_valid():
        items = [line for line in lines.cleaned_data if line.get("sku")]
        if not items:
            messages.error(request, _("Add at least one line."))
        else:
            data = form.cleaned_data
            channel = channels.get(code=data["channel"])
            try:
                order = services.place_order(tenant=request.tenant, actor=actor_from_request(request),
                                             data=_phone_order(data, items, channel, reference))
                messages.success(request, _("Order %(number)s was placed.") % {"number": order.number})
                return redirect("order-detail", pk=order.id)
            except Conflict as exc:
                if exc.extra.get("order_id"):  # the same form submitted twice: show the order it created
                    return redirect("order-detail", pk=exc.extra["order_id"])
                messages.error(request, _describe(exc))
            except DomainError as exc:
                messages.error(request, _describe(exc))
    return render(request, "orders/new.html", {"form": form, "lines": lines, "external_ref": reference})


def _phone_order(data, items, channel, reference) -> services.OrderInput:
    method = data["method"]
    address = {"name": data["customer_name"], "line1": data["line1"], "postal_code": data["postal_code"],
               "city": data["city"], "country": data["country"]} if method == DeliveryMethod.SHIP else {}
    return services.OrderInput(
        channel=channel, external_ref=reference, currency=data["currency"],
        customer={"email": data["email"], "name": data["customer_name"], "phone": data["phone"]},
        delivery_method=method, address={k: v for k, v in address.items() if v},
        location_code=data.get("pickup_location") or "", service_level=data.get("service_level") or "",
        payment_status=data.get("payment_status") or "", metadata={"entered_by": "phone"},
        lines=[services.LineInput(sku=item["sku"].strip(), quantity=item["quantity"], unit_price=item["unit_price"],
                                  tax=item.get("tax") or services.ZERO) for item in items])


@role_required(*PAGE_ROLES)
def customer_detail(request, pk: int):
    try:
        customer = selectors.customer_detail(tenant=request.tenant, customer_id=pk)
    except NotFound:
        raise Http404 from None
    orders = selectors.customer_orders(tenant=request.tenant, customer=customer)
    page = Paginator(orders, 50).get_page(request.GET.get("page"))
    return render(request, "orders/customer.html", {"customer": customer, "page": page})


def _invoice_or_404(request, pk):
    try:
        return invoicing.get_invoice(tenant=request.tenant, invoice_id=pk)
    except NotFound:
        raise Http404 from None


@role_required(*PAGE_ROLES)
def invoice_html(request, pk: int):
    return HttpResponse(invoicing.render_html(_invoice_or_404(request, pk), request=request))


@role_required(*PAGE_ROLES)
def invoice_pdf(request, pk: int):
    invoice = _invoice_or_404(request, pk)
    response = HttpResponse(invoicing.render_pdf(invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{invoice.number}.pdf"'
    return response
