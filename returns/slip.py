"""The printable return slip: the RMA number, what comes back and why, and a QR code of the number that the
receiving location scans. HTML laid out as PDF by WeasyPrint, as invoices are."""

import segno
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.safestring import mark_safe

from returns.models import Return


def qr_svg(text: str) -> str:
    """The text as a QR code, inline SVG (medium error correction: a creased slip still scans)."""
    return segno.make(text, error="m", micro=False).svg_inline(scale=4, border=2)


def render_slip_html(rma: Return, *, language: str | None = None) -> str:
    language = language or translation.get_language() or rma.order.tenant.locale
    with translation.override(language):
        return render_to_string(
            "returns/slip.html",
            {
                "rma": rma,
                "order": rma.order,
                "lines": [(line, line.reason.label(language)) for line in rma.lines.all()],
                "qr": mark_safe(qr_svg(rma.number)),  # noqa: S308 - segno's own SVG of our own number
                "printed_at": timezone.now(),
            },
        )


def render_slip_pdf(rma: Return, *, language: str | None = None) -> bytes:
    # Loaded on first use: WeasyPrint brings in Pango and fonts, which only the processes that print need.
    from weasyprint import HTML

    return HTML(string=render_slip_html(rma, language=language)).write_pdf()
