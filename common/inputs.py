"""Strict parsing of what users send. Python's float() is too lenient for input:
it takes "4_5" as 45, "nan", "1e-400", and digits of any script ("٤٥"); str.strip()
takes any Unicode space away."""

import re
import unicodedata

MAX_PLACE_NAME_CHARACTERS = 200
# UTF-8 needs up to 4 bytes a character; this bound keeps a name's size bounded too.
MAX_PLACE_NAME_BYTES = 400

# Plain decimal form: a sign, whole degrees without leading zeros, and a fraction of at
# most 15 digits after a point. No exponent, no bare point at either end.
_DECIMAL = re.compile(r"[+-]?(0|[1-9][0-9]{0,2})(\.[0-9]{1,15})?", re.ASCII)
# What HTTP and forms count as blank around a value; not Unicode's other spaces.
_BLANK = " \t"
# Characters that reorder the text shown around them (the "Trojan Source" controls):
# embeddings, overrides and isolates. A name needs none of them.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


class InvalidInputError(ValueError):
    """Input we refuse, with a message fit to show to the user."""


def coordinate(raw: str, name: str, limit: float) -> float:
    """`raw` as a plain decimal number from -limit to limit."""
    raw = raw.strip(_BLANK)
    if not raw:
        raise InvalidInputError(f"'{name}' is required.")
    if not _DECIMAL.fullmatch(raw):
        raise InvalidInputError(f"'{name}' must be a decimal number, such as 48.85.")
    value = float(raw)
    if abs(value) > limit:
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
    if any(c in BIDI_CONTROLS for c in name):
        raise InvalidInputError("A place name cannot contain text-direction controls.")
    return name


def shown(raw: str) -> str:
    """What the user typed, fit to show back to them in the form: at most
    MAX_PLACE_NAME_CHARACTERS, without the characters place_name() refuses."""
    kept = (c for c in raw if unicodedata.category(c) not in {"Cc", "Cs"})
    return "".join(c for c in kept if c not in BIDI_CONTROLS)[:MAX_PLACE_NAME_CHARACTERS]


def plain_decimal(value: float) -> str:
    """A coordinate as coordinate() reads it back: str(0.00001) is "1e-05", which it
    refuses. Seven decimals are about a centimetre."""
    return f"{value:.7f}"
