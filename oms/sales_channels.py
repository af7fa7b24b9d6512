"""A tenant's sales channels, as the layers below the channels app reach them.

The channels app sits above inventory and oms, which never import it. Where they must find a channel (a caller
naming the channel it acts for, a low-stock rule over a channel's pool, an API key bound to a channel), they ask
here; the channels app registers its channels when Django starts (channels.apps). What comes back is the channel
itself: the lower layers read its fields and its pool, and change it only through the channels app.
"""

from oms.models import Tenant

_channels_of = None


def register(channels_of) -> None:
    """`channels_of(tenant)`: a queryset of the tenant's channels."""
    global _channels_of
    _channels_of = channels_of


def channels_of(tenant):
    """The tenant's channels (a queryset)."""
    if _channels_of is None:
        raise RuntimeError("No sales channels registered: is the channels app installed?")
    return _channels_of(tenant)


def find_channel(*, tenant: Tenant, code: str):
    """The tenant's channel with this code, or None."""
    return channels_of(tenant).filter(code=code).first()
