"""The page a customer opens from the link the shop sent them, to rate an order without an account: the signed link
is the key, and tells the tenant (orders.services.feedback holds the rules)."""

from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from oms import rls
from oms.api.scope import Scope
from oms.errors import NotFound
from orders import selectors, services
from orders.forms import FeedbackForm
from orders.models import FeedbackSource
from orders.services.feedback import ExpiredLink, FeedbackExists, InvalidLink, OrderNotReceived, received

TEMPLATE = "orders/feedback.html"
CUSTOMER = "customer, through the feedback link"


@require_http_methods(["GET", "POST"])
def feedback_page(request, token):
    """Verifies the link, then works inside its tenant (oms.rls): a link not made here (or whose order is gone) is
    a 404 page, an expired one a 410 page, both saying what to do. Answering is a POST: a mail scanner opening
    the link records nothing."""
    request.path_for_log = "/feedback/<token>/"  # whoever holds the link may answer: it stays out of the logs
    try:
        link = services.read_link(token)
    except ExpiredLink:
        return render(request, TEMPLATE, {"state": "expired"}, status=410)
    except InvalidLink:
        return render(request, TEMPLATE, {"state": "invalid"}, status=404)
    with rls.tenant(link.tenant_id):
        try:
            order = services.linked_order(link)
        except InvalidLink:
            return render(request, TEMPLATE, {"state": "invalid"}, status=404)
        return _rate(request, order)


def _rate(request, order):
    scope = Scope.system(order.tenant, CUSTOMER)
    context = {"order": order, "shop": order.tenant.name}
    try:
        context["feedback"] = selectors.order_feedback(scope=scope, order_id=order.id)
    except NotFound:
        pass
    else:
        return render(request, TEMPLATE, {**context, "state": "answered"})
    if not received(order):
        return render(request, TEMPLATE, {**context, "state": "not_received"})
    form = FeedbackForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            context["feedback"] = services.record_feedback(
                scope=scope,
                order_id=order.id,
                score=form.cleaned_data["score"],
                comment=form.cleaned_data["comment"],
                source=FeedbackSource.LINK,
            )
        except FeedbackExists:  # answered meanwhile, from another tab or by the shop
            return render(request, TEMPLATE, {**context, "state": "answered"})
        except OrderNotReceived:
            return render(request, TEMPLATE, {**context, "state": "not_received"})
        return render(request, TEMPLATE, {**context, "state": "thanks"})
    return render(request, TEMPLATE, {**context, "state": "form", "form": form})
