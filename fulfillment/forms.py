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
