"""Room mode, on a learner's laptop: the facilitator's platform, from one address.

The facilitator's `ROOM=1 ROOM_VIEWS=1 make stack` prints the room's address, the
read-only view of their platform (native/read_only_front.py; under Docker the same front
runs in docker-compose.room.yml's room-view, on the same port). A learner gives it once:

    ROOM_URL=http://192.168.1.10:8000 LEARNER=ada make run
    ROOM_URL=http://192.168.1.10:8000 LEARNER=ada make check SECTION=3

and from it come where the services send (the collector's OTLP port on the same machine),
where the page links each trace, and which Prometheus `make check` asks. A setting given
explicitly (OTEL_EXPORTER_OTLP_ENDPOINT, TRACE_UI_URL, PROMETHEUS_URL) wins.
"""

import os
from urllib.parse import urlsplit

VARIABLE = "ROOM_URL"
OTLP_GRPC_PORT = 4317  # the collector's, on the facilitator's machine as on yours


class RoomURLError(ValueError):
    """A ROOM_URL that is not the address of a room; the message says what would be."""


def room_url(environ=os.environ) -> str | None:
    """The room's address, http://<host>:<port>, or None outside a room."""
    value = environ.get(VARIABLE, "").strip().rstrip("/")
    if not value:
        return None
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 (raises ValueError on a port that is not a number)
    except ValueError:
        parts = None
    if parts is None or parts.scheme != "http" or not parts.hostname or parts.path:
        shown = repr(value[:60])  # repr: no control characters reach the terminal
        raise RoomURLError(
            f"{VARIABLE}={shown} is not a room's address: use the one the facilitator "
            "gives out, like http://192.168.1.10:8000"
        )
    return value


def settings(environ=os.environ) -> dict[str, str]:
    """What the room's address sets, for `make run` and `make check`: none outside a room."""
    url = room_url(environ)
    if url is None:
        return {}
    return {
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://{urlsplit(url).hostname}:{OTLP_GRPC_PORT}",
        "TRACE_UI_URL": url + "/trace/{trace_id}",  # the front sends it to the trace's page
        "TRACE_UI_NAME": "the room's view",  # the page names it
        "PROMETHEUS_URL": url,  # the front passes Prometheus' query API on at the same paths
    }


def with_room(environ: dict[str, str]) -> dict[str, str]:
    """The environment, with what ROOM_URL sets wherever the environment does not say
    (a variable set empty says nothing)."""
    return {**environ, **{k: v for k, v in settings(environ).items() if not environ.get(k)}}
