"""Bad input, service by service: each gets the right status and a clear message in
the service's format (JSON {"error": ...} for a backend, the page for the frontend),
and nothing it sent comes back unescaped."""

import html
import json

import pytest

import gateway
import geolocator
import iss_distance
import webapp
from common.inputs import BIDI_CONTROLS

MALFORMED_NUMBER = "must be a decimal number, such as 48.85."
LAT_RANGE = "'latitude' must be between -90 and 90."
LON_RANGE = "'longitude' must be between -180 and 180."
NO_NAME = "Give a place name, for example Paris."
TOO_LONG = "A place name has at most 200 characters."
TOO_MANY_BYTES = "A place name has at most 400 bytes."
CONTROL = "A place name cannot contain control characters."
BIDI = "A place name cannot contain text-direction controls."
UNKNOWN = "No place of that name is known."
LONG_QUERY = "The query string is longer than 2048 bytes."
NOT_FOUND = "There is nothing at this address."
WRONG_METHOD = "This address does not accept that method."
XSS = "<script>alert('x')</script>"


def latitude(raw: str, status: int, message: str, case: str):
    """A bad latitude (the longitude is fine), to the ISS distance service."""
    query = {"latitude": raw, "longitude": "2.35"}
    return pytest.param("iss", "GET", "/", {"query": query}, status, message, id=f"iss-{case}")


def location(service: str, raw: str, status: int, message: str, case: str):
    """A bad place name, to the geolocator, the gateway (which passes the geolocator's
    400 and 404 on) or the frontend's form."""
    method, field = ("POST", "data") if service == "frontend" else ("GET", "query")
    payload = {"location": raw}
    return pytest.param(
        service, method, "/", {field: payload}, status, message, id=f"{service}-{case}"
    )


def every_service(method: str, path: str, query: dict, status: int, message: str, case: str):
    return [
        pytest.param(
            service, method, path, {"query": query}, status, message, id=f"{service}-{case}"
        )
        for service in ("iss", "geolocator", "gateway", "frontend")
    ]


COORDINATES = [
    latitude("", 400, "'latitude' is required.", "empty"),
    latitude("   ", 400, "'latitude' is required.", "blank"),
    latitude("4_5", 400, f"'latitude' {MALFORMED_NUMBER}", "underscore"),
    latitude("٤٥", 400, f"'latitude' {MALFORMED_NUMBER}", "arabic-indic-digits"),
    latitude("４５", 400, f"'latitude' {MALFORMED_NUMBER}", "fullwidth-digits"),
    latitude("½", 400, f"'latitude' {MALFORMED_NUMBER}", "vulgar-fraction"),
    latitude("0x1A", 400, f"'latitude' {MALFORMED_NUMBER}", "hexadecimal"),
    latitude("1,5", 400, f"'latitude' {MALFORMED_NUMBER}", "decimal-comma"),
    latitude("1..5", 400, f"'latitude' {MALFORMED_NUMBER}", "two-points"),
    latitude("+-1", 400, f"'latitude' {MALFORMED_NUMBER}", "two-signs"),
    latitude("1e", 400, f"'latitude' {MALFORMED_NUMBER}", "bare-exponent"),
    latitude("e5", 400, f"'latitude' {MALFORMED_NUMBER}", "exponent-only"),
    latitude("1e1000", 400, f"'latitude' {MALFORMED_NUMBER}", "four-digit-exponent"),
    latitude("nan", 400, f"'latitude' {MALFORMED_NUMBER}", "nan"),
    latitude("-Infinity", 400, f"'latitude' {MALFORMED_NUMBER}", "infinity"),
    latitude("1 2", 400, f"'latitude' {MALFORMED_NUMBER}", "inner-space"),
    latitude("1\x00", 400, f"'latitude' {MALFORMED_NUMBER}", "nul"),
    latitude(XSS, 400, f"'latitude' {MALFORMED_NUMBER}", "markup"),
    latitude("1e999", 400, f"'latitude' {MALFORMED_NUMBER}", "overflows-to-infinity"),
    latitude("1e-400", 400, f"'latitude' {MALFORMED_NUMBER}", "underflows-to-zero"),
    latitude("4.5e1", 400, f"'latitude' {MALFORMED_NUMBER}", "exponent"),
    latitude("45.", 400, f"'latitude' {MALFORMED_NUMBER}", "trailing-point"),
    latitude(".5", 400, f"'latitude' {MALFORMED_NUMBER}", "leading-point"),
    latitude("00045", 400, f"'latitude' {MALFORMED_NUMBER}", "leading-zeros"),
    latitude("\u200345", 400, f"'latitude' {MALFORMED_NUMBER}", "leading-em-space"),
    latitude("45\u00a0", 400, f"'latitude' {MALFORMED_NUMBER}", "trailing-no-break-space"),
    latitude("1." + "0" * 16, 400, f"'latitude' {MALFORMED_NUMBER}", "16-decimals"),
    latitude("1000", 400, f"'latitude' {MALFORMED_NUMBER}", "four-digit-degrees"),
    latitude("90.0001", 400, LAT_RANGE, "north-of-the-pole"),
    latitude("-91", 400, LAT_RANGE, "south-of-the-pole"),
    pytest.param("iss", "GET", "/", {"query": {"latitude": "1", "longitude": "180.01"}}, 400,
                 LON_RANGE, id="iss-longitude-out-of-range"),
    pytest.param("iss", "GET", "/", {"query": {"latitude": "1"}}, 400,
                 "'longitude' is required.", id="iss-longitude-missing"),
]  # fmt: skip

PLACE_NAMES = [
    case
    for service in ("geolocator", "gateway", "frontend")
    for case in [
        location(service, "", 400, NO_NAME, "empty"),
        location(service, " \u3000 ", 400, NO_NAME, "blank"),
        location(service, "x" * 201, 400, TOO_LONG, "201-characters"),
        location(service, "😀" * 101, 400, TOO_MANY_BYTES, "404-bytes"),
        location(service, "Paris\x00", 400, CONTROL, "nul"),
        location(service, "Paris\nLondon", 400, CONTROL, "newline"),
        location(service, "\x1b[31mParis", 400, CONTROL, "terminal-escape"),
        location(service, "Par\x7fis", 400, CONTROL, "delete"),
        location(service, "Paris\u202egnp.exe", 400, BIDI, "right-to-left-override"),
        location(service, "\u2066Paris\u2069", 400, BIDI, "isolate"),
        location(service, XSS, 404, UNKNOWN, "markup"),
    ]
]

EVERYWHERE = [
    *every_service("GET", "/nowhere", {}, 404, NOT_FOUND, "unknown-path"),
    *every_service("PUT", "/", {}, 405, WRONG_METHOD, "wrong-method"),
    *every_service("GET", "/", {"x": "y" * 3000}, 414, LONG_QUERY, "long-query"),
]


@pytest.fixture(scope="module")
def clients(serve_with_waitress):
    def url(app) -> str:
        host, port = serve_with_waitress(app)
        return f"http://{host}:{port}"

    backends = {
        "iss": iss_distance.create_app({"OFFLINE": True}),
        "geolocator": geolocator.create_app({"OFFLINE": True}),
    }
    backends["gateway"] = gateway.create_app(
        {"GEOLOCATOR_URL": url(backends["geolocator"]), "ISS_DISTANCE_URL": url(backends["iss"])}
    )
    frontend = webapp.create_app({"GATEWAY_URL": url(backends["gateway"])})
    return {name: app.test_client() for name, app in (backends | {"frontend": frontend}).items()}


@pytest.mark.parametrize(
    ("service", "method", "path", "sent", "status", "message"),
    [*COORDINATES, *PLACE_NAMES, *EVERYWHERE],
)
def test_bad_input_gets_a_clear_error_in_the_services_format(
    clients, service, method, path, sent, status, message
):
    response = clients[service].open(
        path, method=method, query_string=sent.get("query"), data=sent.get("data")
    )

    assert response.status_code == status
    text = response.get_data(as_text=True)
    if service == "frontend":
        assert response.mimetype == "text/html"
        assert f'<p class="error" role="alert">{html.escape(message)}</p>' in text
    else:
        assert response.mimetype == "application/json"
        assert json.loads(text) == {"error": message}
    # Nothing sent comes back as markup, and nothing that reorders the text around it.
    for value in {**sent.get("query", {}), **sent.get("data", {})}.values():
        if any(c in value for c in "<>\"'"):
            assert value not in text
        assert not any(c in text for c in BIDI_CONTROLS)


def test_the_table_is_big_enough():
    assert len(COORDINATES) + len(PLACE_NAMES) + len(EVERYWHERE) >= 60
