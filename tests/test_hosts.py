"""Any Host header, on every service: served, or a 400 in the service's format; never a
500. (Werkzeug and the Flask instrumentation fail on some hosts; common/http.py's guard
refuses them first, using common.security.valid_host.)"""

import json
import socket

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import iss_distance
import webapp
from common.http import BAD_HOST
from common.security import valid_host

SERVED = [
    "localhost", "localhost:8080", "127.0.0.1", "127.0.0.1:8080", "[::1]", "[::1]:8080",
    "frontend", "iss-distance-service:8083", "example.com.", "xn--bcher-kva.example",
    "a" * 63 + ".example", "under_score", "",
]  # fmt: skip
REFUSED = [
    "a" * 64, "a" * 64 + ".example", "a..b", ".", "..", "xn--a", "XN--A.example", "xn--",
    "-leading", "trailing-", "a b", "\xff", "host:", "host:99999", "host:port", "host:1:2",
    "[zz]", "[::1", "[::1]x", "a/b", "a@b", "a%2eb", "." * 300, ("a." * 127) + "bc",
]  # fmt: skip


def get_with_host(address, host: str | None) -> tuple[int, bytes]:
    """GET /healthz with this Host header (none at all for None), on a raw socket."""
    host_line = b"" if host is None else b"Host: " + host.encode("latin-1") + b"\r\n"
    request = b"GET /healthz HTTP/1.1\r\n" + host_line + b"Connection: close\r\n\r\n"
    answer = b""
    with socket.create_connection(address, timeout=5) as sock:
        sock.sendall(request)
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


@pytest.mark.parametrize("service", ["frontend", "gateway", "geolocator", "iss"])
@pytest.mark.parametrize("host", SERVED + [None])
def test_a_valid_host_is_served(services_under_waitress, service, host):
    status, body = get_with_host(services_under_waitress[service], host)

    assert (status, json.loads(body)) == (200, {"status": "ok"})


@pytest.mark.parametrize("service", ["frontend", "gateway", "geolocator", "iss"])
@pytest.mark.parametrize("host", REFUSED)
def test_an_invalid_host_gets_a_400_in_the_services_format(services_under_waitress, service, host):
    status, body = get_with_host(services_under_waitress[service], host)

    assert status == 400
    if service == "frontend":
        assert f'<p class="error" role="alert">{BAD_HOST}</p>'.encode() in body
    else:
        assert json.loads(body) == {"error": BAD_HOST}


# Host headers as an attacker would write them: mostly host-like, sometimes anything
# (but a line break, which would end the header; waitress strips spaces and tabs).
HOST_CHARACTERS = st.sampled_from("abcxXnN-_.:[]019") | st.characters(
    max_codepoint=0xFF, exclude_characters="\r\n"
)
HOSTS = st.text(HOST_CHARACTERS, max_size=80).map(lambda host: host.strip(" \t")) | st.builds(
    "{}.{}".format, st.text("ax-n", min_size=1, max_size=70), st.sampled_from(["", "example"])
)


@settings(max_examples=300, deadline=None)
@given(host=HOSTS)
def test_any_host_is_served_or_refused_never_a_500(services_under_waitress, host):
    # On a real socket: Werkzeug's test client itself fails on some of these hosts.
    for service in ("frontend", "iss"):
        status, _ = get_with_host(services_under_waitress[service], host)

        assert status == (200 if valid_host(host) else 400)


_frontend = webapp.create_app()
_iss = iss_distance.create_app({"OFFLINE": True})


LATIN_1 = st.text(st.characters(max_codepoint=0xFF), max_size=60)  # what WSGI strings hold


@settings(max_examples=300, deadline=None)
@given(path=LATIN_1, query=LATIN_1, cookie=LATIN_1, accept=LATIN_1, method=st.sampled_from(
    ["GET", "POST", "HEAD", "OPTIONS", "PUT", "TRACE", "BREW"]))  # fmt: skip
def test_any_path_query_or_header_is_never_a_500(path, query, cookie, accept, method):
    environ = {
        "REQUEST_METHOD": method, "PATH_INFO": "/" + path, "QUERY_STRING": query,
        "HTTP_COOKIE": cookie, "HTTP_ACCEPT": accept, "HTTP_TRACEPARENT": accept,
    }  # fmt: skip
    for app in (_frontend, _iss):
        assert app.test_client().open(environ_overrides=environ).status_code < 500
