"""Driving the running services as a learner's browser would, from a test or a benchmark."""

import re
import socket

import requests
from opentelemetry.instrumentation.utils import suppress_instrumentation

from common.services import SERVICES


def free_ports() -> dict[str, int]:
    """A free local port for each service, so tests never clash with `make run`."""
    sockets = [socket.socket() for _ in SERVICES]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = {s.name: sock.getsockname()[1] for s, sock in zip(SERVICES, sockets, strict=True)}
    for sock in sockets:
        sock.close()
    return ports


def submit(frontend_url: str, location: str = "Paris") -> requests.Response:
    """Submit the form as a browser would: without trace context of its own.

    (The test process is instrumented too, for the in-process tests.)
    """
    with suppress_instrumentation():
        return requests.post(frontend_url, data={"location": location}, timeout=30)


def trace_id_of(response: requests.Response) -> str:
    """The trace id the page shows, as 32 hex digits."""
    return re.search(r'id="trace-id">([0-9a-f]{32})<', response.text).group(1)
