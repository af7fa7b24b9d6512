"""Forms of the returns pages: the desk's return and receipt, the queue's filters, the back office's decisions. They
check the shape of what is typed; the services judge the rules (returns.policy)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from returns import services
from returns.models import Disposition, ReturnOutcome, ReturnStatus

MAX_DAYS = 3650
MAX_EXCHANGE_UNITS = 999


def _units_field(label, most: int, initial=None) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        min_value=0,
        max_value=most,
        required=False,
        initial=initial,
        widget=forms.NumberInput(attrs={"class": "qty", "inputmode": "numeric"}),
    )


def _disposition_field() -> forms.ChoiceField:
    # Asked of the lines given units only (clean()): the others are not coming back.
    return forms.ChoiceField(
        label=_("Disposition"), choices=Disposition.choices, initial=Disposition.RESTOCK, required=False
    )


class DeskReturnForm(forms.Form):
    """A return at the counter: per returnable line the units, the reason and what becomes of them; then what the
    customer gets."""

    outcome = forms.ChoiceField(
        label=_("The customer gets"),
        choices=ReturnOutcome.choices,
        initial=ReturnOutcome.REFUND,
        widget=forms.RadioSelect,
    )
    exchange_sku = forms.CharField(
        label=_("Replacement SKU"),
        required=False,
        max_length=64,
        help_text=_("for an exchange: what the customer takes"),
    )
    exchange_quantity = forms.IntegerField(
        label=_("Replacement units"), required=False, min_value=1, max_value=MAX_EXCHANGE_UNITS, initial=1
    )
    comment = forms.CharField(
        label=_("Comment"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, lines, reasons, language: str, **kwargs):
        """`lines`: the order's lines with what is left to return (returns.desk.returnable_lines); `reasons`: the
        tenant's active reasons, labelled in `language`."""
        super().__init__(*args, **kwargs)
        reason_choices = [(reason.code, reason.label(language)) for reason in reasons]
        self.rows = []
        for item in lines:
            if not item.left:
                continue
            key = item.line.id
            self.fields[f"quantity_{key}"] = _units_field(item.line.sku, item.left)
            self.fields[f"reason_{key}"] = forms.ChoiceField(label=_("Reason"), choices=reason_choices, required=False)
            self.fields[f"disposition_{key}"] = _disposition_field()
            self.rows.append(
                {
                    "line": item.line,
                    "left": item.left,
                    "quantity": self[f"quantity_{key}"],
                    "reason": self[f"reason_{key}"],
                    "disposition": self[f"disposition_{key}"],
                }
            )

    def clean(self):
        data = super().clean()
        chosen = self._chosen(data)
        if self.rows and not chosen:
            raise forms.ValidationError(_("Give the units the customer brings back on at least one line."))
        for key, _units in chosen:
            for name in (f"reason_{key}", f"disposition_{key}"):
                if not data.get(name) and name not in self.errors:
                    self.add_error(name, _("Choose one for the units brought back."))
        if data.get("outcome") == ReturnOutcome.EXCHANGE and not (data.get("exchange_sku") or "").strip():
            self.add_error("exchange_sku", _("An exchange names what the customer takes instead."))
        return data

    def _chosen(self, data) -> list[tuple[int, int]]:
        chosen = []
        for row in self.rows:
            key = row["line"].id
            quantity = data.get(f"quantity_{key}")
            if quantity:
                chosen.append((key, quantity))
        return chosen

    def line_requests(self) -> list[services.LineRequest]:
        data = self.cleaned_data
        return [services.LineRequest(key, quantity, data[f"reason_{key}"]) for key, quantity in self._chosen(data)]

    def receipt_lines(self) -> list[services.ReceiptLine]:
        data = self.cleaned_data
        return [services.ReceiptLine(key, quantity, data[f"disposition_{key}"]) for key, quantity in self._chosen(data)]

    def exchange_requests(self) -> list[services.ExchangeRequest]:
        data = self.cleaned_data
        if data["outcome"] != ReturnOutcome.EXCHANGE:
            return []
        return [services.ExchangeRequest(data["exchange_sku"].strip(), data.get("exchange_quantity") or 1)]


class ReceiveForm(forms.Form):
    """What of an approved return arrives at the counter, line by line, and what becomes of it."""

    def __init__(self, *args, rma, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = []
        for line in rma.lines.all():
            expected = line.quantity - line.quantity_received
            if expected <= 0:
                continue
            self.fields[f"quantity_{line.id}"] = _units_field(line.order_line.sku, expected, initial=expected)
            self.fields[f"disposition_{line.id}"] = _disposition_field()
            self.rows.append(
                {
                    "line": line,
                    "expected": expected,
                    "quantity": self[f"quantity_{line.id}"],
                    "disposition": self[f"disposition_{line.id}"],
                }
            )

    def clean(self):
        data = super().clean()
        chosen = self.receipt_lines(data)
        if self.rows and not chosen:
            raise forms.ValidationError(_("Give the units that came back on at least one line."))
        for row in self.rows:
            name = f"disposition_{row['line'].id}"
            if data.get(f"quantity_{row['line'].id}") and not data.get(name) and name not in self.errors:
                self.add_error(name, _("Choose one for the units received."))
        return data

    def receipt_lines(self, data=None) -> list[services.ReceiptLine]:
        data = self.cleaned_data if data is None else data
        chosen = []
        for row in self.rows:
            key = row["line"].id
            if data.get(f"quantity_{key}"):
                chosen.append(
                    services.ReceiptLine(
                        row["line"].order_line_id, data[f"quantity_{key}"], data.get(f"disposition_{key}", "")
                    )
                )
        return chosen


class QueueForm(forms.Form):
    """The queue's filters and its order."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("RMA or order number")}),
    )
    status = forms.ChoiceField(label=_("Status"), required=False)
    reason = forms.ChoiceField(label=_("Reason"), required=False)
    channel = forms.ChoiceField(label=_("Channel"), required=False)
    location = forms.ChoiceField(label=_("Location"), required=False)
    older_than = forms.IntegerField(
        label=_("Older than (days)"), required=False, min_value=0, max_value=MAX_DAYS, widget=forms.NumberInput
    )
    sort = forms.CharField(required=False, max_length=20, widget=forms.HiddenInput)

    def __init__(self, *args, reasons=(), channels=(), locations=(), language: str = "en", **kwargs):
        super().__init__(*args, **kwargs)
        every = [("", _("All"))]
        self.fields["status"].choices = every + list(ReturnStatus.choices)
        self.fields["reason"].choices = every + [(r.code, r.label(language)) for r in reasons]
        self.fields["channel"].choices = every + [(c.code, c.name) for c in channels]
        self.fields["location"].choices = (
            every + [(loc.code, f"{loc.code} · {loc.name}") for loc in locations] + [("-", _("No store (by mail)"))]
        )


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("Why"), max_length=500)


class NoteForm(forms.Form):
    """Cancelling or closing a return, with an optional word on why."""

    reason = forms.CharField(label=_("Why"), max_length=500, required=False)


class SettleForm(forms.Form):
    refund = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    reference = forms.CharField(label=_("Payment reference"), max_length=120)
