"""Forms of the stock pages; they validate the shape, the services judge the business rules."""

from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inventory.models import Location, MovementKind, StockImportJob
from oms.digits import whole_number
from oms.sales_channels import channels_of


class LocationChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.code} — {obj.name}"


def _locations(tenant, allowed=None):
    locations = Location.objects.for_tenant(tenant).filter(active=True).order_by("code")
    if allowed is not None:
        locations = locations.filter(id__in=[loc.id for loc in allowed])
    return locations


def parse_sku_lines(text: str, *, with_quantity: bool) -> list:
    """'SKU quantity' (or just 'SKU') per line → [(sku, quantity)] or [sku]; raises ValidationError per bad line."""
    parsed, errors = [], []
    for number, raw in enumerate(text.splitlines(), start=1):
        parts = raw.replace(";", " ").replace(",", " ").split()
        if not parts:
            continue
        if not with_quantity:
            parsed.extend(parts)
            continue
        quantity = whole_number(parts[1]) if len(parts) == 2 else None
        if not quantity:
            errors.append(_("Line %(n)s: write a SKU and a positive quantity.") % {"n": number})
            continue
        parsed.append((parts[0], quantity))
    if errors:
        raise forms.ValidationError(errors)
    return parsed


class AdjustmentForm(forms.Form):
    sku = forms.CharField(label=_("SKU"), max_length=64)
    location = LocationChoiceField(label=_("Location"), queryset=Location.objects.none())
    delta = forms.IntegerField(
        label=_("Change (units)"),
        min_value=-1_000_000_000,
        max_value=1_000_000_000,
        help_text=_("Positive to add units, negative to remove them."),
    )
    kind = forms.ChoiceField(
        label=_("Kind"), choices=[(MovementKind.ADJUSTMENT, _("Adjustment")), (MovementKind.RECEIPT, _("Receipt"))]
    )
    reason = forms.CharField(label=_("Reason"), max_length=200)

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = _locations(tenant)

    def clean_delta(self):
        if self.cleaned_data["delta"] == 0:
            raise forms.ValidationError(_("A change of 0 changes nothing."))
        return self.cleaned_data["delta"]


class TransferForm(forms.Form):
    source = LocationChoiceField(label=_("From"), queryset=Location.objects.none())
    destination = LocationChoiceField(label=_("To"), queryset=Location.objects.none())
    lines = forms.CharField(
        label=_("Lines"),
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("One line per SKU: the SKU, a space, the quantity."),
    )
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].queryset = self.fields["destination"].queryset = _locations(tenant)

    def clean_lines(self):
        lines = parse_sku_lines(self.cleaned_data["lines"], with_quantity=True)
        if not lines:
            raise forms.ValidationError(_("Add at least one line."))
        return lines

    def clean(self):
        data = super().clean()
        if data.get("source") and data.get("source") == data.get("destination"):
            self.add_error("destination", _("The destination must differ from the source."))
        return data


class CountStartForm(forms.Form):
    location = LocationChoiceField(label=_("Location"), queryset=Location.objects.none())
    skus = forms.CharField(
        label=_("SKUs to count"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One SKU per line; leave empty to count every SKU stocked there."),
    )
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args, tenant, allowed=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = _locations(tenant, allowed)

    def clean_skus(self):
        return parse_sku_lines(self.cleaned_data["skus"], with_quantity=False)


class CountLotForm(forms.Form):
    """A lot found on the shelf that the count does not list yet."""

    sku = forms.CharField(label=_("SKU"), max_length=64)
    lot = forms.CharField(label=_("Lot"), max_length=64)
    expires_on = forms.DateField(
        label=_("Expires on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Required for a lot this location does not hold yet."),
    )
    counted = forms.IntegerField(label=_("Counted"), min_value=0, max_value=1_000_000_000)


class ImportForm(forms.Form):
    mode = forms.ChoiceField(
        label=_("The file holds"),
        choices=StockImportJob.Mode.choices,
        widget=forms.RadioSelect,
        initial=StockImportJob.Mode.ADJUSTMENTS,
    )
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "Columns: sku, location, quantity and optionally reason (plus lot and expires_on for lot-tracked products)."
        ),
    )
    as_of = forms.DateTimeField(
        label=_("Counted as of"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_(
            "Snapshots only: when the counts were taken (default: now). Movements recorded after that time are kept."
        ),
    )

    def clean_as_of(self):
        as_of = self.cleaned_data.get("as_of")
        if as_of and as_of > timezone.now() + timedelta(minutes=5):
            raise forms.ValidationError(_("A count cannot be dated in the future."))
        return as_of


class AlertRuleForm(forms.Form):
    sku = forms.CharField(label=_("SKU"), max_length=64)
    location = LocationChoiceField(label=_("Location"), queryset=Location.objects.none(), required=False)
    channel = forms.ModelChoiceField(label=_("or channel"), queryset=None, required=False)
    threshold = forms.IntegerField(label=_("Low at or below (units available)"), min_value=0, max_value=1_000_000_000)

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = _locations(tenant)
        self.fields["channel"].queryset = channels_of(tenant).order_by("code")

    def clean(self):
        data = super().clean()
        if bool(data.get("location")) == bool(data.get("channel")):
            raise forms.ValidationError(_("Choose either a location or a channel."))
        return data
