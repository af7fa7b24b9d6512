"""How product SKUs and location/channel codes are written: one rule for the services that check them and the
API fields (and OpenAPI schema) that describe them. Patterns are written so that ECMAScript reads them as Python
does (matched whole, with fullmatch)."""

import re

SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,63}$"
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,39}$"
# A GTIN's length (or none); its check digit is verified by inventory.services.gtin_is_valid.
BARCODE_PATTERN = r"^([0-9]{8}|[0-9]{12,14})?$"
SKU_HELP = "Use 1 to 64 letters, digits, dots, hyphens or underscores, starting with a letter or digit."
CODE_HELP = "Use 1 to 40 letters, digits, hyphens or underscores, starting with a letter or digit."


def is_sku(text) -> bool:
    return isinstance(text, str) and re.fullmatch(SKU_PATTERN, text) is not None


def is_code(text) -> bool:
    return isinstance(text, str) and re.fullmatch(CODE_PATTERN, text) is not None
