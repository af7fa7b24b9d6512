"""Request rates as written in OMS_API_THROTTLE and on an API key: `100/s`, `6000/min`, `off`."""

import re

RATE_PATTERN = re.compile(r"^(off|\d+/(s|sec|second|m|min|minute|h|hour|d|day))$")


def valid_rate(rate: str) -> bool:
    return bool(RATE_PATTERN.match((rate or "").strip().lower()))
