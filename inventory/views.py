"""Stock pages: search, movement history, adjustments, transfers, cycle counts, CSV import, low-stock alerts.

Every role may search stock and read movements; store clerks see only their own store locations.
Adjustments, transfers, imports and alert rules are for admin and back-office staff; store clerks may count
their own stores.
"""

from django.contrib import messages
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from inventory import alerts, counts, sync, transfers
from inventory.forms import AdjustmentForm, AlertRuleForm, CountLotForm, CountStartForm, ImportForm, TransferForm
from inventory.models import Location, Product, StockAlertRule, StockImportJob, StockLevel, StockMovement, Transfer
from inventory.tasks import enqueue_import
from oms.actors import actor_from_request
from oms.api.scope import scope_of
from oms.digits import whole_number
from oms.errors import DomainError, NotFound
from oms.permissions import page_access, page_roles, register_nav, role_of
from oms.views import register_home_tile

register_nav(_("Inventory"), "inventory:search", page_roles("stock"), order=200)


def _low_stock_tile(request):
    if role_of(request) not in page_roles("stock_alerts", write=True):
        return None
    low = StockAlertRule.objects.for_tenant(request.tenant).filter(is_low=True).count()
    return {"title": gettext("Low-stock alerts"), "value": low, "url": reverse("inventory:alerts")}


register_home_tile(_low_stock_tile)


def _render(request, template, context=None, status=200):
    role = role_of(request)
    context = {
        "can_manage": role in page_roles("stock_changes", write=True),
        "can_count": role in page_roles("counts", write=True),
        **(context or {}),
    }
    return render(request, template, context, status=status)


def _param(request, name: str) -> str:
    """A query parameter; a NUL (which PostgreSQL text cannot hold) becomes U+FFFD and so matches nothing."""
    return request.GET.get(name, "").replace("\x00", "\ufffd").strip()


def _error_text(exc: DomainError) -> str:
    errors = exc.extra.get("errors") or {}
    texts = [str(m) for field_messages in errors.values() for m in field_messages]
    return " ".join(texts) or exc.detail


# --- search and history -------------------------------------------------------------------------------------


@page_access("stock")
def search(request):
    tenant, scope = request.tenant, request.oms_scope.assigned_stores
    query = _param(request, "q")
    products = Product.objects.for_tenant(tenant)
    if query:
        products = products.filter(Q(sku__icontains=query) | Q(name__icontains=query) | Q(barcode=query))
    page = Paginator(products.order_by("sku"), 20).get_page(request.GET.get("page"))
    levels = (
        StockLevel.objects.for_tenant(tenant)
        .filter(product__in=list(page.object_list))
        .select_related("location")
        .order_by("location__code")
    )
    if scope is not None:
        levels = levels.filter(location__in=scope)
    in_transit = transfers.in_transit_to(tenant=tenant, product_ids=[p.id for p in page.object_list])
    rows = {p.id: {"product": p, "levels": [], "on_hand": 0, "reserved": 0, "available": 0} for p in page.object_list}
    for level in levels:
        row = rows[level.product_id]
        level.in_transit = in_transit.get((level.product_id, level.location_id), 0)
        row["levels"].append(level)
        row["on_hand"] += level.on_hand
        row["reserved"] += level.reserved
        row["available"] += level.available
    return _render(request, "inventory/search.html", {"page": page, "rows": list(rows.values()), "query": query})


@page_access("stock")
def movements(request):
    tenant, scope = request.tenant, request.oms_scope.assigned_stores
    sku, code = _param(request, "sku"), _param(request, "location")
    product = Product.objects.for_tenant(tenant).filter(sku=sku).first()
    if product is None:
        raise Http404
    history = (
        StockMovement.objects.for_tenant(tenant)
        .filter(stock_level__product=product)
        .select_related("stock_level__location", "lot")
        .order_by("-occurred_at", "-id")
    )
    location = None
    if code:
        location = Location.objects.for_tenant(tenant).filter(code=code).first()
        if location is None or (scope is not None and location not in scope):
            raise Http404
        history = history.filter(stock_level__location=location)
    elif scope is not None:
        history = history.filter(stock_level__location__in=scope)
    levels = StockLevel.objects.for_tenant(tenant).filter(product=product).select_related("location")
    if scope is not None:
        levels = levels.filter(location__in=scope)
    page = Paginator(history, 50).get_page(request.GET.get("page"))
    return _render(
        request,
        "inventory/movements.html",
        {"product": product, "location": location, "page": page, "levels": levels.order_by("location__code")},
    )


# --- adjustments ----------------------------------------------------------------------------------------------


@page_access("stock_changes", write=True)
def adjust(request):
    initial = {"sku": _param(request, "sku")}
    if _param(request, "location"):
        initial["location"] = (
            Location.objects.for_tenant(request.tenant).filter(code=_param(request, "location")).first()
        )
    form = AdjustmentForm(request.POST or None, tenant=request.tenant, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        result = sync.apply_adjustments(
            tenant=request.tenant,
            actor=actor_from_request(request),
            rows=[
                {
                    "sku": data["sku"],
                    "location": data["location"].code,
                    "delta": data["delta"],
                    "reason": data["reason"],
                    "kind": data["kind"],
                }
            ],
        )
        if result.rejected:
            form.add_error(None, result.rejected[0]["reason"])
        else:
            messages.success(
                request,
                gettext("Stock of %(sku)s at %(location)s changed by %(delta)s.")
                % {"sku": data["sku"], "location": data["location"].code, "delta": data["delta"]},
            )
            return redirect(f"{reverse('inventory:movements')}?sku={data['sku']}&location={data['location'].code}")
    return _render(request, "inventory/adjust.html", {"form": form})


# --- transfers ------------------------------------------------------------------------------------------------


@page_access("transfers", write=True)
def transfer_list(request):
    form = TransferForm(request.POST or None, tenant=request.tenant)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            transfer = transfers.create_transfer(
                tenant=request.tenant,
                actor=actor_from_request(request),
                source=data["source"].code,
                destination=data["destination"].code,
                lines=data["lines"],
                note=data["note"],
            )
        except DomainError as exc:
            form.add_error(None, _error_text(exc))
        else:
            messages.success(request, gettext("Transfer %(number)s created.") % {"number": transfer.number})
            return redirect("inventory:transfer", pk=transfer.id)
    status = _param(request, "status")
    page = Paginator(transfers.transfer_list(scope=scope_of(request), status=status), 50).get_page(
        request.GET.get("page")
    )
    return _render(
        request,
        "inventory/transfers.html",
        {"form": form, "page": page, "status": status, "statuses": Transfer.Status.choices},
    )


@page_access("transfers", write=True)
def transfer_detail(request, pk: int):
    try:
        transfer = transfers.transfer_detail(scope=scope_of(request), transfer_id=pk)
    except NotFound:
        raise Http404 from None
    if request.method == "POST":
        action, actor = request.POST.get("action"), actor_from_request(request)
        try:
            if action == "ship":
                transfers.ship_transfer(tenant=request.tenant, actor=actor, transfer_id=pk)
                messages.success(request, gettext("Shipped: the units are in transit."))
            elif action == "receive":
                received = {}
                for line in transfer.lines.all():
                    raw = request.POST.get(f"received-{line.id}", "").strip()
                    if raw:
                        units = whole_number(raw)
                        if units is None:
                            raise DomainError(gettext("Received quantities are whole numbers."))
                        received[line.product.sku] = units
                transfers.receive_transfer(tenant=request.tenant, actor=actor, transfer_id=pk, received=received)
                messages.success(request, gettext("Received."))
            elif action == "cancel":
                transfers.cancel_transfer(tenant=request.tenant, actor=actor, transfer_id=pk)
                messages.success(request, gettext("Transfer cancelled."))
        except DomainError as exc:
            messages.error(request, _error_text(exc))
        return redirect("inventory:transfer", pk=pk)
    return _render(request, "inventory/transfer_detail.html", {"transfer": transfer})


# --- cycle counts ---------------------------------------------------------------------------------------------


@page_access("counts", write=True)
def count_list(request):
    scope = request.oms_scope.assigned_stores
    form = CountStartForm(request.POST or None, tenant=request.tenant, allowed=scope)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            count = counts.start_count(
                tenant=request.tenant,
                actor=actor_from_request(request),
                location=data["location"].code,
                skus=data["skus"] or None,
                note=data["note"],
            )
        except DomainError as exc:
            form.add_error(None, _error_text(exc))
        else:
            return redirect("inventory:count", pk=count.id)
    page = Paginator(counts.count_list(tenant=request.tenant, locations=scope), 50).get_page(request.GET.get("page"))
    return _render(request, "inventory/counts.html", {"form": form, "page": page})


@page_access("counts", write=True)
def count_detail(request, pk: int):
    try:
        count = counts.count_detail(tenant=request.tenant, count_id=pk, locations=request.oms_scope.assigned_stores)
    except NotFound:
        raise Http404 from None
    lines = list(count.lines.select_related("product").order_by("product__sku", "expires_on", "lot_code"))
    lot_form = CountLotForm(request.POST if request.POST.get("action") == "add_lot" else None)
    if request.method == "POST":
        action, actor = request.POST.get("action"), actor_from_request(request)
        try:
            if action in ("save", "complete"):
                counted = []
                for line in lines:
                    raw = request.POST.get(f"counted-{line.id}")
                    if raw is None:
                        continue
                    raw = raw.strip()
                    if raw and whole_number(raw) is None:
                        raise DomainError(gettext("Counted quantities are whole numbers of 0 or more."))
                    # An emptied figure clears what was saved: the line is no longer counted.
                    value = whole_number(raw) if raw else None
                    if value != line.counted:
                        counted.append(
                            counts.Counted(
                                sku=line.product.sku, counted=value, lot=line.lot_code, expires_on=line.expires_on
                            )
                        )
                # Saved first, on their own: a refused completion keeps what was counted.
                if counted:
                    counts.record_counts(tenant=request.tenant, actor=actor, count_id=pk, counted=counted)
                if action == "complete":
                    counts.complete_count(tenant=request.tenant, actor=actor, count_id=pk)
                messages.success(
                    request,
                    gettext("Count completed: variances posted.")
                    if action == "complete"
                    else gettext("Counted quantities saved."),
                )
            elif action == "add_lot":
                if not lot_form.is_valid():
                    return _render(
                        request, "inventory/count_detail.html", {"count": count, "lines": lines, "lot_form": lot_form}
                    )
                data = lot_form.cleaned_data
                counts.record_counts(
                    tenant=request.tenant,
                    actor=actor,
                    count_id=pk,
                    counted=[
                        counts.Counted(
                            sku=data["sku"], counted=data["counted"], lot=data["lot"], expires_on=data["expires_on"]
                        )
                    ],
                )
                messages.success(
                    request,
                    gettext("Lot %(lot)s of %(sku)s added to the count.") % {"lot": data["lot"], "sku": data["sku"]},
                )
            elif action == "cancel":
                counts.cancel_count(tenant=request.tenant, actor=actor, count_id=pk)
                messages.success(request, gettext("Count cancelled."))
        except DomainError as exc:
            messages.error(request, _error_text(exc))
        return redirect("inventory:count", pk=pk)
    return _render(request, "inventory/count_detail.html", {"count": count, "lines": lines, "lot_form": lot_form})


# --- CSV import -----------------------------------------------------------------------------------------------


def _import_for(request, pk: int) -> StockImportJob:
    job = StockImportJob.objects.for_tenant(request.tenant).filter(id=pk).first()
    if job is None:
        raise Http404
    return job


@page_access("stock_changes", write=True)
def import_list(request):
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = sync.create_import_job(
                tenant=request.tenant,
                actor=actor_from_request(request),
                mode=form.cleaned_data["mode"],
                file_name=upload.name,
                content=upload.read(sync.MAX_IMPORT_BYTES + 1),
                as_of=form.cleaned_data.get("as_of"),
            )
        except DomainError as exc:
            form.add_error("file", _error_text(exc))
        else:
            transaction.on_commit(lambda: enqueue_import(job.id), robust=True)
            return redirect("inventory:import", pk=job.id)
    jobs = StockImportJob.objects.for_tenant(request.tenant).defer("content").order_by("-id")
    page = Paginator(jobs, 20).get_page(request.GET.get("page"))
    return _render(request, "inventory/imports.html", {"form": form, "page": page})


@page_access("stock_changes", write=True)
def import_detail(request, pk: int):
    return _render(request, "inventory/import_detail.html", {"job": _import_for(request, pk)})


@page_access("stock_changes", write=True)
def import_progress(request, pk: int):
    """The htmx partial polled every second; it re-enqueues a job whose task was lost."""
    job = _import_for(request, pk)
    # At most one re-enqueue per job every 30 s, however many pages poll.
    if sync.import_needs_kick(job) and cache.add(f"inventory:import-kick:{job.id}:{job.created_at.timestamp()}", 1, 30):
        enqueue_import(job.id)
    return render(request, "inventory/_import_progress.html", {"job": job})


@page_access("stock_changes", write=True)
def import_errors(request, pk: int):
    job = _import_for(request, pk)
    response = StreamingHttpResponse(sync.import_error_csv(job), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{job.id}-errors.csv"'
    return response


# --- low-stock alerts -----------------------------------------------------------------------------------------


@page_access("stock_alerts", write=True)
def alert_list(request):
    form = AlertRuleForm(request.POST or None, tenant=request.tenant)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            alerts.save_rule(
                tenant=request.tenant,
                actor=actor_from_request(request),
                sku=data["sku"],
                threshold=data["threshold"],
                location_code=data["location"].code if data["location"] else "",
                channel_code=data["channel"].code if data["channel"] else "",
            )
        except DomainError as exc:
            form.add_error(None, _error_text(exc))
        else:
            messages.success(request, gettext("Alert saved."))
            return redirect("inventory:alerts")
    rules = alerts.rule_list(tenant=request.tenant)
    if request.GET.get("low"):
        rules = rules.filter(is_low=True)
    page = Paginator(rules, 50).get_page(request.GET.get("page"))
    return _render(
        request, "inventory/alerts.html", {"form": form, "page": page, "low_only": bool(request.GET.get("low"))}
    )


@page_access("stock_alerts", write=True)
@require_POST
def alert_delete(request, pk: int):
    try:
        alerts.delete_rule(tenant=request.tenant, actor=actor_from_request(request), rule_id=pk)
    except NotFound:
        raise Http404 from None
    messages.success(request, gettext("Alert deleted."))
    return redirect("inventory:alerts")
