"""The home of returns (RMA): requests with their lines and reasons, the return policy, the lifecycle and the
printable slip; receipt with disposition, refunds and exchanges build on them.

On the top layer with fulfilment and reporting, beside them and independent of them; builds on orders, channels
and inventory through their services, selectors and models.
"""
