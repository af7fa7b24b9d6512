"""Order pages: list with search and filters, detail with timeline and actions, phone orders, invoices."""

import re
import uuid
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from channels.models import Channel, ChannelKind
from inventory.models import Location
from oms.actors import actor_from_request
from oms.errors import Conflict, DomainError, IllegalTransition, InsufficientStock, NotFound, StaleVersion
from oms.models import Role
from oms.permissions import page_access, page_roles, register_nav, role_of
from oms.views import register_home_tile
from orders import invoicing, selectors, services, tenant_settings
from orders.forms import (
    PAYMENT_STATUS_LABELS,
    AddressForm,
    CancelForm,
    HoldForm,
    OrderSearchForm,
    OrderSettingsForm,
    PhoneOrderForm,
    PhoneOrderLineFormSet,
    PickupForm,
    ReleaseForm,
)
from orders.models import DeliveryMethod, EventKind, OrderStatus

PAGE_ROLES = page_roles("orders")
ACTION_ROLES = page_roles("orders", write=True)

register_nav(_("Orders"), "orders-list", PAGE_ROLES, order=30)


def _held_orders_tile(request):
    if role_of(request) not in PAGE_ROLES:
        return None
    held = selectors.orders_for(scope=request.oms_scope).filter(status=OrderStatus.ON_HOLD).count()
    return {"title": _("Orders on hold"), "value": held, "url": reverse("orders-list") + "?status=on_hold"}


register_home_tile(_held_orders_tile)


_LINE_PATH = re.compile(r"^lines\[(\d+)\](?:\.(\w+))?$")
# How the fields a service names read on a page.
_FIELD_LABELS = {
    "channel": _("Channel"),
    "currency": _("Currency"),
    "external_ref": _("Reference"),
    "customer.email": _("Customer e-mail"),
    "delivery.method": _("Delivery"),
    "delivery.address": _("Address"),
    "delivery.pickup_location": _("Pickup store"),
    "delivery.location": _("Store"),
    "lines": _("Lines"),
    "kind": _("Kind"),
    "If-Match": _("Version"),
    "non_field_errors": "",
}
# How the kinds of timeline events read on a page.
_EVENT_LABELS = dict(EventKind.choices)
# The figures a conflict gives per line (insufficient stock, too many units to cancel or ship...).
_LINE_FIGURES = {
    "requested": _("requested"),
    "available": _("available"),
    "allocated": _("allocated"),
    "cancellable": _("cancellable"),
    "undelivered": _("not delivered yet"),
    "returnable": _("returnable"),
}


def _field_label(path: str) -> str:
    match = _LINE_PATH.match(path)
    if match:
        return gettext("Line %(number)s") % {"number": int(match[1]) + 1}
    return str(_FIELD_LABELS.get(path, path))


def _status_label(state) -> str:
    """The order status a timeline snapshot records, by its label; an unknown value as it is."""
    return _status_name(state.get("status", "") if isinstance(state, dict) else "")


def _status_name(value: str) -> str:
    return str(OrderStatus(value).label) if value in OrderStatus.values else str(value or "")


def _line_figures(entry: dict) -> str:
    figures = ", ".join(f"{label} {entry[key]}" for key, label in _LINE_FIGURES.items() if key in entry)
    return f"{entry.get('sku', '')}: {figures}" if figures else str(entry.get("sku", ""))


def _refusal(exc: DomainError) -> str:
    """The refusal's first sentence in the user's language where its kind is known (the services' own details
    are written for API clients, in English)."""
    if isinstance(exc, StaleVersion):
        return gettext("Someone changed this order in the meantime: reload the page and try again.")
    if isinstance(exc, IllegalTransition) and exc.extra.get("current"):
        return gettext("Not possible while the order is %(status)s.") % {
            "status": _status_name(exc.extra["current"]).lower()
        }
    if isinstance(exc, InsufficientStock):
        return gettext("Some lines are short of stock.")
    return str(exc.detail)


def _describe(exc: DomainError) -> str:
    """A refusal in the user's words: the fields by their labels (never an API path such as lines[0].sku)."""
    parts = [_refusal(exc)]
    for field, problems in (exc.extra.get("errors") or {}).items():
        label, text = _field_label(field), " ".join(str(p) for p in problems)
        parts.append(f"{label}: {text}" if label else text)
    for entry in exc.extra.get("lines") or []:
        parts.append(_line_figures(entry))
    return " — ".join(parts)


# Where each field an order error names sits on the phone-order form.
_PHONE_FIELDS = {
    "channel": "channel",
    "customer.email": "email",
    "customer.name": "customer_name",
    "customer.phone": "phone",
    "delivery.method": "method",
    "delivery.address": "line1",
    "delivery.address.line1": "line1",
    "delivery.address.postal_code": "postal_code",
    "delivery.address.city": "city",
    "delivery.address.country": "country",
    "delivery.pickup_location": "pickup_location",
    "delivery.service_level": "service_level",
    "currency": "currency",
    "payment_status": "payment_status",
    "external_ref": "external_ref",
}


def _show_on_phone_form(exc: DomainError, form, lines, items) -> None:
    """Put a refused phone order's problems next to the fields they are about. `items` are the typed lines
    as (position in the formset, cleaned data), in the order the service numbered them."""
    errors = exc.extra.get("errors") or {}
    for path, problems in errors.items():
        match = _LINE_PATH.match(path)
        for problem in problems:
            if match and int(match[1]) < len(items):
                line_form = lines.forms[items[int(match[1])][0]]
                line_form.add_error(match[2] if match[2] in line_form.fields else None, problem)
            elif path in _PHONE_FIELDS:
                form.add_error(_PHONE_FIELDS[path], problem)
            else:
                label = _field_label(path)
                form.add_error(None, f"{label}: {problem}" if label else problem)
    if isinstance(exc, InsufficientStock):
        short = {entry.get("sku"): entry for entry in exc.extra.get("lines") or []}
        for position, item in items:
            entry = short.get(item["sku"].strip())
            if entry is not None:
                lines.forms[position].add_error(
                    "quantity",
                    gettext("Not enough stock: %(requested)s requested, %(available)s available.")
                    % {"requested": entry.get("requested"), "available": entry.get("available")},
                )
        form.add_error(None, gettext("Some lines are short of stock."))
    elif not errors:
        form.add_error(None, str(exc.detail))


def _order_or_404(request, pk):
    try:
        return selectors.order_detail(scope=request.oms_scope, order_id=pk)
    except NotFound:
        raise Http404 from None


def _require_order(request, pk) -> None:
    """Another tenant's (or an unknown) order is a 404 before the form is read."""
    try:
        selectors.require_order(scope=request.oms_scope, order_id=pk)
    except NotFound:
        raise Http404 from None


def _stores(tenant):
    return Location.objects.for_tenant(tenant).filter(active=True, pickup=True).order_by("code")


@page_access("orders")
def order_list(request):
    channels = Channel.objects.for_tenant(request.tenant).order_by("code")
    form = OrderSearchForm(request.GET or None, channels=channels)
    orders = selectors.order_list(scope=request.oms_scope)
    if form.is_valid():
        orders = selectors.order_list(scope=request.oms_scope, search=form.cleaned_data["q"])
        if form.cleaned_data["status"]:
            orders = orders.filter(status=form.cleaned_data["status"])
        if form.cleaned_data["channel"]:
            orders = orders.filter(channel__code=form.cleaned_data["channel"])
    page = Paginator(orders, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "orders/list.html",
        {
            "form": form,
            "page": page,
            "can_act": role_of(request) in ACTION_ROLES,
            "is_admin": role_of(request) == Role.ADMIN,
        },
    )


@page_access("orders")
def order_detail(request, pk: int):
    order = _order_or_404(request, pk)
    for event in order.timeline_list:
        event.label = _EVENT_LABELS.get(event.kind, event.kind)
        event.status_before, event.status_after = _status_label(event.before), _status_label(event.after)
    context = {
        "order": order,
        "can_act": role_of(request) in ACTION_ROLES,
        "statuses": OrderStatus,
        "payment_label": PAYMENT_STATUS_LABELS.get(order.payment_status, order.payment_status),
    }
    if role_of(request) in page_roles("audit"):
        query = urlencode({"object_type": order._meta.label_lower, "object_id": order.id})
        context["audit_url"] = f"{reverse('audit-log')}?{query}"
    if context["can_act"]:
        address = order.shipping_address or {}
        context.update(
            cancel_form=CancelForm(lines=order.lines_list),
            hold_form=HoldForm(),
            release_form=ReleaseForm(),
            address_form=AddressForm(
                initial={"version": order.version, **{k: address.get(k, "") for k in AddressForm.ADDRESS_FIELDS}}
            ),
            pickup_form=PickupForm(
                initial={"version": order.version, "pickup_location": getattr(order.pickup_location, "code", "")},
                stores=_stores(request.tenant),
            ),
            shipped=any(line.quantity_shipped for line in order.lines_list),
        )
    return render(request, "orders/detail.html", context)


def _act(request, pk, run, done_message):
    try:
        run()
        messages.success(request, done_message)
    except NotFound:
        raise Http404 from None
    except DomainError as exc:
        messages.error(request, _describe(exc))
    return redirect("order-detail", pk=pk)


def _invalid(request, pk, form):
    messages.error(
        request,
        " ".join(
            f"{form.fields[name].label if name in form.fields else name}: {' '.join(errs)}"
            for name, errs in form.errors.items()
        ),
    )
    return redirect("order-detail", pk=pk)


@require_POST
@page_access("orders", write=True)
def order_cancel(request, pk: int):
    order = _order_or_404(request, pk)
    form = CancelForm(request.POST, lines=order.lines_list)
    if not form.is_valid():
        return _invalid(request, pk, form)
    chosen = form.line_quantities()
    lines = [services.LineQuantity(line_id, quantity) for line_id, quantity in chosen] if chosen else None
    return _act(
        request,
        pk,
        lambda: services.cancel_order(
            scope=request.oms_scope, order_id=pk, reason=form.cleaned_data["reason"], lines=lines
        ),
        _("The lines were cancelled.") if lines else _("The order was cancelled."),
    )


@require_POST
@page_access("orders", write=True)
def order_hold(request, pk: int):
    _require_order(request, pk)
    form = HoldForm(request.POST)
    if not form.is_valid():
        return _invalid(request, pk, form)
    return _act(
        request,
        pk,
        lambda: services.hold_order(
            scope=request.oms_scope, order_id=pk, kind=form.cleaned_data["kind"], reason=form.cleaned_data["reason"]
        ),
        _("The order is on hold."),
    )


@require_POST
@page_access("orders", write=True)
def order_release(request, pk: int):
    _require_order(request, pk)
    form = ReleaseForm(request.POST)
    if not form.is_valid():
        return _invalid(request, pk, form)
    return _act(
        request,
        pk,
        lambda: services.release_hold(scope=request.oms_scope, order_id=pk, note=form.cleaned_data["note"]),
        _("The hold was released."),
    )


@require_POST
@page_access("orders", write=True)
def order_address(request, pk: int):
    _require_order(request, pk)
    form = AddressForm(request.POST)
    if not form.is_valid():
        return _invalid(request, pk, form)
    return _act(
        request,
        pk,
        lambda: services.edit_order(
            scope=request.oms_scope,
            order_id=pk,
            expected_version=form.cleaned_data["version"],
            address=form.address(),
            reason=gettext("Address changed from the order page."),
        ),
        _("The address was changed."),
    )


@require_POST
@page_access("orders", write=True)
def order_pickup(request, pk: int):
    _require_order(request, pk)
    form = PickupForm(request.POST, stores=_stores(request.tenant))
    if not form.is_valid():
        return _invalid(request, pk, form)
    return _act(
        request,
        pk,
        lambda: services.edit_order(
            scope=request.oms_scope,
            order_id=pk,
            expected_version=form.cleaned_data["version"],
            pickup_location=form.cleaned_data["pickup_location"],
            reason=gettext("Pickup store changed from the order page."),
        ),
        _("The pickup store was changed."),
    )


@page_access("orders", write=True)
def order_new(request):
    """A phone order: the back office types what the customer dictates."""
    channels = (
        Channel.objects.for_tenant(request.tenant).filter(active=True).exclude(kind=ChannelKind.STORE).order_by("code")
    )
    stores = _stores(request.tenant)
    generated = f"PHONE-{uuid.uuid4().hex[:12].upper()}"
    posted = request.POST.copy() if request.POST else None
    if posted is not None and not posted.get("external_ref", "").strip():
        posted["external_ref"] = generated  # kept when the form shows again: its next submit is the same order
    form = PhoneOrderForm(
        posted,
        channels=channels,
        stores=stores,
        initial={"currency": request.tenant.default_currency, "external_ref": generated},
    )
    lines = PhoneOrderLineFormSet(request.POST or None, prefix="lines")
    if request.method == "POST" and form.is_valid() and lines.is_valid():
        items = [(position, line) for position, line in enumerate(lines.cleaned_data) if line.get("sku")]
        if not items:
            messages.error(request, _("Add at least one line."))
        else:
            data = form.cleaned_data
            channel = channels.get(code=data["channel"])
            try:
                order = services.place_order(
                    tenant=request.tenant,
                    actor=actor_from_request(request),
                    data=_phone_order(data, [line for _p, line in items], channel),
                )
                messages.success(request, _("Order %(number)s was placed.") % {"number": order.number})
                return redirect("order-detail", pk=order.id)
            except DomainError as exc:
                if isinstance(exc, Conflict) and exc.extra.get("order_id"):
                    # the same form submitted twice: show the order it created
                    return redirect("order-detail", pk=exc.extra["order_id"])
                _show_on_phone_form(exc, form, lines, items)
                messages.error(request, _("The order was not placed: see the highlighted fields."))
    return render(request, "orders/new.html", {"form": form, "lines": lines})


def _phone_order(data, items, channel) -> services.OrderInput:
    method = data["method"]
    address = (
        {
            "name": data["customer_name"],
            "line1": data["line1"],
            "postal_code": data["postal_code"],
            "city": data["city"],
            "country": data["country"],
        }
        if method == DeliveryMethod.SHIP
        else {}
    )
    return services.OrderInput(
        channel=channel,
        external_ref=data["external_ref"],
        currency=data["currency"],
        customer={"email": data["email"], "name": data["customer_name"], "phone": data["phone"]},
        delivery_method=method,
        address={k: v for k, v in address.items() if v},
        location_code=data.get("pickup_location") or "",
        service_level=data.get("service_level") or "",
        payment_status=data.get("payment_status") or "",
        metadata={"entered_by": "phone"},
        lines=[
            services.LineInput(
                sku=item["sku"].strip(),
                quantity=item["quantity"],
                unit_price=item["unit_price"],
                tax=item.get("tax") or services.ZERO,
            )
            for item in items
        ],
    )


@page_access("customers")
def customer_detail(request, pk: int):
    try:
        customer = selectors.customer_detail(scope=request.oms_scope, customer_id=pk)
    except NotFound:
        raise Http404 from None
    orders = selectors.customer_orders(scope=request.oms_scope, customer=customer)
    page = Paginator(orders, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "orders/customer.html",
        {
            "customer": customer,
            "page": page,
            "can_export": role_of(request) in page_roles("customer_privacy"),
            "can_erase": role_of(request) in page_roles("customer_privacy", write=True),
        },
    )


def _invoice_or_404(request, pk):
    try:
        return invoicing.get_invoice(tenant=request.tenant, invoice_id=pk)
    except NotFound:
        raise Http404 from None


@page_access("invoices")
def invoice_html(request, pk: int):
    return HttpResponse(invoicing.render_html(_invoice_or_404(request, pk), request=request))


@page_access("invoices")
def invoice_pdf(request, pk: int):
    invoice = _invoice_or_404(request, pk)
    response = HttpResponse(invoicing.render_pdf(invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{invoice.number}.pdf"'
    return response


@page_access("order_settings", write=True)
def order_settings(request):
    """The tenant's order numbering, hold rules, invoicing and seller identity, kept by its admins."""
    current = tenant_settings.order_settings(request.tenant)
    form = OrderSettingsForm(request.POST or None, initial=OrderSettingsForm.initial_from(current))
    if request.method == "POST" and form.is_valid():
        tenant_settings.update_order_settings(
            tenant=request.tenant, actor=actor_from_request(request), values=form.settings_values(current)
        )
        messages.success(request, gettext("The order settings were saved."))
        return redirect("order-settings")
    return render(request, "orders/settings.html", {"form": form})
