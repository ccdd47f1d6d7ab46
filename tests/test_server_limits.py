"""The server's own limits (common/server.py), on real sockets: what waitress refuses
is answered in the service's format, and idle or stuck clients cannot lock anyone out."""

import contextlib
import socket
import time

import pytest
import requests

import iss_distance
import webapp
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
    pytest.param(
        b"GET / HTTP/1.1\r\nHost x\r\n\r\n", 400, "The request is malformed.", id="no-colon"
    ),
    pytest.param(b"\x16\x03\x01\x02\x00\r\n\r\n", 400, "The request is malformed.", id="tls-hello"),
]


@pytest.mark.parametrize(("request_bytes", "status", "message"), REFUSED_BY_THE_SERVER)
def test_what_the_server_refuses_is_json_in_a_backend(
    serve_with_waitress, request_bytes, status, message
):
    address = serve_with_waitress(iss_distance.create_app({"OFFLINE": True}))

    head, _, body = exchange(address, request_bytes).partition(b"\r\n\r\n")

    assert head.split()[1] == str(status).encode()
    assert b"Content-Type: application/json" in head
    assert body == b'{"error":"%s"}\n' % message.encode()


@pytest.mark.parametrize(("request_bytes", "status", "message"), REFUSED_BY_THE_SERVER)
def test_what_the_server_refuses_is_the_page_in_the_frontend(
    serve_with_waitress, request_bytes, status, message
):
    address = serve_with_waitress(webapp.create_app())

    head, _, body = exchange(address, request_bytes).partition(b"\r\n\r\n")

    assert head.split()[1] == str(status).encode()
    assert b"Content-Type: text/html" in head
    assert f'<p class="error" role="alert">{message}</p>'.encode() in body


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
