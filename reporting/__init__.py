"""The home of reporting: KPI aggregates per tenant, channel and location, dashboards, CSV export, satisfaction
responses. So far it holds only its URL modules.

On the top layer with fulfilment and returns, beside them and independent of them; reads the apps below through
their selectors and the events of the outbox.
"""
