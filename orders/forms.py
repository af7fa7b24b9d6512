"""Forms of the order pages; each one feeds a service."""
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from orders.api import LineIn
from orders.models import DeliveryMethod, HoldKind, Order, OrderLine, OrderStatus

# A phone order takes the quantities an integration may send through the API, no more: beyond them the database
# refuses the number and the page would fail instead of answering.
API_LINE_QUANTITY = LineIn._declared_fields["quantity"]


def _amount_limit(model, name: str) -> Decimal:
    """The first amount a money column can no longer hold (PostgreSQL refuses it: numeric field overflow)."""
    field = model._meta.get_field(name)
    return Decimal(10) ** (field.max_digits - field.decimal_places)


LINE_AMOUNT_LIMIT = _amount_limit(OrderLine, "total")
ORDER_AMOUNT_LIMIT = _amount_limit(Order, "total")
# How the payment statuses the API accepts read on the pages.
PAYMENT_STATUS_LABELS = {
    "pending": _("Pending"), "authorized": _("Authorized"), "paid": _("Paid"),
    "partially_refunded": _("Partially refunded"), "refunded": _("Refunded"), "failed": _("Failed"),
}


class OrderSearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False,
                        widget=forms.TextInput(attrs={"type": "search",
                                                      "placeholder": _("number, reference, customer")}))
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("All"))] + list(OrderStatus.choices))
    channel = forms.ChoiceField(label=_("Channel"), required=False)

    def __init__(self, *args, channels=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = [("", _("All"))] + [(c.code, c.name) for c in channels]


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500)

    def __init__(self, *args, lines=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = [line for line in lines if line.quantity_outstanding]
        for line in self.lines:
            self.fields[f"line_{line.id}"] = forms.IntegerField(
                label=f"{line.sku}", min_value=0, max_value=line.quantity_outstanding, required=False,
                help_text=_("at most %(count)s") % {"count": line.quantity_outstanding})

    def line_quantities(self):
        """[(line_id, quantity)] asked for, or None to cancel the whole order."""
        chosen = [(line.id, self.cleaned_data.get(f"line_{line.id}")) for line in self.lines]
        chosen = [(line_id, quantity) for line_id, quantity in chosen if quantity]
        return chosen or None


class HoldForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=HoldKind.choices, initial=HoldKind.MANUAL)
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)


class ReleaseForm(forms.Form):
    note = forms.CharField(label=_("Note"), max_length=500, required=False)


class AddressForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    line1 = forms.CharField(label=_("Address"), max_length=200)
    line2 = forms.CharField(label=_("Address (continued)"), max_length=200, required=False)
    postal_code = forms.CharField(label=_("Postal code"), max_length=20)
    city = forms.CharField(label=_("City"), max_length=100)
    country = forms.RegexField(label=_("Country"), regex=r"^[A-Z]{2}$", initial="FR",
                               help_text=_("Two-letter code, e.g. FR"))

    ADDRESS_FIELDS = ("name", "line1", "line2", "postal_code", "city", "country")

    def address(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.ADDRESS_FIELDS if self.cleaned_data.get(name)}


class PickupForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    pickup_location = forms.ChoiceField(label=_("Pickup store"))

    def __init__(self, *args, stores=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pickup_location"].choices = [(s.code, f"{s.code} — {s.name}") for s in stores]


class PhoneOrderForm(forms.Form):
    # Empty: the page makes one up (PHONE-...), and the same reference makes a double submit harmless.
    external_ref = forms.CharField(label=_("Reference"), required=False,
                                   max_length=Order._meta.get_field("external_ref").max_length)
    channel = forms.ChoiceField(label=_("Channel"))
    email = forms.EmailField(label=_("Customer e-mail"))
    customer_name = forms.CharField(label=_("Customer name"), max_length=200, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    method = forms.ChoiceField(label=_("Delivery"), choices=[(DeliveryMethod.SHIP, _("Ship")),
                                                             (DeliveryMethod.PICKUP, _("Pickup in store"))])
    line1 = forms.CharField(label=_("Address"), max_length=200, required=False)
    postal_code = forms.CharField(label=_("Postal code"), max_length=20, required=False)
    city = forms.CharField(label=_("City"), max_length=100, required=False)
    country = forms.RegexField(label=_("Country"), regex=r"^[A-Z]{2}$", initial="FR", required=False)
    pickup_location = forms.ChoiceField(label=_("Pickup store"), required=False)
    service_level = forms.CharField(label=_("Service level"), max_length=40, required=False, initial="standard")
    currency = forms.RegexField(label=_("Currency"), regex=r"^[A-Z]{3}$", initial="EUR")
    payment_status = forms.ChoiceField(label=_("Payment"), required=False, choices=[
        ("paid", _("Paid")), ("authorized", _("Authorized")), ("pending", _("Pending (order is held)"))])

    def __init__(self, *args, channels=(), stores=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = [(c.code, f"{c.code} — {c.name}") for c in channels]
        self.fields["pickup_location"].choices = [("", "—")] + [(s.code, f"{s.code} — {s.name}") for s in stores]

    def clean(self):
        data = super().clean()
        if data.get("method") == DeliveryMethod.SHIP:
            for name in ("line1", "postal_code", "city", "country"):
                if not data.get(name):
                    self.add_error(name, _("Required to ship the order."))
        elif data.get("method") == DeliveryMethod.PICKUP and not data.get("pickup_location"):
            self.add_error("pickup_location", _("Choose the pickup store."))
        return data


class PhoneOrderLineForm(forms.Form):
    sku = forms.CharField(label=_("SKU"), max_length=64, required=False)
    quantity = forms.IntegerField(label=_("Quantity"), min_value=API_LINE_QUANTITY.min_value,
                                  max_value=API_LINE_QUANTITY.max_value, required=False)
    unit_price = forms.DecimalField(label=_("Unit price"), max_digits=12, decimal_places=2, min_value=0,
                                    required=False)
    tax = forms.DecimalField(label=_("Tax"), max_digits=12, decimal_places=2, min_value=0, required=False)

    def clean(self):
        data = super().clean()
        if data.get("sku") and (not data.get("quantity") or data.get("unit_price") is None):
            raise forms.ValidationError(_("Give a quantity and a unit price for %(sku)s.") % {"sku": data["sku"]})
        if data.get("sku") and self.amount() >= LINE_AMOUNT_LIMIT:
            raise forms.ValidationError(_("The line's amount is too large."))
        return data

    def amount(self) -> Decimal:
        """What the line costs with its tax, as the order will total it."""
        data = self.cleaned_data
        return (data.get("unit_price") or 0) * (data.get("quantity") or 0) + (data.get("tax") or 0)


class BasePhoneOrderLineFormSet(forms.BaseFormSet):
    def clean(self):
        if any(self.errors):
            return
        lines = [form for form in self.forms if form.cleaned_data.get("sku")]
        if sum((form.amount() for form in lines), Decimal(0)) >= ORDER_AMOUNT_LIMIT:
            raise forms.ValidationError(_("The order's total is too large."))


PhoneOrderLineFormSet = forms.formset_factory(PhoneOrderLineForm, formset=BasePhoneOrderLineFormSet, extra=5,
                                              max_num=50)
