"""Request rates as written in OMS_API_THROTTLE and on an API key: `100/s`, `6000/min`, `off`."""

import re

# At least one request per period (0/s would divide by zero), at most 9 digits (the rate fits its column and a
# counter never overflows).
RATE_PATTERN = re.compile(r"^(off|[1-9][0-9]{0,8}/(s|sec|second|m|min|minute|h|hour|d|day))$")
RATE_HELP = "Use a rate like 500/s, 6000/min or 100000/day (1 to 999999999 requests), or off."


def valid_rate(rate: str) -> bool:
    return isinstance(rate, str) and bool(RATE_PATTERN.match(rate.strip().lower()))
