"""The server's own limits (common/server.py), on real sockets: what waitress refuses
(strict framing included) is answered in the service's format with the security
headers, a refused body reaches the client as a 413, and idle or stuck clients cannot
lock anyone out."""

import contextlib
import http.client
import socket
import time

import pytest
import requests

import iss_distance
from common.security import SECURITY_HEADERS
from common.server import SETTINGS

IDLE_CONNECTIONS = 150  # more than waitress's default limit of 100


def exchange(address: tuple[str, int], data: bytes) -> bytes:
    """Send raw bytes, and read the answer until the server closes the connection."""
    answer = b""
    with socket.create_connection(address, timeout=5) as sock:
        sock.sendall(data)
        # A server that answers before reading all we sent then resets the connection.
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                answer += chunk
    return answer


MALFORMED = "The request is malformed."
OLD_OR_NEW_HTTP = "Only HTTP/1.0 and HTTP/1.1 are spoken here."

REFUSED_BY_THE_SERVER = [
    pytest.param(
        b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20_000 + b"\r\n\r\n",
        431,
        "The request headers are bigger than 16384 bytes.",
        id="headers-too-big",
    ),
    pytest.param(
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n",
        413,
        "The request body is bigger than 16384 bytes.",
        id="body-too-big",
    ),
    pytest.param(b"GET / HTTP/1.1\r\nHost x\r\n\r\n", 400, MALFORMED, id="no-colon"),
    pytest.param(b"\x16\x03\x01\x02\x00\r\n\r\n", 400, MALFORMED, id="tls-hello"),
    # Framing that a proxy and this server could read differently (request smuggling).
    pytest.param(
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked"
        b"\r\n\r\n0\r\n\r\n",
        400,
        MALFORMED,
        id="content-length-and-transfer-encoding",
    ),
    pytest.param(
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
        400,
        MALFORMED,
        id="unknown-transfer-coding",
    ),
    pytest.param(
        b"POST / HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        400,
        MALFORMED,
        id="transfer-encoding-in-http-1.0",
    ),
    pytest.param(b"GET / HTTP/9.9\r\nHost: x\r\n\r\n", 505, OLD_OR_NEW_HTTP, id="http-9.9"),
    pytest.param(b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505, OLD_OR_NEW_HTTP, id="http-2.0"),
    pytest.param(b"GET /\r\nHost: x\r\n\r\n", 505, OLD_OR_NEW_HTTP, id="http-0.9"),
    # Bytes that are not UTF-8, which Werkzeug would fail to decode: waitress refuses
    # them first (and common/http.py's guard, under any other server).
    pytest.param(
        b"GET /?location=\x80 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        400,
        MALFORMED,
        id="query-not-utf-8",
    ),
    # What the app itself refuses, for the security headers' sake.
    pytest.param(
        b"GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        404,
        "There is nothing at this address.",
        id="app-404",
    ),
    pytest.param(
        b"GET /crash HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        500,
        "Something went wrong on our side.",
        id="app-500",
    ),
]


def parse(answer: bytes) -> tuple[int, dict[str, str], bytes]:
    """An answer read off the socket, as (status, headers, body)."""
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    return int(status_line.split()[1]), dict(line.split(": ", 1) for line in lines), body


def assert_in_the_services_format(service, answer, status: int, message: str):
    got_status, headers, body = answer
    assert got_status == status
    if service == "frontend":
        assert headers["Content-Type"].startswith("text/html")
        assert f'<p class="error" role="alert">{message}</p>'.encode() in body
    else:
        assert headers["Content-Type"] == "application/json"
        assert body == b'{"error":"%s"}\n' % message.encode()
    assert SECURITY_HEADERS.items() <= headers.items()


@pytest.mark.parametrize("service", ["frontend", "gateway", "geolocator", "iss"])
@pytest.mark.parametrize(("request_bytes", "status", "message"), REFUSED_BY_THE_SERVER)
def test_what_the_server_refuses_is_in_the_services_format_with_security_headers(
    services_under_waitress, service, request_bytes, status, message
):
    answer = parse(exchange(services_under_waitress[service], request_bytes))

    assert_in_the_services_format(service, answer, status, message)


@pytest.mark.parametrize("service", ["frontend", "iss"])
def test_a_refused_body_reaches_a_client_that_sends_it_all_as_a_413(
    services_under_waitress, service
):
    # Python's http.client sends the whole body before it reads the answer, with no
    # "Expect: 100-continue", as browsers do: the 413 must survive the 20 MB.
    connection = http.client.HTTPConnection(*services_under_waitress[service], timeout=10)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    try:
        connection.request("POST", "/", body=b"x" * 20_000_000, headers=form)
        response = connection.getresponse()
        answer = response.status, dict(response.headers), response.read()
    finally:
        connection.close()

    assert_in_the_services_format(
        service, answer, 413, "The request body is bigger than 16384 bytes."
    )


def test_idle_connections_cannot_lock_out_the_next_user(serve_with_waitress):
    host, port = serve_with_waitress(iss_distance.create_app({"OFFLINE": True}))
    idle = []
    try:
        for number in range(IDLE_CONNECTIONS):
            sock = socket.create_connection((host, port), timeout=5)
            # Half-sent requests, and one with bare LF line ends that never completes.
            ending = b"\n\n" if number == 0 else b"\r\n"
            sock.sendall(b"GET / HTTP/1.1" + ending + b"Host: x" + ending)
            idle.append(sock)

        started = time.monotonic()
        response = requests.get(f"http://{host}:{port}/?latitude=1&longitude=2", timeout=5)
        assert response.status_code == 200
        assert time.monotonic() - started < 1

        # And the server drops them all once they have idled for channel_timeout.
        deadline = SETTINGS["channel_timeout"] + 2 * SETTINGS["cleanup_interval"] + 1
        for sock in idle:
            sock.settimeout(max(0.01, deadline - (time.monotonic() - started)))
            assert sock.recv(1) == b""  # closed by the server; a timeout fails the test
    finally:
        for sock in idle:
            sock.close()
