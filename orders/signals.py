"""What the orders app tells the apps above it, which it may not import.

`order_changed` is sent inside the transaction of every committed order change (after the lines and the order
are saved), with `order`, `lines` and `kind` (the timeline kind). Fulfilment listens to keep its fulfilment
orders in step with the order's reservations: units cancelled, released or moved by a change to the order are
taken off the fulfilment orders that held them, in the same transaction."""

from django.dispatch import Signal

order_changed = Signal()
