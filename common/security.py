"""Security headers for every answer of every service, and which Host headers a
service accepts. common/http.py applies both to each app; common/server.py adds the
headers to the errors the server answers itself."""

import ipaddress
import re

SECURITY_HEADERS = {
    # Only our own stylesheet and map, nothing inline, no scripts at all; forms post
    # only back to us; no page may frame this one (clickjacking).
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    # The same for browsers that predate frame-ancestors.
    "X-Frame-Options": "DENY",
    # Browsers must trust our Content-Type, never guess another from the content.
    "X-Content-Type-Options": "nosniff",
    # The page's address (with what a user typed) is not sent to other sites.
    "Referrer-Policy": "no-referrer",
}

# A DNS label: letters, digits, hyphens (and underscores, which some container names
# have), at most 63, no hyphen at either end.
_LABEL = r"(?!-)[A-Za-z0-9_-]{1,63}(?<!-)"
_HOST_NAME = re.compile(rf"{_LABEL}(\.{_LABEL})*\.?", re.ASCII)
_PORT = re.compile(r"(:[0-9]{1,5})?", re.ASCII)
MAX_HOST_NAME_LENGTH = 253


def valid_host(host: str) -> bool:
    """Whether a Host header is a host name, an IPv4 or a [bracketed] IPv6 address, with
    or without a port. Empty is valid: HTTP/1.0 clients send none."""
    if host.startswith("["):
        address, bracket, port = host[1:].partition("]")
        return bool(bracket) and _is_ipv6(address) and _valid_port(port)
    name = host.partition(":")[0]
    return (not name or _is_host_name(name)) and _valid_port(host[len(name) :])


def _valid_port(port: str) -> bool:
    """Nothing, or a colon and a port number."""
    return _PORT.fullmatch(port) is not None and int(port[1:] or 0) <= 65535


def _is_ipv6(address: str) -> bool:
    try:
        ipaddress.IPv6Address(address)
    except ValueError:
        return False
    return True


def _is_host_name(name: str) -> bool:
    if len(name) > MAX_HOST_NAME_LENGTH or not _HOST_NAME.fullmatch(name):
        return False
    # An internationalised label ("xn--bcher-kva") must decode; Werkzeug and the
    # Flask instrumentation decode it, and fail with a 500 on one that does not.
    try:
        name.lower().encode("ascii").decode("idna")
    except UnicodeError:
        return False
    return True
