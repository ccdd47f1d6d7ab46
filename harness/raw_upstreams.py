"""Upstreams that misbehave on a real socket, as no Flask app can: they never answer,
trickle, send garbage or an endless body."""

import contextlib
import json
import socketserver
import threading
import time
from collections.abc import Callable, Iterator

Behaviour = Callable[[socketserver.BaseRequestHandler], None]


@contextlib.contextmanager
def raw_upstream(behaviour: Behaviour) -> Iterator[str]:
    """Run `behaviour` for each request on a local port; yields the base URL."""

    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            self.request.settimeout(30)  # never outlive a test by much
            with contextlib.suppress(OSError):
                _read_request_head(self.request)
                behaviour(self)

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _read_request_head(sock) -> None:
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed before the request ended")
        head += chunk


def never_answers(handler) -> None:
    handler.request.recv(1)  # until the client gives up and closes


def trickles(handler) -> None:
    """A valid answer, one byte every 50 ms: each byte comes well within a timeout."""
    handler.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
    for _ in range(1000):
        handler.request.sendall(b" ")
        time.sleep(0.05)


def answers(status: int, body: bytes, content_type: str = "application/json") -> Behaviour:
    def answer(handler) -> None:
        head = (
            f"HTTP/1.1 {status} Whatever\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        handler.request.sendall(head.encode() + body)

    return answer


def answers_json(status: int, document: object) -> Behaviour:
    return answers(status, json.dumps(document).encode())  # allow_nan: NaN goes through


def sends_garbage(handler) -> None:
    handler.request.sendall(b"\x00\xffSSH-2.0-nonsense\r\n\r\n")


def sends_a_huge_body(handler) -> None:
    """Announces 200 MB and sends them until the client hangs up."""
    handler.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 200000000\r\n\r\n")
    chunk = b"0" * 65536
    for _ in range(200_000_000 // len(chunk)):
        handler.request.sendall(chunk)


def answers_json_after(seconds: float, document: object) -> Behaviour:
    def answer(handler) -> None:
        time.sleep(seconds)
        answers_json(200, document)(handler)

    return answer
