"""How many units an order line may ask for: one bound for the API, the phone-order page and the services.

Beyond the upper bound the database would refuse the number and a page would fail instead of answering; a line
of zero units is not a line.
"""
MIN_LINE_QUANTITY = 1
MAX_LINE_QUANTITY = 100_000
