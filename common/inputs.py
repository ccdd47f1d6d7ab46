"""Strict parsing of what users send. Python's float() is too lenient for input:
it takes "4_5" as 45, "nan", and digits of any script ("٤٥")."""

import math
import re
import unicodedata

MAX_PLACE_NAME_CHARACTERS = 200
# UTF-8 needs up to 4 bytes a character; this bound keeps a name's size bounded too.
MAX_PLACE_NAME_BYTES = 400

# Sign, ASCII digits, a decimal point and an exponent: nothing else.
_DECIMAL = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]{1,3})?", re.ASCII)


class InvalidInputError(ValueError):
    """Input we refuse, with a message fit to show to the user."""


def coordinate(raw: str, name: str, limit: float) -> float:
    """`raw` as a plain decimal number from -limit to limit."""
    raw = raw.strip()
    if not raw:
        raise InvalidInputError(f"'{name}' is required.")
    if not _DECIMAL.fullmatch(raw):
        raise InvalidInputError(f"'{name}' must be a decimal number, such as 48.85.")
    value = float(raw)
    if not math.isfinite(value) or abs(value) > limit:
        raise InvalidInputError(f"'{name}' must be between -{limit} and {limit}.")
    return value


def place_name(raw: str) -> str:
    """`raw` as a place name: some text, not too long, without control characters."""
    name = raw.strip()
    if not name:
        raise InvalidInputError("Give a place name, for example Paris.")
    if len(name) > MAX_PLACE_NAME_CHARACTERS:
        raise InvalidInputError(f"A place name has at most {MAX_PLACE_NAME_CHARACTERS} characters.")
    if len(name.encode("utf-8", "surrogatepass")) > MAX_PLACE_NAME_BYTES:
        raise InvalidInputError(f"A place name has at most {MAX_PLACE_NAME_BYTES} bytes.")
    # Control characters (Cc: tabs, newlines, NUL, escapes) and unpaired surrogates (Cs).
    if any(unicodedata.category(c) in {"Cc", "Cs"} for c in name):
        raise InvalidInputError("A place name cannot contain control characters.")
    return name
