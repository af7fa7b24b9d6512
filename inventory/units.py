"""How many units one stock figure may hold. Every quantity the stock columns store (on hand, reserved, a line of a
transfer or a count, an alert threshold) fits a 32-bit integer column; inputs are bounded by MAX_UNITS, and so is
any sum of several inputs before it is written (three transfer lines of the same SKU, say)."""

MAX_UNITS = 1_000_000_000
