"""What the inventory app tells the apps above it, which it may not import.

Both are sent inside the transfer's transaction, the transfer row locked, with `tenant`, `transfer` and `actor`:

- `transfer_shipping`, before the units leave the source (its `transfer_out` movements): units the source holds
  reserved for what the transfer carries must be released first (fulfilment: a pickup order's units on their way
  to its store);
- `transfer_received`, once the units are in the destination's stock (its `transfer_in` movements), before anyone
  else can reserve them: fulfilment reserves there the units a pickup order awaits;
- `transfer_cancelled`, when a draft is cancelled: what was awaiting it must be routed again."""

from django.dispatch import Signal

transfer_shipping = Signal()
transfer_received = Signal()
transfer_cancelled = Signal()
