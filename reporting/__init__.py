"""The home of reporting: the KPI tables per tenant, day, channel and location (rebuilt from the source rows by the
reporting queue), the KPI API, the managers' dashboards with their CSV downloads, and the weekly digest.

On the top layer with fulfilment and returns, beside them and independent of them; reads the tables below with its
own set-based SQL (reporting/sql.py). Satisfaction responses live with the orders (orders.models.Feedback).
"""
