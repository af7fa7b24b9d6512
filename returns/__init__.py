"""The home of returns (RMA): lines, reasons, inspection and disposition, refunds, exchanges. So far it holds only
its URL modules.

On the top layer with fulfilment and reporting, beside them and independent of them; builds on orders, channels
and inventory through their services and selectors.
"""
