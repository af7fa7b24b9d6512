"""Carriers: their names and the tracking URL of a parcel. Built-in templates for the carriers French retailers
use most; a tenant adds or overrides carriers in its settings:
`{"carriers": {"acme_post": {"name": "Acme Post", "tracking_url": "https://track.example/{tracking_number}"}}}`."""

from urllib.parse import quote

BUILT_IN = {
    "colissimo": ("Colissimo", "https://www.laposte.fr/outils/suivre-vos-envois?code={tracking_number}"),
    "chronopost": (
        "Chronopost",
        "https://www.chronopost.fr/tracking-no-cms/suivi-page?listeNumerosLT={tracking_number}",
    ),
    "laposte": ("La Poste", "https://www.laposte.fr/outils/suivre-vos-envois?code={tracking_number}"),
    "dhl": ("DHL", "https://www.dhl.com/fr-fr/home/tracking.html?tracking-id={tracking_number}"),
    "ups": ("UPS", "https://www.ups.com/track?tracknum={tracking_number}"),
    "dpd": ("DPD", "https://trace.dpd.fr/fr/trace/{tracking_number}"),
    "gls": ("GLS", "https://gls-group.com/FR/fr/suivi-colis?match={tracking_number}"),
    "fedex": ("FedEx", "https://www.fedex.com/fedextrack/?trknbr={tracking_number}"),
    "mondial_relay": ("Mondial Relay", "https://www.mondialrelay.fr/suivi-de-colis?numeroExpedition={tracking_number}"),
}

DEFAULT_SLA_HOURS = 24


def _tenant_carriers(tenant) -> dict:
    configured = (tenant.settings or {}).get("carriers") if tenant is not None else None
    return configured if isinstance(configured, dict) else {}


def carrier_name(tenant, code: str) -> str:
    own = _tenant_carriers(tenant).get(code)
    if isinstance(own, dict) and own.get("name"):
        return str(own["name"])
    return BUILT_IN[code][0] if code in BUILT_IN else code


def tracking_url(tenant, code: str, tracking_numbers: list[str]) -> str:
    """The carrier's tracking page for the first parcel, or "" when the carrier has no template."""
    if not tracking_numbers:
        return ""
    own = _tenant_carriers(tenant).get(code)
    template = own.get("tracking_url") if isinstance(own, dict) else None
    if not template and code in BUILT_IN:
        template = BUILT_IN[code][1]
    if not template or "{tracking_number}" not in template:
        return ""
    return template.replace("{tracking_number}", quote(str(tracking_numbers[0]), safe=""))[:500]


def sla_hours(tenant) -> int:
    """Hours a location has from a fulfilment order's creation to its shipment (tenant setting
    `fulfillment_sla_hours`, 24 by default); the board shows each order's age against it."""
    value = (tenant.settings or {}).get("fulfillment_sla_hours") if tenant is not None else None
    return value if isinstance(value, int) and 1 <= value <= 24 * 30 else DEFAULT_SLA_HOURS
