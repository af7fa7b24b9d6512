"""The dashboards' filters: the range of days, the period's length on the charts, the comparison, a channel and a
location (by code). Read from the query string, as the KPI API reads it."""

from datetime import timedelta

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from reporting.api import DEFAULT_DAYS, MAX_DAYS
from reporting.dashboard import COMPARISONS
from reporting.selectors import GRANULARITIES

GRANULARITY_LABELS = {"day": _("Day"), "week": _("Week"), "month": _("Month")}


class ReportFilterForm(forms.Form):
    granularity = forms.ChoiceField(
        label=pgettext_lazy("period of the charts", "Per"),
        choices=[(g, GRANULARITY_LABELS[g]) for g in GRANULARITIES],
        required=False,
    )
    compare = forms.ChoiceField(label=_("Compare with"), choices=list(COMPARISONS.items()), required=False)
    channel = forms.CharField(label=_("Channel"), max_length=40, required=False)
    location = forms.CharField(label=_("Location"), max_length=40, required=False)

    def __init__(self, *args, today, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        # `from` is a Python keyword: the field is added by name.
        self.fields["from"] = forms.DateField(
            label=pgettext_lazy("range of days", "From"),
            required=False,
            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        )
        self.fields["to"] = forms.DateField(
            label=pgettext_lazy("range of days", "To"),
            required=False,
            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        )
        self.order_fields(["from", "to", "granularity", "compare", "channel", "location"])

    def clean(self):
        cleaned = super().clean()
        last = cleaned.get("to") or self.today
        first = cleaned.get("from") or last - timedelta(days=DEFAULT_DAYS - 1)
        if first > last:
            self.add_error("from", _("The first day comes after the last."))
        elif (last - first).days >= MAX_DAYS:
            self.add_error("from", _("Ask for at most %(days)s days at a time.") % {"days": MAX_DAYS})
        cleaned["first"], cleaned["last"] = first, last
        cleaned["granularity"] = cleaned.get("granularity") or "day"
        cleaned["compare"] = cleaned.get("compare") or "previous"
        return cleaned
