"""The API's JSON parser: a NUL character or an unpaired surrogate in any string or key is refused at the edge.

PostgreSQL cannot store U+0000 in text or jsonb; without this check a NUL reaching a JSON column (attributes,
metadata, addresses) fails in the database, after validation, as a server error. Refusing it once, here,
covers every endpoint and every nested value, with the JSON path of each offending value in `errors`
(`lines[0].sku`, `attributes.k`, `metadata["k\\u0000"]` for a key). An unpaired surrogate (`"\\ud800"`, legal
JSON but no character) cannot be stored either, nor even written back in an answer: it is refused the same way.
"""

import io
import json
import re

from rest_framework.parsers import JSONParser

from oms.errors import ValidationFailed

NUL = "\x00"
# JSON can carry a NUL only as the escape \u0000 (a raw control character is a parse error): a body without
# that sequence is clean and is not walked.
_ESCAPED_NUL = b"\\u0000"
# Likewise a surrogate can only come as an escape \uD800-\uDFFF; paired ones decode to one character and pass.
_ESCAPED_SURROGATE = re.compile(rb"\\u[dD][89abcdefABCDEF]")
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
MAX_REPORTED = 20
# No request of this API nests deeper than a few levels; free JSON (metadata, attributes) gets room to spare.
# Deeper bodies are refused before they reach code (serializers, json.dumps, psycopg) that recurses per level.
MAX_DEPTH = 32
VALUE_MESSAGE = "Text may not contain the NUL character (\\u0000)."
KEY_MESSAGE = "A key may not contain the NUL character (\\u0000)."
SURROGATE_MESSAGE = "Text may not contain an unpaired surrogate (\\ud800-\\udfff): it is no character."


def _member(path: str, key: str) -> str:
    if _PLAIN_KEY.match(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key)}]"


class _BadKey:
    def __init__(self, message: str):
        self.message = message


def _text_problem(text: str, nul_message: str) -> str | None:
    if NUL in text:
        return nul_message
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return SURROGATE_MESSAGE
    return None


def unstorable_text_paths(data) -> list[tuple[str, str]]:
    """[(JSON path, message)] of the strings and keys holding a NUL or an unpaired surrogate, in document order,
    at most MAX_REPORTED.

    Iterative (a deeply nested body cannot exhaust the stack); children are pushed in reverse so that they
    are visited in document order.
    """
    found = []
    stack = [("", data)]
    while stack and len(found) < MAX_REPORTED:
        where, value = stack.pop()
        if isinstance(value, _BadKey):
            found.append((where, value.message))
        elif isinstance(value, str):
            message = _text_problem(value, VALUE_MESSAGE)
            if message:
                found.append((where or "body", message))
        elif isinstance(value, dict):
            for key, item in reversed(value.items()):
                problem = _text_problem(key, KEY_MESSAGE)
                stack.append((_member(where, key), _BadKey(problem) if problem else item))
        elif isinstance(value, list):
            stack.extend((f"{where}[{index}]", value[index]) for index in range(len(value) - 1, -1, -1))
    return found


def nesting_depth(data, limit: int) -> int:
    """How deep arrays and objects nest in `data` (a scalar is 0), walked iteratively; stops once past `limit`."""
    deepest = 0
    stack = [(data, 1)]
    while stack and deepest <= limit:
        value, depth = stack.pop()
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else None
        if children is not None:
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def _too_deep() -> ValidationFailed:
    return ValidationFailed(
        f"The JSON body nests arrays and objects more than {MAX_DEPTH} levels deep.",
        errors={"body": [f"Nest arrays and objects at most {MAX_DEPTH} levels deep."]},
    )


class NulRefusingJSONParser(JSONParser):
    """JSONParser that answers 400 (problem+json, `errors` by JSON path) when any string or key holds a NUL,
    or when the body nests deeper than MAX_DEPTH."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding") or "utf-8"
        raw = stream.read()
        try:
            data = super().parse(io.BytesIO(raw), media_type, parser_context)
        except RecursionError:
            raise _too_deep() from None
        # A body with fewer brackets than the limit cannot nest past it: most bodies are not walked.
        if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH and nesting_depth(data, MAX_DEPTH) > MAX_DEPTH:
            raise _too_deep()
        if (
            encoding.lower().replace("_", "-") in ("utf-8", "utf8")
            and _ESCAPED_NUL not in raw
            and not _ESCAPED_SURROGATE.search(raw)
        ):
            return data
        found = unstorable_text_paths(data)
        if found:
            errors: dict[str, list[str]] = {}
            for where, message in found:
                errors.setdefault(where, []).append(message)
            raise ValidationFailed(
                "Text may not contain the NUL character (\\u0000) nor an unpaired surrogate.", errors=errors
            )
        return data
