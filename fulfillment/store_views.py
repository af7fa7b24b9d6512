"""The store screens, for clerks on a tablet: a store's queue (live), picking by scan, packing with the packing slip
and the label, handing to the carrier, rejecting, and a walk-in sale at the till. The same services as the API and
the back-office pages do the work; a refused step is shown on the page.

Who sees what comes from the role matrix (oms.access) and the caller's scope: a clerk opens only their assigned
stores (another store, or another tenant's, is a 404), readers (manager, viewer) see the screens without their
buttons, the office opens any store. The store chosen last is kept in the session."""

import uuid
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from channels.models import Channel, ChannelKind
from fulfillment import carriers, selectors, store
from fulfillment.forms import HandOverForm, PackForm, RejectForm, ShipForm
from fulfillment.services import execution, picking, pickup
from inventory.models import Product
from oms.actors import actor_from_request
from oms.errors import Conflict, DomainError, InsufficientStock, NotFound, ValidationFailed
from oms.permissions import page_access, page_roles, register_nav
from orders import services as order_services
from orders.models import DeliveryMethod

WORKERS = page_roles("fulfillments", write=True)
SELLERS = page_roles("store_sales", write=True)
READERS = page_roles("fulfillments")
UNLOCKERS = page_roles("pickup_unlock", write=True)
BASKET_KEY = "store_screen_basket"

register_nav(_("Store"), "store-home", READERS, order=34)


# --- which store ------------------------------------------------------------------------------------------


def _store_or_404(request, code: str):
    try:
        chosen = store.store_for(scope=request.oms_scope, code=code)
    except NotFound:
        raise Http404 from None
    if request.session.get(store.SESSION_KEY) != chosen.code:  # the queue polls: write the session on a change only
        request.session[store.SESSION_KEY] = chosen.code
    return chosen


def _fulfillment_or_404(request, pk: int):
    try:
        return selectors.fulfillment_detail(scope=request.oms_scope, fulfillment_id=pk)
    except NotFound:
        raise Http404 from None


def _context(request, current, **extra) -> dict:
    scope = request.oms_scope
    return {
        "store": current,
        "stores": store.stores_for(scope=scope),
        "can_work": scope.has_role(*WORKERS),
        "can_sell": scope.has_role(*SELLERS),
        **extra,
    }


@page_access("fulfillments")
def store_home(request):
    """The store switcher's target: the store named (`?store=`), else the one chosen last, else the first."""
    stores = store.stores_for(scope=request.oms_scope)
    asked = request.GET.get("store", "").strip()
    if asked:
        return redirect("store-queue", code=_store_or_404(request, asked).code)
    remembered = request.session.get(store.SESSION_KEY)
    for candidate in stores:
        if candidate.code == remembered:
            return redirect("store-queue", code=candidate.code)
    if stores:
        return redirect("store-queue", code=stores[0].code)
    return render(request, "store/no_store.html", _context(request, None))


@page_access("fulfillments")
def store_queue(request, code: str):
    """The store's queue, a column per step with its count; htmx asks for the columns again every few seconds."""
    current = _store_or_404(request, code)
    context = _context(
        request, current, columns=store.queue(scope=request.oms_scope, store=current, now=timezone.now())
    )
    if request.headers.get("HX-Request"):
        return render(request, "store/_queue.html", context)
    return render(request, "store/queue.html", context)


# --- working a fulfilment order -----------------------------------------------------------------------------


def _refused(exc: DomainError) -> str:
    if isinstance(exc, ValidationFailed):
        problems = exc.extra.get("errors") or {}
        return " ".join(str(message) for errors in problems.values() for message in errors) or exc.detail
    return exc.detail


def _back_to_queue(fulfillment):
    return redirect("store-queue", code=fulfillment.location.code)


@require_POST
@page_access("fulfillments", write=True)
def store_accept(request, pk: int):
    fulfillment = _fulfillment_or_404(request, pk)
    try:
        execution.accept(scope=request.oms_scope, fulfillment_id=pk)
    except DomainError as exc:
        messages.error(request, _refused(exc))
        return _back_to_queue(fulfillment)
    messages.success(request, gettext("Order %(number)s accepted.") % {"number": fulfillment.order.number})
    return redirect("store-pick", pk=pk)


def _pick_context(request, fulfillment, **extra) -> dict:
    lines = store.pick_lines(fulfillment)
    return _context(
        request,
        fulfillment.location,
        fulfillment=fulfillment,
        order=fulfillment.order,
        lines=lines,
        complete=bool(lines) and all(line.complete for line in lines),
        **extra,
    )


@page_access("fulfillments")
def store_pick(request, pk: int):
    """The lines to pick with where each product sits, a scan field, and each line's progress."""
    fulfillment = _fulfillment_or_404(request, pk)
    return render(request, "store/pick.html", _pick_context(request, fulfillment))


@require_POST
@page_access("fulfillments", write=True)
def store_scan(request, pk: int):
    """One scan (a scanner's keystrokes and Enter, or a SKU typed): confirms one unit or says what is wrong. The
    scan script asks for the lines' panel alone; without scripts the page is shown again."""
    fulfillment = _fulfillment_or_404(request, pk)
    notice, error = "", ""
    try:
        scanned = picking.scan(scope=request.oms_scope, fulfillment_id=pk, code=request.POST.get("code", ""))
    except DomainError as exc:
        error = _refused(exc)
    else:
        notice = gettext("%(sku)s: %(picked)s of %(needed)s.") % {
            "sku": scanned.sku,
            "picked": scanned.picked,
            "needed": scanned.needed,
        }
        if scanned.complete:
            notice += " " + gettext("Every unit is picked: pack it.")
    fulfillment = _fulfillment_or_404(request, pk)
    if request.headers.get("HX-Request"):
        context = _pick_context(request, fulfillment, notice=notice, error=error)
        return render(request, "store/_pick_lines.html", context)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, notice)
    return redirect("store-pick", pk=pk)


def _require_worker(request):
    if not request.oms_scope.has_role(*WORKERS):
        raise PermissionDenied


@page_access("fulfillments")
def store_pack(request, pk: int):
    """Parcels and their weights, the carrier for the label; then the packing slip and the label to print."""
    fulfillment = _fulfillment_or_404(request, pk)
    form = PackForm(
        request.POST or None,
        initial={
            "carrier": fulfillment.carrier,
            "service": fulfillment.carrier_service or fulfillment.order.service_level,
        },
    )
    if request.method == "POST":
        _require_worker(request)
        if form.is_valid():
            try:
                picking.pack_picked(
                    scope=request.oms_scope,
                    fulfillment_id=pk,
                    parcels=form.cleaned_data["parcels"],
                    carrier=form.cleaned_data["carrier"],
                    service=form.cleaned_data["service"],
                )
            except DomainError as exc:
                form.add_error(None, _refused(exc))
            else:
                messages.success(request, gettext("Packed: print the packing slip and the label."))
                return redirect("store-pack", pk=pk)
    fulfillment = _fulfillment_or_404(request, pk)
    lines = store.pick_lines(fulfillment)
    context = _context(
        request,
        fulfillment.location,
        fulfillment=fulfillment,
        order=fulfillment.order,
        form=form,
        lines=lines,
        complete=bool(lines) and all(line.complete for line in lines),
        carrier_name=carriers.carrier_name(request.tenant, fulfillment.carrier) if fulfillment.carrier else "",
    )
    return render(request, "store/pack.html", context, status=400 if form.errors else 200)


@page_access("fulfillments")
def store_label(request, pk: int):
    """The label data to print: carrier and service, ship-to address, parcels with their weights, the order
    number and a QR code a scanner reads back."""
    fulfillment = _fulfillment_or_404(request, pk)
    code = store.label_code(fulfillment)
    parcels = fulfillment.parcels or []
    return render(
        request,
        "store/label.html",
        {
            "fulfillment": fulfillment,
            "order": fulfillment.order,
            "carrier_name": carriers.carrier_name(request.tenant, fulfillment.carrier) if fulfillment.carrier else "",
            "parcels": parcels,
            "parcel_count": len(parcels),
            "code": code,
            "qr": mark_safe(store.qr_svg(code)),  # drawn by segno from our own order number: no outside markup
        },
    )


@page_access("fulfillments")
def store_ship(request, pk: int):
    """Hand the parcels to the carrier: carrier, service, tracking numbers."""
    fulfillment = _fulfillment_or_404(request, pk)
    form = ShipForm(
        request.POST or None,
        carriers=_carrier_choices(request.tenant),
        initial={"carrier": fulfillment.carrier, "service": fulfillment.carrier_service},
    )
    if request.method == "POST":
        _require_worker(request)
        if form.is_valid():
            try:
                execution.ship(
                    scope=request.oms_scope,
                    fulfillment_id=pk,
                    carrier=form.cleaned_data["carrier"],
                    service=form.cleaned_data["service"],
                    tracking_numbers=form.cleaned_data["tracking_numbers"],
                )
            except DomainError as exc:
                form.add_error(None, _refused(exc))
            else:
                messages.success(
                    request, gettext("Order %(number)s handed to the carrier.") % {"number": fulfillment.order.number}
                )
                return _back_to_queue(fulfillment)
    context = _context(request, fulfillment.location, fulfillment=fulfillment, order=fulfillment.order, form=form)
    return render(request, "store/ship.html", context, status=400 if form.errors else 200)


def _carrier_choices(tenant) -> list[tuple[str, str]]:
    codes = set(carriers.BUILT_IN) | set((tenant.settings or {}).get("carriers") or {})
    return sorted(((code, carriers.carrier_name(tenant, code)) for code in codes), key=lambda item: item[1].lower())


REJECT_LABELS = {
    "out_of_stock": _("Out of stock"),
    "damaged": _("Damaged"),
    "no_capacity": _("No capacity today"),
}


@page_access("fulfillments")
def store_reject(request, pk: int):
    """Give the order back, with the reason: it is routed again at once."""
    fulfillment = _fulfillment_or_404(request, pk)
    form = RejectForm(request.POST or None, reasons=[(code, REJECT_LABELS[code]) for code in execution.REJECT_REASONS])
    if request.method == "POST":
        _require_worker(request)
        if form.is_valid():
            try:
                execution.reject(scope=request.oms_scope, fulfillment_id=pk, reason=form.cleaned_data["reason"])
            except DomainError as exc:
                form.add_error(None, _refused(exc))
            else:
                messages.success(
                    request,
                    gettext("Order %(number)s rejected: it is routed again.") % {"number": fulfillment.order.number},
                )
                return _back_to_queue(fulfillment)
    context = _context(request, fulfillment.location, fulfillment=fulfillment, order=fulfillment.order, form=form)
    return render(request, "store/reject.html", context, status=400 if form.errors else 200)


# --- click & collect: ready, hand-over ------------------------------------------------------------------------


@require_POST
@page_access("fulfillments", write=True)
def store_ready(request, pk: int):
    """The packed pickup order is put out at the counter: the customer is sent a pickup code (never shown here)."""
    fulfillment = _fulfillment_or_404(request, pk)
    try:
        pickup.mark_ready(scope=request.oms_scope, fulfillment_id=pk)
    except DomainError as exc:
        messages.error(request, _refused(exc))
    else:
        messages.success(
            request,
            gettext("Order %(number)s is ready for pickup: the customer receives a pickup code.")
            % {"number": fulfillment.order.number},
        )
    return _back_to_queue(fulfillment)


@page_access("fulfillments")
def store_handover(request, code: str):
    """The counter: the store's pickups waiting, found by order number, the customer's name or e-mail, or the
    pickup code the customer shows."""
    current = _store_or_404(request, code)
    query = request.GET.get("q", "")
    found = store.ready_pickups(scope=request.oms_scope, store=current, query=query)
    context = _context(request, current, query=query, found=found, now=timezone.now())
    return render(request, "store/handover.html", context)


@page_access("fulfillments")
def store_collect(request, pk: int):
    """Hand a ready pickup over: the customer's pickup code, or the clerk's identity check (the order's number and
    the customer's name as the customer says them, recorded as such); some units only if the customer leaves the
    rest, which goes back on sale. A wrong code counts; the fifth locks the hand-over until a manager unlocks it."""
    fulfillment = _fulfillment_or_404(request, pk)
    lines = list(fulfillment.lines.select_related("order_line__product").order_by("id"))
    form = HandOverForm(request.POST or None, lines=lines, prefill=request.GET.get("code", ""))
    if request.method == "POST":
        _require_worker(request)
        if form.is_valid():
            try:
                pickup.collect(
                    scope=request.oms_scope,
                    fulfillment_id=pk,
                    pickup_code=form.code_shown(),
                    identity_check=form.identity(),
                    lines=form.units(),
                )
            except (pickup.WrongPickupCode, pickup.PickupLocked) as exc:
                # Answered here, not raised: the attempt the service counted stays counted.
                form.add_error(None, _wrong_attempt(exc))
            except DomainError as exc:
                form.add_error(None, _refused(exc))
            else:
                messages.success(request, gettext("Order %(number)s collected.") % {"number": fulfillment.order.number})
                return redirect("store-handover", code=fulfillment.location.code)
        fulfillment = _fulfillment_or_404(request, pk)
    context = _context(
        request,
        fulfillment.location,
        fulfillment=fulfillment,
        order=fulfillment.order,
        form=form,
        attempts_left=max(pickup.MAX_ATTEMPTS - fulfillment.pickup_attempts, 0),
        locked=fulfillment.pickup_locked_at is not None,
        can_unlock=request.oms_scope.has_role(*UNLOCKERS),
        now=timezone.now(),
    )
    return render(request, "store/collect.html", context, status=400 if form.errors else 200)


def _wrong_attempt(exc) -> str:
    if isinstance(exc, pickup.PickupLocked):
        return gettext("Too many wrong attempts: the hand-over is locked until a manager unlocks it.")
    left = exc.extra.get("attempts_left", 0)
    return ngettext(
        "That does not match: %(left)s attempt left before the hand-over locks.",
        "That does not match: %(left)s attempts left before the hand-over locks.",
        left,
    ) % {"left": left}


@require_POST
@page_access("pickup_unlock", write=True)
def store_unlock(request, pk: int):
    """A manager lets the hand-over be tried again after too many wrong codes."""
    _fulfillment_or_404(request, pk)
    try:
        pickup.unlock(scope=request.oms_scope, fulfillment_id=pk)
    except DomainError as exc:
        messages.error(request, _refused(exc))
    else:
        messages.success(request, gettext("The hand-over can be tried again."))
    return redirect("store-collect", pk=pk)


# --- walk-in sale ---------------------------------------------------------------------------------------------


def _sale_channels(tenant, current) -> list:
    """The store channels that sell from this store (the intake refuses the others)."""
    return list(
        Channel.objects.for_tenant(tenant)
        .filter(kind=ChannelKind.STORE, active=True, pool__location=current)
        .distinct()
        .order_by("code")
    )


def _find_product(tenant, code: str):
    products = Product.objects.for_tenant(tenant).filter(active=True)
    return products.filter(barcode=code).first() or products.filter(sku=code).first()


def _basket(request, current) -> dict:
    """The sale being rung up at this store: {"ref": ..., "lines": {sku: quantity}}, kept in the session."""
    baskets = request.session.get(BASKET_KEY) or {}
    basket = baskets.get(current.code) or {"ref": f"STORE-{uuid.uuid4().hex[:12].upper()}", "lines": {}}
    return basket


def _keep(request, current, basket) -> None:
    baskets = request.session.get(BASKET_KEY) or {}
    if basket is None:
        baskets.pop(current.code, None)
    else:
        baskets[current.code] = basket
    request.session[BASKET_KEY] = baskets


def _basket_rows(tenant, basket) -> tuple[list[dict], Decimal]:
    products = {p.sku: p for p in Product.objects.for_tenant(tenant).filter(sku__in=list(basket["lines"]))}
    rows, total = [], Decimal("0")
    for sku, quantity in basket["lines"].items():
        product = products.get(sku)
        price = product.shelf_price if product is not None else None
        amount = (price or Decimal("0")) * quantity
        total += amount
        rows.append({"sku": sku, "product": product, "quantity": quantity, "price": price, "amount": amount})
    return rows, total


@page_access("store_sales", write=True)
def store_sale(request, code: str):
    """A walk-in sale: scan or type each item (a quantity may be given), check the basket at the catalogue's
    prices, confirm; the units leave the store's stock at once (the store-sale intake)."""
    current = _store_or_404(request, code)
    channels = _sale_channels(request.tenant, current)
    basket = _basket(request, current)
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "add":
            _add_to_basket(request, basket)
        elif action == "remove":
            basket["lines"].pop(request.POST.get("sku", ""), None)
        elif action == "clear":
            basket = None
        elif action == "confirm":
            number = _confirm_sale(request, current, channels, basket)
            if number:
                messages.success(request, gettext("Sale %(number)s recorded.") % {"number": number})
                basket = None
        _keep(request, current, basket)
        return redirect("store-sale", code=current.code)
    rows, total = _basket_rows(request.tenant, basket)
    context = _context(
        request, current, rows=rows, total=total, channels=channels, currency=request.tenant.default_currency
    )
    return render(request, "store/sale.html", context)


def _add_to_basket(request, basket) -> None:
    code = request.POST.get("code", "").strip()[:64]
    raw_quantity = request.POST.get("quantity", "").strip() or "1"
    quantity = int(raw_quantity) if raw_quantity.isdigit() else 0
    if not 1 <= quantity <= 999:
        messages.error(request, gettext("A quantity from 1 to 999."))
        return
    product = _find_product(request.tenant, code) if code else None
    if product is None:
        messages.error(request, gettext("No product with barcode or SKU %(code)s.") % {"code": code or "—"})
        return
    if product.shelf_price is None:
        messages.error(request, gettext("%(sku)s has no price in the catalogue.") % {"sku": product.sku})
        return
    lines = basket["lines"]
    if lines.get(product.sku, 0) + quantity > 999:
        messages.error(request, gettext("A quantity from 1 to 999."))
        return
    lines[product.sku] = lines.get(product.sku, 0) + quantity


def _confirm_sale(request, current, channels, basket) -> str | None:
    """The number of the order recorded for the basket (also when it was recorded by an earlier confirm of the
    same basket); None, with the reason shown, when the sale is refused."""
    if not basket["lines"]:
        messages.error(request, gettext("The basket is empty."))
        return None
    chosen = next((c for c in channels if c.code == request.POST.get("channel", "")), channels[0] if channels else None)
    if chosen is None:
        messages.error(request, gettext("No store channel sells from %(store)s.") % {"store": current.code})
        return None
    rows, _total = _basket_rows(request.tenant, basket)
    if any(row["price"] is None for row in rows):
        messages.error(request, gettext("An item of the basket has no price in the catalogue any more."))
        return None
    data = order_services.OrderInput(
        channel=chosen,
        external_ref=basket["ref"],
        currency=request.tenant.default_currency,
        delivery_method=DeliveryMethod.IN_STORE,
        location_code=current.code,
        payment_status="paid",
        metadata={"entered_by": "store screen"},
        lines=[
            order_services.LineInput(sku=row["sku"], quantity=row["quantity"], unit_price=row["price"]) for row in rows
        ],
    )
    try:
        return order_services.place_order(tenant=request.tenant, actor=actor_from_request(request), data=data).number
    except InsufficientStock as exc:
        short = ", ".join(
            gettext("%(sku)s: %(available)s left") % {"sku": line["sku"], "available": line["available"]}
            for line in exc.extra.get("lines", [])
        )
        messages.error(request, gettext("Not enough stock in the store: %(lines)s.") % {"lines": short})
    except Conflict as exc:
        if exc.extra.get("order_id"):  # the same basket confirmed twice: the sale is already recorded
            return exc.extra.get("number")
        messages.error(request, _refused(exc))
    except DomainError as exc:
        messages.error(request, _refused(exc))
    return None
