"""The room's read-only view of the platform: `ROOM=1 ROOM_VIEWS=1 make stack`, or under
Docker the `room-view` container of docker-compose.room.yml.

In room mode the backends stay on 127.0.0.1, since anyone who reaches them could change
them (delete series, reload, write). This front listens on one port of the room's network
address and passes on to them only what reads: their web UIs and query APIs. Each backend
is one entry of VIEWS, with the requests it may be asked:

- `read`: the paths of its UI and query API, for GET and HEAD;
- `query`: the paths its UI sends queries to with POST (a form body, never a write).

Anything else is refused with 403 before it reaches a backend: admin, delete, reload and
write paths, OTLP, remote write, debugging. It is an allow-list: a path the table does not
name is refused. The backends' paths do not overlap, so each UI works at the front's root
as it does on its own port, and a look-at link takes the room's address unchanged.

Under Docker the same front runs in a container of its own (docker_views(): the same
allow-list for Prometheus, and each trace in Grafana), so that a learner gives the same
ROOM_URL either way. It needs nothing but Python's standard library.

Every wait has a deadline, a response streams through in pieces, the number of requests at
once is bounded, and an answer of the front's own never repeats what the request said.
"""

import html
import os
import re
import signal
import socket
import threading
import time
from dataclasses import dataclass, replace
from http import HTTPStatus
from http.client import HTTPConnection, HTTPException
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, urlsplit

PORT = 8000  # on the room's network address; the learners' ROOM_URL is http://<address>:8000


def one_of(*names: str) -> str:
    return "(" + "|".join(names) + ")"


FILES = r"(/[\w.-]+)*/?"  # a UI's pages and files: names between single slashes
HEX_ID = "[0-9a-f]{1,32}"
# The pages of Prometheus' own web UI, as its server names them (web/web.go), and the API
# it reads; the PromQL editor POSTs its queries, label names and series.
PROMETHEUS_PAGES = one_of(
    "query", "graph", "alerts", "rules", "targets", "tsdb-status", "status", "flags", "config",
    "service-discovery", "alertmanager-discovery",
)  # fmt: skip
PROMETHEUS_QUERIES = one_of(
    "query", "query_range", "query_exemplars", "series", "labels", "format_query", "parse_query"
)
PROMETHEUS_READS = one_of(
    PROMETHEUS_QUERIES, r"label/\w+/values", "metadata", "targets", "targets/metadata", "rules",
    "alerts", "alertmanagers", "scrape_pools", "notifications", "notifications/live", "features",
    "status/" + one_of("buildinfo", "runtimeinfo", "flags", "config", "tsdb", "walreplay"),
)  # fmt: skip
# VictoriaLogs' LogsQL API (app/vlselect/main.go); vmui POSTs its queries as forms.
LOGSQL = one_of(
    "query", "hits", "facets", "field_names", "field_values", "stream_field_names",
    "stream_field_values", "streams", "stream_ids", "stats_query", "stats_query_range",
    "query_time_range", "tail",
)  # fmt: skip
# Jaeger's query API, v2 (its UI's) and v3 (OTLP JSON); its POST /api/archive writes.
JAEGER_READS = one_of(
    "services", r"services/[\w.-]+/operations", "operations", "traces", f"traces/{HEX_ID}",
    "dependencies", "v3/" + one_of("services", "operations", "traces", f"traces/{HEX_ID}"),
)  # fmt: skip


@dataclass(frozen=True)
class View:
    """One backend as the room sees it, or a UI the front only links to and passes
    nothing on to (no `read`): Grafana under Docker, on a port of its own."""

    name: str  # as in native/run_stack.py's PORTS
    upstream: str  # where it listens: on 127.0.0.1, or in the compose network
    read: str  # a regex of the paths it may be asked with GET or HEAD; "" for none
    query: str = ""  # a regex of the paths its UI POSTs queries to, or none
    home: str = ""  # where its UI starts, linked from the front's own page
    # Its page for one trace, if it has one: "{trace_id}" in it, and "{host}" for the
    # address the client reached the front at, for a UI on another port of that machine.
    trace_page: str = ""


PROMETHEUS = View("prometheus", "http://127.0.0.1:9090",
    read=f"/{PROMETHEUS_PAGES}|/assets{FILES}|/favicon\\.(svg|ico)|/manifest\\.json"
         f"|/-/(ready|healthy)|/api/v1/{PROMETHEUS_READS}",
    query=f"/api/v1/{PROMETHEUS_QUERIES}", home="/query")  # fmt: skip
# The native platform's backends (native/run_stack.py).
VIEWS = [
    PROMETHEUS,
    View("victoria-logs", "http://127.0.0.1:9428",
         read=f"/select/vmui{FILES}|/select/logsql/{LOGSQL}|/select/(buildinfo|tenant_ids)|/health",
         query=f"/select/logsql/{LOGSQL}", home="/select/vmui/"),
    View("zipkin", "http://127.0.0.1:9411", read=f"/zipkin{FILES}", home="/zipkin/", trace_page="/zipkin/traces/{trace_id}"),  # noqa: E501
    View("jaeger", "http://127.0.0.1:16686", read=f"/api/{JAEGER_READS}", trace_page="/api/traces/{trace_id}"),  # noqa: E501
]  # fmt: skip


def docker_views(environ=os.environ) -> list[View]:
    """The views under Docker, from the environment docker-compose.room.yml gives the
    container: Prometheus' UI and queries, with the allow-list above, at PROMETHEUS_URL
    (its address in the compose network). Tempo, the trace store, answers only Grafana,
    and Grafana is shared with the room read-only, on its own port: a trace link leads
    there, to TRACE_PAGE (Grafana's Explore, showing the trace)."""
    return [
        replace(PROMETHEUS, upstream=environ["PROMETHEUS_URL"]),
        View("grafana", upstream="", read="", home=environ["GRAFANA_URL"],
             trace_page=environ["TRACE_PAGE"]),
    ]  # fmt: skip


# What each UI shows, on the front's own page.
WHAT = {
    "prometheus": "Prometheus: the metrics (PromQL), the alerts and the rules",
    "victoria-logs": "VictoriaLogs: the logs (LogsQL)",
    "zipkin": "Zipkin: the traces, as waterfalls",
    "grafana": "Grafana: the dashboard, and the traces and logs in Explore",
}

READ_METHODS = {"GET", "HEAD"}
FORM = "application/x-www-form-urlencoded"
MAX_QUERY_BODY = 64 * 1024  # a PromQL or LogsQL query in a form: far less
# Connections at once, each with a thread: a browser keeps up to 6 open, and a room may
# hold 60 learners. More wait outside, in the listening socket's queue.
MAX_CONNECTIONS = 400
CLIENT_TIMEOUT = 10  # s, for a client to send its request (or its next one), or take a piece
UPSTREAM_TIMEOUT = 30  # s, for a backend to connect, or send the next piece of its answer
RESPONSE_DEADLINE = 300  # s, for a whole answer: a live tail or event stream then reconnects
PIECE = 64 * 1024
TRACE_ID = re.compile(r"/trace/([0-9a-f]{32})")
# A Host header: a name or an IPv4 address, or an IPv6 one in brackets, and perhaps a
# port. Nothing else goes into a redirect.
HOST_HEADER = re.compile(r"([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?")
# What a Location holds as it is (RFC 3986's reserved and unreserved characters, and '%');
# the rest, such as the quotes and braces of Grafana's Explore state, is percent-encoded.
URL_CHARACTERS = ":/?#[]@!$&'()*+,;=%-._~"
# A request's target as a browser sends it: a path and a query, printable ASCII, no
# spaces (no absolute URL, no control character for a backend to read its own way).
TARGET = re.compile(r"/[!-~]*")

# Headers that describe a connection, not the content: never passed on (RFC 9110, 7.6.1).
HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
    "te", "trailer", "transfer-encoding", "upgrade",
}  # fmt: skip
# What a browser or a check may tell a backend: the rest (cookies, tenants, auth) stays here.
PASSED_ON = [
    "Accept", "Accept-Encoding", "Accept-Language", "Cache-Control", "Content-Type",
    "If-Modified-Since", "If-None-Match", "Last-Event-ID", "Range", "User-Agent",
]  # fmt: skip
REFUSED = (
    "Refused: the room's view of the platform is read-only. It passes on only the web UIs "
    "and the queries of Prometheus, the trace store and VictoriaLogs.\n"
)


def is_plain_path(path: str) -> bool:
    """A path with nothing a backend could read differently from the allow-list: ASCII
    names between single slashes, no dot segments, no percent-encoding."""
    if not path.isascii() or "%" in path or "\\" in path or "//" in path:
        return False
    return not {".", ".."} & set(path.split("/"))


def route(views: list[View], method: str, path: str) -> View | None:
    """The view that may answer this request, or None when it must be refused."""
    if not is_plain_path(path):
        return None
    for view in views:
        if not view.read:  # a UI the front only links to, on a port of its own
            continue
        if method in READ_METHODS and re.fullmatch(view.read, path):
            return view
        if method == "POST" and view.query and re.fullmatch(view.query, path):
            return view
    return None


def host_of(header: str) -> str | None:
    """The host of a request's Host header, without its port: where the client reached
    the front. None when it is missing or not a plain name or address."""
    match = HOST_HEADER.fullmatch(header)
    return match[1] if match else None


def at_host(template: str, host: str, trace_id: str = "") -> str:
    """A view's page, on the host the client reached the front at."""
    url = template.replace("{host}", host).replace("{trace_id}", trace_id)
    return quote(url, safe=URL_CHARACTERS)


def index_page(views: list[View], host: str) -> bytes:
    """The front's own page: a link to each UI that runs."""
    items = "".join(
        f'<li><a href="{html.escape(at_host(view.home, host))}">'
        f"{html.escape(WHAT[view.name])}</a></li>"
        for view in views
        if view.home
    )
    return (
        '<!doctype html><html lang="en"><meta charset="utf-8">'
        "<title>The workshop platform, read-only</title>"
        "<h1>The workshop platform, read-only</h1>"
        "<p>Everyone's workshop telemetry. Pick your name (your <code>service.namespace</code>,"
        " the label <code>service_namespace</code>) in each query.</p>"
        f"<ul>{items}</ul></html>"
    ).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, for a UI's many small requests
    server_version = "workshop-room-view"
    timeout = CLIENT_TIMEOUT  # a client that stops sending is dropped
    views: list[View] = []

    def do_GET(self) -> None:
        self.answer()

    def do_HEAD(self) -> None:
        self.answer()

    def do_POST(self) -> None:
        self.answer()

    def answer(self) -> None:
        if not TARGET.fullmatch(self.path):
            return self.refuse()
        path = self.path.partition("?")[0]
        if self.command == "GET" and (path == "/" or TRACE_ID.fullmatch(path)):
            return self.answer_own(path)
        view = route(self.views, self.command, path)
        if view is None:
            return self.refuse()
        body = b""
        if self.command == "POST":
            body = self.query_body()
            if body is None:
                return None
        self.pass_on(view, body)
        return None

    def refuse(self) -> None:
        self.send_own(HTTPStatus.FORBIDDEN, REFUSED.encode())

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own errors (a bad request line, headers too long, a method with no
        do_ method: PUT, DELETE, ...), as fixed text: the default page repeats the request."""
        if code == HTTPStatus.NOT_IMPLEMENTED:  # a method the front never passes on
            return self.refuse()
        self.close_connection = True
        self.send_own(HTTPStatus(code), f"{code} {HTTPStatus(code).phrase}\n".encode())
        return None

    def query_body(self) -> bytes | None:
        """The form of a query POST, or None once the request has been refused."""
        content_type = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        length = self.headers.get("Content-Length", "")
        if content_type != FORM or "Transfer-Encoding" in self.headers:
            self.refuse()
            return None
        if not length.isdigit() or int(length) > MAX_QUERY_BODY:
            self.send_own(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, b"A query form of 64 KiB at most.\n")
            return None
        return self.rfile.read(int(length))

    def answer_own(self, path: str) -> None:
        """The front's own page, or where a trace link leads. A UI on a port of its own
        (Grafana, under Docker) is on the machine the client reached the front at, which
        its Host header names: a client is sent on only to the host it named itself."""
        host = host_of(self.headers.get("Host", ""))
        if host is None:
            return self.send_own(HTTPStatus.BAD_REQUEST, b"The Host header names no address.\n")
        if path == "/":
            return self.send_own(HTTPStatus.OK, index_page(self.views, host), "text/html")
        return self.redirect_to_trace(TRACE_ID.fullmatch(path).group(1), host)

    def redirect_to_trace(self, trace_id: str, host: str) -> None:
        """/trace/<id>: the trace's page in the first trace store that runs (a learner's
        link works whichever one the facilitator has)."""
        for view in self.views:
            if view.trace_page:
                self.send_response(HTTPStatus.FOUND)
                self.send_header("Location", at_host(view.trace_page, host, trace_id))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        self.send_own(HTTPStatus.NOT_FOUND, b"No trace store runs on this platform.\n")

    def pass_on(self, view: View, body: bytes) -> None:
        upstream = urlsplit(view.upstream)
        connection = HTTPConnection(upstream.hostname, upstream.port, timeout=UPSTREAM_TIMEOUT)
        headers = {name: self.headers[name] for name in PASSED_ON if name in self.headers}
        if self.command == "POST":
            headers["Content-Length"] = str(len(body))
        try:
            connection.request(self.command, self.path, body=body or None, headers=headers)
            response = connection.getresponse()
        except (OSError, HTTPException):
            connection.close()
            return self.send_own(HTTPStatus.BAD_GATEWAY, f"{view.name} does not answer.\n".encode())
        try:
            self.stream(response, view.upstream)
        finally:
            connection.close()
        return None

    def stream(self, response, upstream: str) -> None:
        """The backend's answer, piece by piece, within RESPONSE_DEADLINE."""
        self.send_response(response.status, response.reason)
        length = response.getheader("Content-Length")
        for name, value in response.getheaders():
            if name.lower() == "location" and value.startswith(upstream):
                value = value[len(upstream) :] or "/"  # the backend's own address: not ours
            if name.lower() not in HOP_BY_HOP | {"set-cookie"}:
                self.send_header(name, value)
        has_body = self.command != "HEAD" and response.status not in (204, 304)
        chunked = has_body and length is None and self.request_version == "HTTP/1.1"
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        elif has_body and length is None:
            self.close_connection = True  # an HTTP/1.0 client: the end of the answer ends it
        self.end_headers()
        if self.command == "HEAD":
            return
        deadline = time.monotonic() + RESPONSE_DEADLINE
        try:
            while piece := response.read1(PIECE):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
                if time.monotonic() > deadline:
                    self.close_connection = True  # cut short: the client sees it end
                    return
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
        except (OSError, HTTPException):
            self.close_connection = True  # either side went away, or took too long

    def send_own(self, status: HTTPStatus, body: bytes, content_type: str = "text/plain") -> None:
        """An answer from the front itself: fixed text, nothing from the request in it."""
        self.send_response(status)
        self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format, *args) -> None:  # noqa: A002 (the base class's name)
        pass  # a room's requests would drown the platform's terminal


class Front(ThreadingHTTPServer):
    """A thread per connection, at most MAX_CONNECTIONS of them."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], views: list[View]):
        self.slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        handler = type("RoomHandler", (Handler,), {"views": views})
        super().__init__(address, handler)

    def process_request(self, request: socket.socket, client_address) -> None:
        if not self.slots.acquire(timeout=CLIENT_TIMEOUT):
            self.shutdown_request(request)  # busy for too long: drop it, the client retries
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()


def start(address: str, running: set[str], port: int = PORT) -> Front:
    """Serve the views of the backends that run, in a thread; front.shutdown() stops it."""
    front = Front((address, port), [view for view in VIEWS if view.name in running])
    threading.Thread(target=front.serve_forever, name="room-view", daemon=True).start()
    return front


def main() -> None:
    """The front as a program of its own, in the container of docker-compose.room.yml: on
    every interface of the container, where compose publishes PORT."""
    front = Front(("0.0.0.0", PORT), docker_views())
    # Python as a container's first process ignores SIGTERM (docker compose stop) unless
    # told: treat it like Ctrl-C, so that the front stops at once.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    print(f"The room's read-only view, on port {PORT}.", flush=True)
    try:
        front.serve_forever()
    except KeyboardInterrupt:
        front.server_close()


if __name__ == "__main__":
    main()
