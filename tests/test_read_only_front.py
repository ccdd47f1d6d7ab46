"""The room's read-only front (native/read_only_front.py), in front of a fake backend.

What passes (the allow-list's reads and query forms, piece by piece), what is refused
before it reaches the backend (any other method or path, tricks with dots, slashes and
percent signs, oversized forms), and that no answer of the front's own repeats the
request. tests/test_room.py runs the same front in front of the real platform.
"""

import json
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from native import read_only_front
from native.read_only_front import REFUSED, VIEWS, View, docker_views, host_of, route
from tests.readme import addresses
from tests.test_containers import ROOM_FILES, ROOT, compose_config

SAMPLE_TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"

# --- The allow-list, without a network -----------------------------------------------------

# What each backend's UI and the workshop's tools ask, as the backends' sources name it.
ALLOWED = [
    ("prometheus", "GET", "/query"),
    ("prometheus", "GET", "/alerts"),
    ("prometheus", "GET", "/assets/index-CEv-5m2S.js"),
    ("prometheus", "GET", "/api/v1/query"),
    ("prometheus", "POST", "/api/v1/query"),  # the UI's PromQL editor posts its queries
    ("prometheus", "POST", "/api/v1/labels"),
    ("prometheus", "GET", "/api/v1/label/service_namespace/values"),
    ("prometheus", "GET", "/api/v1/query_exemplars"),
    ("prometheus", "GET", "/api/v1/rules"),
    ("prometheus", "HEAD", "/-/ready"),
    ("victoria-logs", "GET", "/select/vmui/"),
    ("victoria-logs", "GET", "/select/vmui/assets/index-Ds1HKnSd.js"),
    ("victoria-logs", "POST", "/select/logsql/query"),  # vmui posts its LogsQL as a form
    ("victoria-logs", "GET", "/select/logsql/hits"),
    ("zipkin", "GET", "/zipkin/"),
    ("zipkin", "GET", "/zipkin/traces/4bf92f3577b34da6a3ce929d0e0e4736"),
    ("zipkin", "GET", "/zipkin/api/v2/trace/4bf92f3577b34da6a3ce929d0e0e4736"),
    ("jaeger", "GET", "/api/traces/4bf92f3577b34da6a3ce929d0e0e4736"),
    ("jaeger", "GET", "/api/services/frontend/operations"),
    ("jaeger", "GET", "/api/v3/traces/4bf92f3577b34da6a3ce929d0e0e4736"),
]

# Every write or admin path each backend has (or a UI could send), with the method that
# would make it act. The front must refuse each; tests/test_room.py sends them for real.
REFUSED_REQUESTS = [
    ("prometheus", "POST", "/api/v1/admin/tsdb/delete_series?match[]=up"),
    ("prometheus", "PUT", "/api/v1/admin/tsdb/delete_series?match[]=up"),
    ("prometheus", "GET", "/api/v1/admin/tsdb/delete_series?match[]=up"),
    ("prometheus", "POST", "/api/v1/admin/tsdb/clean_tombstones"),
    ("prometheus", "POST", "/api/v1/admin/tsdb/snapshot"),
    ("prometheus", "POST", "/-/reload"),
    ("prometheus", "PUT", "/-/reload"),
    ("prometheus", "POST", "/-/quit"),
    ("prometheus", "GET", "/-/quit"),
    ("prometheus", "POST", "/api/v1/write"),  # remote write
    ("prometheus", "POST", "/api/v1/otlp/v1/metrics"),  # OTLP
    ("prometheus", "GET", "/federate?match[]=up"),
    ("prometheus", "GET", "/debug/pprof/heap"),
    ("prometheus", "DELETE", "/api/v1/series"),
    ("victoria-logs", "POST", "/insert/jsonline"),
    ("victoria-logs", "POST", "/insert/opentelemetry/v1/logs"),
    ("victoria-logs", "POST", "/insert/loki/api/v1/push"),
    ("victoria-logs", "POST", "/insert/elasticsearch/_bulk"),
    ("victoria-logs", "POST", "/api/v2/logs"),  # DataDog's ingestion path
    ("victoria-logs", "POST", "/internal/insert"),
    ("victoria-logs", "GET", "/internal/force_flush"),
    ("victoria-logs", "GET", "/internal/force_merge"),
    ("victoria-logs", "GET", "/delete/run_task?filter=*"),
    ("victoria-logs", "POST", "/internal/delete/run_task"),
    ("victoria-logs", "GET", "/select/vmalert/api/v1/rules"),
    ("victoria-logs", "GET", "/debug/pprof/heap"),
    ("jaeger", "POST", "/api/archive/4bf92f3577b34da6a3ce929d0e0e4736"),
    ("jaeger", "POST", "/api/traces"),
    ("jaeger", "POST", "/api/v3/traces"),
    ("jaeger", "POST", "/v1/traces"),  # OTLP over HTTP
    ("jaeger", "DELETE", "/api/traces/4bf92f3577b34da6a3ce929d0e0e4736"),
    ("zipkin", "POST", "/api/v2/spans"),
    ("zipkin", "POST", "/zipkin/api/v2/spans"),
    ("zipkin", "PUT", "/zipkin/api/v2/spans"),
    ("zipkin", "GET", "/actuator/env"),
    ("zipkin", "GET", "/prometheus"),
    # Under Docker: Grafana's own port serves the room, read-only by its Viewer role; the
    # front passes on nothing of Grafana, Loki or Tempo.
    ("grafana", "POST", "/api/dashboards/db"),
    ("grafana", "POST", "/api/ds/query"),
    ("grafana", "DELETE", "/api/datasources/uid/prometheus"),
    ("grafana", "POST", "/api/admin/users"),
    ("loki", "POST", "/loki/api/v1/push"),
    ("loki", "POST", "/otlp/v1/logs"),
    ("loki", "POST", "/loki/api/v1/delete?query={}"),
    ("loki", "POST", "/flush"),
    ("tempo", "POST", "/otlp/v1/traces"),
    ("tempo", "GET", "/flush"),
    ("tempo", "GET", "/shutdown"),
    # Paths that a backend could read as one the allow-list does not name.
    ("paths", "GET", "/select/vmui/../../insert/jsonline"),
    ("paths", "GET", "/select/vmui/%2e%2e/%2e%2e/internal/force_flush"),
    ("paths", "GET", "/api/v1/query/../admin/tsdb/delete_series"),
    ("paths", "GET", "/zipkin/./../actuator/env"),
    ("paths", "GET", "//api/v1/write"),
    ("paths", "GET", "/api/v1//admin/tsdb/snapshot"),
    ("paths", "GET", "/zipkin/%2F..%2Factuator"),
    ("paths", "GET", "/select/vmui\\..\\..\\insert"),
    ("paths", "GET", "/api/v1/label/ä/values"),
]


@pytest.mark.parametrize(("name", "method", "path"), ALLOWED)
def test_the_allow_list_passes_on_each_uis_and_queries_paths(name, method, path):
    view = route(VIEWS, method, path)
    assert view is not None and view.name == name


@pytest.mark.parametrize(("name", "method", "path"), REFUSED_REQUESTS)
def test_the_allow_list_names_no_write_or_admin_path(name, method, path):
    assert route(VIEWS, method, path.split("?")[0]) is None


# Every native look-at address the docs give, by the port of the backend it names.
LOOK_AT = re.compile(r"http://127\.0\.0\.1:(\d+)(/[^\s)`\"'>,]*)")
PLACEHOLDER = re.compile(r"<[^/]*")  # /api/traces/<trace id>


def look_at_addresses() -> list[tuple[int, str]]:
    found = {(int(m[1]), m[2]) for m in map(LOOK_AT.fullmatch, addresses(LOOK_AT))}
    return sorted((port, PLACEHOLDER.sub(SAMPLE_TRACE_ID, path)) for port, path in found)


@pytest.mark.parametrize(("port", "path"), look_at_addresses())
def test_every_look_at_address_of_the_docs_works_through_the_front(port, path):
    """docs/facilitators.md: in a room, each takes the room's address and keeps its path."""
    backends = {urlsplit(view.upstream).port: view.name for view in VIEWS}
    if port not in backends:  # a service of the learner's own, or the collector
        return
    # What a browser asks for: the path, without the query or the #fragment (vmui's).
    view = route(VIEWS, "GET", re.split(r"[?#]", path)[0])
    assert view is not None and view.name == backends[port], path


def test_the_docs_give_look_at_addresses_of_each_backend():
    assert {9090, 9428, 16686} <= {port for port, _ in look_at_addresses()}


def test_no_two_backends_answer_the_same_path():
    """The paths are one space, each UI at the root: a path is one backend's or none."""
    for _, method, path in ALLOWED:
        assert len([view for view in VIEWS if route([view], method, path)]) == 1, path


# --- The front, in front of a fake backend -------------------------------------------------


class Backend(BaseHTTPRequestHandler):
    """Records what reaches it; /slow sends a piece, waits, then sends another."""

    protocol_version = "HTTP/1.1"
    seen: list[tuple[str, str, dict, bytes]] = []

    def do_GET(self):
        self.seen.append((self.command, self.path, dict(self.headers), b""))
        if self.path.startswith("/api/v1/slow"):
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()  # no length: the front passes it on in chunks
            self.wfile.write(b"first piece\n")
            self.wfile.flush()
            time.sleep(1.5)
            self.wfile.write(b"second piece\n")
            self.close_connection = True
            return
        if self.path.startswith("/api/v1/silent"):
            time.sleep(3)
        if self.path.startswith("/api/v1/moved"):
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.1:{self.server.server_port}/query")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b'{"status":"success"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Set-Cookie", "session=backend")
        self.end_headers()
        self.wfile.write(body)

    do_HEAD = do_GET  # noqa: N815 (http.server names its methods so)

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.seen.append((self.command, self.path, dict(self.headers), body))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format, *args):  # noqa: A002
        pass


@pytest.fixture(scope="module")
def backend():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Backend)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def nothing_seen_yet():
    Backend.seen = []


@pytest.fixture(scope="module")
def front(backend):
    """The front with one view, Prometheus' allow-list, in front of the fake backend."""
    [prometheus] = [view for view in VIEWS if view.name == "prometheus"]
    view = View("prometheus", backend, prometheus.read + "|/api/v1/(slow|silent|moved)",
                prometheus.query, home="/query", trace_page="/api/traces/{trace_id}")  # fmt: skip
    server = read_only_front.Front(("127.0.0.1", 0), [view])
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_a_read_passes_with_its_query_string_and_only_harmless_headers(front):
    response = requests.get(
        f"{front}/api/v1/query",
        params={"query": 'up{service_namespace="ada"}'},
        headers={"Accept": "application/json", "Cookie": "grafana=1", "Authorization": "x"},
        timeout=5,
    )

    assert response.status_code == 200 and response.json() == {"status": "success"}
    [(method, path, headers, _)] = Backend.seen
    assert (method, path) == ("GET", "/api/v1/query?query=up%7Bservice_namespace%3D%22ada%22%7D")
    assert headers["Accept"] == "application/json"
    assert "Cookie" not in headers and "Authorization" not in headers
    assert "Set-Cookie" not in response.headers


def test_a_query_form_passes_as_a_post(front):
    response = requests.post(f"{front}/api/v1/query", data={"query": "up"}, timeout=5)

    assert response.status_code == 200
    [(method, path, headers, body)] = Backend.seen
    assert (method, path, body) == ("POST", "/api/v1/query", b"query=up")
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "PROPFIND"])
def test_any_other_method_is_refused_and_never_reaches_the_backend(front, method):
    response = requests.request(method, f"{front}/api/v1/query", timeout=5)

    assert response.status_code == 403
    assert response.text == REFUSED
    assert Backend.seen == []


@pytest.mark.parametrize(("name", "method", "path"), REFUSED_REQUESTS)
def test_a_write_or_admin_request_is_refused_and_never_reaches_the_backend(
    front, name, method, path
):
    response = requests.request(method, f"{front}{path}", data=b"x", timeout=5)

    assert response.status_code == 403, (name, path)
    assert response.text == REFUSED
    assert Backend.seen == []


@pytest.mark.parametrize(
    "target",
    [
        b"http://127.0.0.1:9090/api/v1/write",  # an absolute URL, as to a proxy
        b"/api/v1/query?query=up\x01",  # a control character
        b"/api/v1/query?query=\xc3\xa9",  # raw UTF-8: browsers percent-encode it
        b"*",
    ],
)
def test_a_target_that_is_not_a_plain_path_and_query_is_refused(front, target):
    host, port = front.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = b"".join(iter(lambda: sock.recv(4096), b""))

    assert answer.startswith(b"HTTP/1.1 403 "), answer[:80]
    assert Backend.seen == []


def test_a_post_that_is_not_a_query_form_is_refused(front):
    as_json = requests.post(f"{front}/api/v1/query", json={"query": "up"}, timeout=5)
    too_big = requests.post(f"{front}/api/v1/query", data={"query": "x" * 70_000}, timeout=5)

    assert as_json.status_code == 403
    assert too_big.status_code == 413
    assert Backend.seen == []


def test_the_fronts_answers_never_repeat_the_request(front):
    hostile = '/<script>alert("room")</script>'
    for response in (
        requests.get(front + hostile, timeout=5),
        requests.request("BREW", front + hostile, timeout=5),
        requests.get(front + "/api/v1/query?" + "x" * 70_000, timeout=5),  # line too long
    ):
        assert response.status_code in (403, 414), response.status_code
        assert "script" not in response.text and "BREW" not in response.text
        assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_an_answer_streams_through_piece_by_piece(front):
    started = time.monotonic()
    with requests.get(f"{front}/api/v1/slow", stream=True, timeout=5) as response:
        pieces = response.iter_lines()
        first = next(pieces), time.monotonic() - started
        second = next(pieces), time.monotonic() - started

    assert first[0] == b"first piece" and first[1] < 1.0  # before the backend's pause ends
    assert second[0] == b"second piece" and second[1] >= 1.4
    assert response.headers["Transfer-Encoding"] == "chunked"


def test_a_backend_that_does_not_answer_in_time_is_a_502(front, monkeypatch):
    monkeypatch.setattr(read_only_front, "UPSTREAM_TIMEOUT", 1)
    started = time.monotonic()
    response = requests.get(f"{front}/api/v1/silent", timeout=10)

    assert response.status_code == 502
    assert response.text == "prometheus does not answer.\n"
    assert time.monotonic() - started < 2.5


def test_a_backend_that_is_down_is_a_502(closed_port_url):
    [prometheus] = [view for view in VIEWS if view.name == "prometheus"]
    down = View("prometheus", closed_port_url, prometheus.read)
    server = read_only_front.Front(("127.0.0.1", 0), [down])
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        response = requests.get(f"http://127.0.0.1:{server.server_port}/api/v1/query", timeout=5)
    finally:
        server.shutdown()
        server.server_close()
    assert response.status_code == 502


def test_a_client_that_stops_sending_is_dropped(front, monkeypatch):
    monkeypatch.setattr(read_only_front.Handler, "timeout", 1)
    host, port = front.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(b"GET /api/v1/query HTTP/1.1\r\nHost: x\r\n")  # and nothing more
        started = time.monotonic()
        assert sock.recv(1024) == b""  # closed by the front
        assert time.monotonic() - started < 3


def test_connections_at_once_are_bounded_and_one_over_the_bound_is_dropped(backend, monkeypatch):
    """With room for one connection at a time, a second one waits CLIENT_TIMEOUT, then
    is dropped unanswered; the first is served in full."""
    monkeypatch.setattr(read_only_front, "CLIENT_TIMEOUT", 0.5)
    server = read_only_front.Front(("127.0.0.1", 0), [View("p", backend, "/api/v1/silent")])
    server.slots = threading.BoundedSemaphore(1)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/api/v1/silent"
    try:
        results: list = []
        first = threading.Thread(target=lambda: results.append(requests.get(url, timeout=10)))
        first.start()
        time.sleep(0.3)  # the first holds the only slot
        with pytest.raises(requests.ConnectionError):
            requests.get(url, timeout=10)
        first.join()
    finally:
        server.shutdown()
        server.server_close()
    assert [response.status_code for response in results] == [200]


def test_a_redirect_to_the_backends_own_address_stays_on_the_front(front):
    response = requests.get(f"{front}/api/v1/moved", allow_redirects=False, timeout=5)

    assert response.status_code == 302
    assert response.headers["Location"] == "/query"


def test_a_trace_link_leads_to_the_trace_store_that_runs(front):
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    response = requests.get(f"{front}/trace/{trace_id}", allow_redirects=False, timeout=5)

    assert response.status_code == 302
    assert response.headers["Location"] == f"/api/traces/{trace_id}"
    assert requests.get(f"{front}/trace/not-an-id", timeout=5).status_code == 403


def test_the_fronts_page_links_the_uis_that_run(front):
    page = requests.get(front, timeout=5)

    assert page.status_code == 200
    assert '<a href="/query">Prometheus' in page.text
    assert "vmui" not in page.text  # VictoriaLogs is not behind this front


def test_the_front_is_started_only_for_the_backends_that_run():
    front = read_only_front.start("127.0.0.1", {"prometheus", "jaeger"}, port=0)
    try:
        names = [view.name for view in front.RequestHandlerClass.views]
    finally:
        front.shutdown()
        front.server_close()
    assert names == ["prometheus", "jaeger"]


# --- Under Docker: the room-view container of docker-compose.room.yml ----------------------


def docker_environment() -> dict[str, str]:
    """What compose gives the room-view container: its views come from these."""
    return compose_config(*ROOM_FILES)["services"]["room-view"]["environment"]


@pytest.fixture(scope="module")
def docker():
    return docker_views(docker_environment())


@pytest.mark.parametrize(("name", "method", "path"), ALLOWED)
def test_under_docker_the_allow_list_passes_on_prometheus_and_nothing_else(
    docker, name, method, path
):
    """Prometheus with the native allow-list; Tempo and Loki answer Grafana alone."""
    view = route(docker, method, path)
    assert (view.name if view else None) == (name if name == "prometheus" else None), path


@pytest.mark.parametrize(("name", "method", "path"), REFUSED_REQUESTS)
def test_under_docker_the_allow_list_names_no_write_or_admin_path(docker, name, method, path):
    assert route(docker, method, path.split("?")[0]) is None


@pytest.mark.parametrize(
    ("header", "host"),
    [
        ("192.168.1.10:8000", "192.168.1.10"),
        ("facilitator.local:8000", "facilitator.local"),
        ("[fe80::1]:8000", "[fe80::1]"),
        ("192.168.1.10", "192.168.1.10"),
        ("", None),
        ("evil.example/path", None),
        ("user@192.168.1.10:8000", None),
        ("a b", None),
        ("192.168.1.10:8000\r\nSet-Cookie: x=1", None),
    ],
)
def test_the_host_a_client_reached_the_front_at_is_a_plain_name_or_address(header, host):
    assert host_of(header) == host


def explore_query(location: str) -> tuple[str, dict]:
    """Where a redirect to Grafana's Explore leads, and the query of its one pane."""
    link = urlsplit(location)
    [panes] = parse_qs(link.query)["panes"]
    [pane] = json.loads(panes).values()
    [query] = pane["queries"]
    return f"{link.scheme}://{link.netloc}{link.path}", query


@pytest.fixture(scope="module")
def docker_front(backend):
    """The front with the views of the room-view container, Prometheus at the fake backend."""
    views = docker_views(docker_environment() | {"PROMETHEUS_URL": backend})
    server = read_only_front.Front(("127.0.0.1", 0), views)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("host", ["192.168.1.10", "[fe80::1]"])
def test_under_docker_a_trace_link_leads_to_the_trace_in_grafanas_explore(docker_front, host):
    """At the address the learner reached the front at, Grafana's port, Explore with the
    Tempo data source and the trace id as the query: a redirect, as natively."""
    response = requests.get(
        f"{docker_front}/trace/{SAMPLE_TRACE_ID}",
        headers={"Host": f"{host}:8000"},
        allow_redirects=False,
        timeout=5,
    )

    assert response.status_code == 302
    location = response.headers["Location"]
    assert re.fullmatch(r"[!-~]+", location)  # percent-encoded: no quote, brace or space
    page, query = explore_query(location)
    assert page == f"http://{host}:3000/explore"
    assert query["datasource"] == {"type": "tempo", "uid": "tempo"}
    assert query["query"] == SAMPLE_TRACE_ID
    assert Backend.seen == []  # the front's own answer


def test_under_docker_the_fronts_page_links_prometheus_and_grafana(docker_front):
    page = requests.get(docker_front, headers={"Host": "192.168.1.10:8000"}, timeout=5)

    assert page.status_code == 200
    assert '<a href="/query">Prometheus' in page.text
    assert '<a href="http://192.168.1.10:3000/">Grafana' in page.text


@pytest.mark.parametrize("host", ["evil.example/x", "user@evil.example"])
def test_a_host_that_is_not_a_plain_address_is_never_redirected_to(docker_front, host):
    for path in ("/", f"/trace/{SAMPLE_TRACE_ID}"):
        response = requests.get(
            docker_front + path, headers={"Host": host}, allow_redirects=False, timeout=5
        )
        assert response.status_code == 400
        assert "Location" not in response.headers and "evil" not in response.text


def test_under_docker_a_prometheus_query_passes_and_a_write_is_refused(docker_front):
    query = requests.get(f"{docker_front}/api/v1/query", params={"query": "up"}, timeout=5)
    write = requests.post(f"{docker_front}/api/v1/write", data=b"x", timeout=5)

    assert query.status_code == 200 and write.status_code == 403
    assert [(method, path) for method, path, *_ in Backend.seen] == [
        ("GET", "/api/v1/query?query=up")
    ]


def test_the_container_runs_the_front_with_pythons_standard_library_alone(backend):
    """The room-view container's `python -m native.read_only_front`, on an image without
    the workshop's packages: here without site-packages (-S), with compose's environment.
    It serves, and stops at once on SIGTERM (docker compose stop)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**docker_environment(), "PROMETHEUS_URL": backend, "PYTHONPATH": str(ROOT)}
    program = f"import native.read_only_front as f; f.PORT = {port}; f.main()"
    front = subprocess.Popen(
        [sys.executable, "-S", "-c", program], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert "read-only view" in front.stdout.readline()
        url = f"http://127.0.0.1:{port}"
        assert requests.get(f"{url}/api/v1/query?query=up", timeout=5).status_code == 200
        assert "Grafana" in requests.get(url, timeout=5).text
    finally:
        front.send_signal(signal.SIGTERM)
        assert front.wait(timeout=5) == 0
