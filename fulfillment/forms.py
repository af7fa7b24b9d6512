"""Forms of the routing pages; they validate the shape, the services judge the rules."""

import json

from django import forms
from django.utils.translation import gettext_lazy as _


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
