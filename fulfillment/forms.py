"""Forms of the routing pages and the store screens; they validate the shape, the services judge the rules."""

import json
import re
from decimal import Decimal, InvalidOperation

from django import forms
from django.utils.translation import gettext_lazy as _

from fulfillment.services.execution import Units
from fulfillment.services.pickup import IdentityCheck


class SimulationForm(forms.Form):
    """A draft policy (JSON) and the past period to replay it on."""

    draft = forms.CharField(
        label=_("Draft rules (JSON)"),
        widget=forms.Textarea(attrs={"rows": 22, "cols": 90, "spellcheck": "false"}),
        help_text=_("Starts as the active policy: change the rules you want to try. A draft is never saved."),
    )
    date_from = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    date_to = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    def clean_draft(self):
        try:
            return json.loads(self.cleaned_data["draft"])
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(_("Not valid JSON: %(problem)s"), params={"problem": exc.msg}) from None

    def add_service_errors(self, errors: dict) -> None:
        """The service's errors (named by the API's paths: `policy.<rule>`, `from`, `to`) on this form's fields."""
        for path, messages in errors.items():
            if path == "from":
                target, prefix = "date_from", ""
            elif path == "to":
                target, prefix = "date_to", ""
            else:
                target, prefix = "draft", path.removeprefix("policy").removeprefix(".")
            for message in messages:
                self.add_error(target, f"{prefix}: {message}" if prefix else message)


class TransitTimeForm(forms.Form):
    """One row of the carrier transit table."""

    service = forms.CharField(label=_("Carrier service"), max_length=40)
    country = forms.CharField(label=_("Country"), max_length=2, initial="FR")
    postal_prefix = forms.CharField(
        label=_("Postal code prefix"), max_length=10, required=False, help_text=_("empty: the whole country")
    )
    min_days = forms.IntegerField(label=_("Minimum days"), min_value=0, max_value=60)
    max_days = forms.IntegerField(label=_("Maximum days"), min_value=0, max_value=60)

    def clean(self):
        data = super().clean()
        if (
            data.get("min_days") is not None
            and data.get("max_days") is not None
            and data["max_days"] < data["min_days"]
        ):
            self.add_error("max_days", _("The maximum is not below the minimum."))
        return data


class ClosureForm(forms.Form):
    """Days a location, or every location, neither prepares nor dispatches orders."""

    location = forms.ChoiceField(label=_("Location"), required=False)
    starts_on = forms.DateField(label=_("First day"), widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label=_("Last day"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label=_("Reason"), max_length=200)

    def __init__(self, *args, locations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].choices = [("", _("Every location"))] + [
            (loc.code, f"{loc.code} — {loc.name}") for loc in locations
        ]

    def clean(self):
        data = super().clean()
        if data.get("starts_on") and data.get("ends_on") and data["ends_on"] < data["starts_on"]:
            self.add_error("ends_on", _("The last day is not before the first."))
        return data


# --- the store screens --------------------------------------------------------------------------------------


class PackForm(forms.Form):
    """Parcel weights in kilograms (spaces or semicolons between them: a comma is a decimal separator in French)
    and the carrier and service the label is printed for."""

    parcels = forms.CharField(
        label=_("Parcel weights (kg)"),
        required=False,
        max_length=500,
        help_text=_("One weight per parcel, separated by spaces, e.g. 1.2 0.8"),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    carrier = forms.CharField(label=_("Carrier"), required=False, max_length=40)
    service = forms.CharField(label=_("Service"), required=False, max_length=60)

    def clean_parcels(self):
        parcels = []
        for raw in re.split(r"[;\s]+", self.cleaned_data["parcels"].strip()):
            if not raw:
                continue
            try:
                weight = Decimal(raw.replace(",", "."))
            except InvalidOperation:
                weight = None
            if weight is None or not Decimal("0.001") <= weight <= Decimal("1000"):
                raise forms.ValidationError(_("A weight in kg, up to 1000: %(value)s"), params={"value": raw[:20]})
            parcels.append({"weight_kg": str(weight)})
        return parcels

    def clean_carrier(self):
        code = self.cleaned_data["carrier"].strip().lower()
        if code and not re.fullmatch(r"[a-z0-9_]{1,40}", code):
            raise forms.ValidationError(_("A carrier code: lower-case letters, digits, _."))
        return code


class ShipForm(forms.Form):
    carrier = forms.ChoiceField(label=_("Carrier"))
    service = forms.CharField(label=_("Service"), required=False, max_length=60)
    tracking_numbers = forms.CharField(
        label=_("Tracking numbers"),
        required=False,
        max_length=600,
        help_text=_("Scan or type each parcel's number, separated by commas or spaces."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args, carriers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["carrier"].choices = carriers

    def clean_tracking_numbers(self):
        numbers = [item.strip() for item in re.split(r"[,;\s]+", self.cleaned_data["tracking_numbers"]) if item.strip()]
        if any(len(number) > 60 for number in numbers):
            raise forms.ValidationError(_("A tracking number is at most 60 characters."))
        return numbers


class RejectForm(forms.Form):
    reason = forms.ChoiceField(label=_("Reason"), widget=forms.RadioSelect)

    def __init__(self, *args, reasons, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].choices = reasons


class HandOverForm(forms.Form):
    """The hand-over at the counter: how the customer proved the order is theirs (the pickup code they show, or the
    order's number and their name as they say them), and how many units of each line they take (all by default;
    what they leave is cancelled and goes back on sale)."""

    CODE, IDENTITY = "code", "identity"

    method = forms.ChoiceField(
        label=_("Proof"),
        choices=[(CODE, _("Pickup code")), (IDENTITY, _("Identity check: order number and name"))],
        initial=CODE,
        widget=forms.RadioSelect,
    )
    pickup_code = forms.CharField(
        label=_("Pickup code"),
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}),
    )
    order_number = forms.CharField(label=_("Order number, as the customer says it"), required=False, max_length=40)
    customer_name = forms.CharField(label=_("Customer's name, as on their ID"), required=False, max_length=200)

    def __init__(self, *args, lines, prefill: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = [line for line in lines if line.quantity_open]
        if prefill:
            self.fields["pickup_code"].initial = prefill[:40]
        for line in self.lines:
            self.fields[f"take_{line.id}"] = forms.IntegerField(
                label=f"{line.order_line.sku} · {line.order_line.product.name if line.order_line.product else ''}",
                min_value=0,
                max_value=line.quantity_open,
                initial=line.quantity_open,
                widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "qty"}),
            )

    def take_fields(self):
        return [self[f"take_{line.id}"] for line in self.lines]

    def clean(self):
        data = super().clean()
        if data.get("method") == self.CODE and not (data.get("pickup_code") or "").strip():
            self.add_error("pickup_code", _("Type the code the customer shows."))
        if data.get("method") == self.IDENTITY:
            for name in ("order_number", "customer_name"):
                if not (data.get(name) or "").strip():
                    self.add_error(name, _("Ask the customer and type it."))
        takes = [data.get(f"take_{line.id}") for line in self.lines]
        if all(take is not None for take in takes) and not any(takes):
            raise forms.ValidationError(_("The customer takes nothing: leave the order ready instead."))
        return data

    def code_shown(self) -> str | None:
        return self.cleaned_data["pickup_code"].strip() if self.cleaned_data["method"] == self.CODE else None

    def identity(self):
        if self.cleaned_data["method"] != self.IDENTITY:
            return None
        return IdentityCheck(
            order_number=self.cleaned_data["order_number"].strip(),
            customer_name=self.cleaned_data["customer_name"].strip(),
        )

    def units(self):
        """None when every unit is taken (the whole order), else the units taken, line by line."""
        takes = {line: self.cleaned_data[f"take_{line.id}"] for line in self.lines}
        if all(take == line.quantity_open for line, take in takes.items()):
            return None
        return [Units(order_line=line.order_line_id, quantity=take) for line, take in takes.items() if take]
