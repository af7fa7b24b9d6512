"""Forms of the order pages; each one feeds a service."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from orders.amounts import amount_fits
from orders.models import (
    FEEDBACK_COMMENT_MAX_LENGTH,
    HOLD_KINDS_BY_HAND,
    Customer,
    DeliveryMethod,
    HoldKind,
    Order,
    OrderLine,
    OrderStatus,
)
from orders.quantities import MAX_LINE_QUANTITY, MIN_LINE_QUANTITY

# How the payment statuses the API accepts read on the pages.
PAYMENT_STATUS_LABELS = {
    "pending": _("Pending"),
    "authorized": _("Authorized"),
    "paid": _("Paid"),
    "partially_refunded": _("Partially refunded"),
    "refunded": _("Refunded"),
    "failed": _("Failed"),
}


class OrderSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("number, reference, customer")}),
    )
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("All"))] + list(OrderStatus.choices))
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
                label=f"{line.sku}",
                min_value=0,
                max_value=line.quantity_outstanding,
                required=False,
                help_text=_("at most %(count)s") % {"count": line.quantity_outstanding},
            )

    def line_quantities(self):
        """[(line_id, quantity)] asked for, or None to cancel the whole order."""
        chosen = [(line.id, self.cleaned_data.get(f"line_{line.id}")) for line in self.lines]
        chosen = [(line_id, quantity) for line_id, quantity in chosen if quantity]
        return chosen or None


class HoldForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"), choices=[(kind, kind.label) for kind in HOLD_KINDS_BY_HAND], initial=HoldKind.MANUAL
    )
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
    country = forms.RegexField(
        label=_("Country"), regex=r"^[A-Z]{2}$", initial="FR", help_text=_("Two-letter code, e.g. FR")
    )

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
    external_ref = forms.CharField(
        label=_("Reference"), required=False, max_length=Order._meta.get_field("external_ref").max_length
    )
    channel = forms.ChoiceField(label=_("Channel"))
    email = forms.EmailField(label=_("Customer e-mail"), max_length=Customer._meta.get_field("email").max_length)
    customer_name = forms.CharField(label=_("Customer name"), max_length=200, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    method = forms.ChoiceField(
        label=_("Delivery"), choices=[(DeliveryMethod.SHIP, _("Ship")), (DeliveryMethod.PICKUP, _("Pickup in store"))]
    )
    line1 = forms.CharField(label=_("Address"), max_length=200, required=False)
    postal_code = forms.CharField(label=_("Postal code"), max_length=20, required=False)
    city = forms.CharField(label=_("City"), max_length=100, required=False)
    country = forms.RegexField(label=_("Country"), regex=r"^[A-Z]{2}$", initial="FR", required=False)
    pickup_location = forms.ChoiceField(label=_("Pickup store"), required=False)
    service_level = forms.CharField(label=_("Service level"), max_length=40, required=False, initial="standard")
    currency = forms.RegexField(label=_("Currency"), regex=r"^[A-Z]{3}$", initial="EUR")
    payment_status = forms.ChoiceField(
        label=_("Payment"),
        required=False,
        choices=[("paid", _("Paid")), ("authorized", _("Authorized")), ("pending", _("Pending (order is held)"))],
    )

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
    quantity = forms.IntegerField(
        label=_("Quantity"), min_value=MIN_LINE_QUANTITY, max_value=MAX_LINE_QUANTITY, required=False
    )
    unit_price = forms.DecimalField(label=_("Unit price"), max_digits=12, decimal_places=2, min_value=0, required=False)
    tax = forms.DecimalField(label=_("Tax"), max_digits=12, decimal_places=2, min_value=0, required=False)

    def clean(self):
        data = super().clean()
        if data.get("sku") and (not data.get("quantity") or data.get("unit_price") is None):
            raise forms.ValidationError(_("Give a quantity and a unit price for %(sku)s.") % {"sku": data["sku"]})
        if data.get("sku") and not amount_fits(OrderLine, "total", self.amount()):
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
        if not amount_fits(Order, "total", sum((form.amount() for form in lines), Decimal(0))):
            raise forms.ValidationError(_("The order's total is too large."))


PhoneOrderLineFormSet = forms.formset_factory(
    PhoneOrderLineForm, formset=BasePhoneOrderLineFormSet, extra=5, max_num=50
)


PREFIX = r"^[A-Za-z0-9/_-]*$"
LEGAL_TEXT_FIELDS = ("name", "legal_form", "share_capital", "siren", "siret", "vat_number", "rcs", "email", "phone")
ADDRESS_PARTS = ("line1", "line2", "postal_code", "city", "country")


class OrderSettingsForm(forms.Form):
    """Numbering, hold rules, invoicing and the seller identity printed on invoices (orders.tenant_settings)."""

    order_number_prefix = forms.RegexField(
        PREFIX,
        label=_("Order number prefix"),
        max_length=10,
        required=False,
        help_text=_("Letters, digits, - _ /; new orders only."),
    )
    max_order_value = forms.DecimalField(
        label=_("Hold orders above this total"),
        required=False,
        min_value=0,
        max_digits=14,
        decimal_places=2,
        help_text=_("Empty: no hold for the order's value."),
    )
    first_order_express_levels = forms.CharField(
        label=_("Hold a new customer's first order with these service levels"),
        required=False,
        max_length=400,
        help_text=_("Separated by commas, e.g. express, next_day."),
    )
    invoice_per = forms.ChoiceField(
        label=_("Invoice"), choices=[("shipment", _("per shipment")), ("order", _("per order"))]
    )
    invoice_prefix = forms.RegexField(
        PREFIX,
        label=_("Invoice number prefix"),
        max_length=10,
        required=False,
        help_text=_("Numbers stay one gap-free sequence whatever the prefix."),
    )
    pickup_hold_days = forms.IntegerField(
        label=_("Days a pickup order waits at the store"),
        min_value=1,
        max_value=90,
        required=False,
        help_text=_("Then it is cancelled and its stock is back on sale; a store may set its own on its location."),
    )
    name = forms.CharField(label=_("Legal name"), max_length=200, required=False)
    legal_form = forms.CharField(label=_("Legal form"), max_length=100, required=False)
    share_capital = forms.CharField(label=_("Share capital"), max_length=100, required=False)
    line1 = forms.CharField(label=_("Address"), max_length=200, required=False)
    line2 = forms.CharField(label=_("Address (continued)"), max_length=200, required=False)
    postal_code = forms.CharField(label=_("Postal code"), max_length=20, required=False)
    city = forms.CharField(label=_("City"), max_length=100, required=False)
    country = forms.RegexField(
        r"^[A-Z]{2}$", label=_("Country"), max_length=2, required=False, help_text=_("ISO code, e.g. FR.")
    )
    siren = forms.RegexField(r"^\d{9}$", label=_("SIREN"), max_length=9, required=False)
    siret = forms.RegexField(r"^\d{14}$", label=_("SIRET"), max_length=14, required=False)
    vat_number = forms.RegexField(r"^[A-Z]{2}[A-Z0-9]{2,13}$", label=_("VAT number"), max_length=15, required=False)
    rcs = forms.CharField(label=_("RCS"), max_length=100, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False, max_length=254)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    mentions = forms.CharField(
        label=_("Mentions printed on every invoice"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "One per line: payment terms, late-payment penalties, the fixed recovery indemnity, a VAT exemption..."
        ),
    )

    NUMBERING = ("order_number_prefix", "invoice_per", "invoice_prefix")
    HOLDS = ("max_order_value", "first_order_express_levels", "pickup_hold_days")

    def numbering_fields(self):
        return [self[name] for name in self.NUMBERING]

    def hold_fields(self):
        return [self[name] for name in self.HOLDS]

    def seller_fields(self):
        return [field for field in self if field.name not in (*self.NUMBERING, *self.HOLDS)]

    @classmethod
    def initial_from(cls, current: dict) -> dict:
        rules, legal = current["order_hold_rules"] or {}, current["legal"] or {}
        address = legal.get("address") or {}
        if not isinstance(address, dict):  # an address kept as one string shows on the first line
            address = {"line1": str(address)}
        mentions = legal.get("mentions") or []
        return {
            "order_number_prefix": current["order_number_prefix"],
            "invoice_prefix": current["invoice_prefix"],
            "invoice_per": current["invoice_per"],
            "max_order_value": rules.get("max_order_value"),
            "first_order_express_levels": ", ".join(rules.get("first_order_express_levels") or []),
            "pickup_hold_days": current["pickup_hold_days"],
            **{key: legal.get(key, "") for key in LEGAL_TEXT_FIELDS},
            **{key: address.get(key, "") for key in ADDRESS_PARTS},
            "mentions": "\n".join(mentions if isinstance(mentions, list) else [str(mentions)]),
        }

    def settings_values(self, current: dict) -> dict:
        """The settings to store; keys this form does not show (in the rules or the legal block) are kept."""
        data = self.cleaned_data
        rules = {
            k: v
            for k, v in (current["order_hold_rules"] or {}).items()
            if k not in ("max_order_value", "first_order_express_levels")
        }
        if data["max_order_value"] is not None:
            rules["max_order_value"] = str(data["max_order_value"])
        levels = [level.strip() for level in data["first_order_express_levels"].split(",") if level.strip()]
        if levels:
            rules["first_order_express_levels"] = levels
        legal = {
            k: v for k, v in (current["legal"] or {}).items() if k not in (*LEGAL_TEXT_FIELDS, "address", "mentions")
        }
        legal.update({key: data[key].strip() for key in LEGAL_TEXT_FIELDS if data[key].strip()})
        address = {key: data[key].strip() for key in ADDRESS_PARTS if data[key].strip()}
        if address:
            legal["address"] = address
        mentions = [line.strip() for line in data["mentions"].splitlines() if line.strip()]
        if mentions:
            legal["mentions"] = mentions
        return {
            "order_number_prefix": data["order_number_prefix"],
            "invoice_prefix": data["invoice_prefix"],
            "invoice_per": data["invoice_per"],
            "order_hold_rules": rules,
            "legal": legal,
            "pickup_hold_days": data["pickup_hold_days"] or current["pickup_hold_days"],
        }


class ErasureForm(forms.Form):
    """The second step before a customer's personal data is erased: the admin ticks that they understand."""

    confirm = forms.BooleanField(
        label=_("I understand that the customer's personal data will be erased for good."), required=True
    )


# How each score reads to the customer rating their order.
FEEDBACK_SCORE_CHOICES = [
    (5, _("Very satisfied")),
    (4, _("Satisfied")),
    (3, _("Neither satisfied nor dissatisfied")),
    (2, _("Dissatisfied")),
    (1, _("Very dissatisfied")),
]


class FeedbackForm(forms.Form):
    """A customer's rating of their order, on the page their link opens."""

    score = forms.TypedChoiceField(
        label=_("How satisfied are you with your order?"),
        choices=FEEDBACK_SCORE_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose a rating from 1 to 5.")},
    )
    comment = forms.CharField(
        label=_("Anything you would like to tell us? (optional)"),
        required=False,
        max_length=FEEDBACK_COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": FEEDBACK_COMMENT_MAX_LENGTH}),
    )
