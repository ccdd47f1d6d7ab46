"""Fixtures shared by every test in the repository.

The services' telemetry goes to in-memory exporters, installed through the same
common.telemetry code the services use. OpenTelemetry's global providers can be set
only once per process, so this happens once, before any app is created.
"""

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from opentelemetry import _logs, metrics, trace
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from werkzeug.serving import make_server

import gateway
import geolocator
import iss_distance
import webapp
from common import telemetry as common_telemetry
from common.server import create_server
from native.run_stack import running_stack


class Telemetry:
    """What the services under test have emitted, read after a flush."""

    def __init__(self):
        self.span_exporter = InMemorySpanExporter()
        self.metric_reader = InMemoryMetricReader()
        self.log_exporter = InMemoryLogRecordExporter()

    def spans(self):
        trace.get_tracer_provider().force_flush()
        return self.span_exporter.get_finished_spans()

    def logs(self):
        _logs.get_logger_provider().force_flush()
        return [item.log_record for item in self.log_exporter.get_finished_logs()]

    def metric(self, name: str):
        """The metric called `name` as the SDK last collected it, or None."""
        data = self.metric_reader.get_metrics_data()
        for resource_metrics in data.resource_metrics if data else ():
            for scope_metrics in resource_metrics.scope_metrics:
                for metric in scope_metrics.metrics:
                    if metric.name == name:
                        return metric
        return None

    def count(self, name: str, attributes: dict | None = None) -> float:
        """The total of counter `name` over the points whose attributes include these."""
        metric = self.metric(name)
        points = metric.data.data_points if metric else ()
        wanted = (attributes or {}).items()
        return sum(p.value for p in points if wanted <= dict(p.attributes).items())

    def clear(self):
        self.spans()
        self.span_exporter.clear()
        self.logs()
        self.log_exporter.clear()
        # Cumulative metrics keep their totals; tests compare before and after.


_telemetry = Telemetry()


def pytest_configure(config):
    common_telemetry.configure_opentelemetry(
        "test-process",
        "0",
        span_exporter=_telemetry.span_exporter,
        metric_reader=_telemetry.metric_reader,
        log_exporter=_telemetry.log_exporter,
    )
    assert isinstance(metrics.get_meter_provider(), metrics.MeterProvider)


def pytest_collection_modifyitems(items):
    """A test that starts the platform, itself or through another fixture, must be marked
    so, or `make test-fast` would start it too."""
    unmarked = [
        item.nodeid
        for item in items
        if "stack" in item.fixturenames and item.get_closest_marker("platform") is None
    ]
    if unmarked:
        raise pytest.UsageError("Mark these platform tests `platform`:\n" + "\n".join(unmarked))


@pytest.fixture
def telemetry() -> Iterator[Telemetry]:
    _telemetry.clear()
    yield _telemetry


@pytest.fixture
def serve() -> Iterator[Callable[[Flask], str]]:
    """serve(app) runs a Flask app on a real local port and returns its base URL."""
    servers = []

    def start(app: Flask) -> str:
        server = make_server("127.0.0.1", 0, app, threaded=True)
        # shutdown() waits for the loop to notice, at most one poll interval (0.5 s
        # by default): check often, so that the tests don't wait for it.
        threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server in servers:
        with contextlib.suppress(Exception):
            server.shutdown()


@pytest.fixture(scope="session")
def serve_with_waitress() -> Iterator[Callable[[Flask], tuple[str, int]]]:
    """serve_with_waitress(app) runs a Flask app as the services run, under waitress
    with common/server.py's limits, and returns its (host, port). Servers started here
    run until the session ends, so module fixtures can share them."""
    servers = []

    def start(app: Flask) -> tuple[str, int]:
        server = create_server(app, "127.0.0.1:0")
        threading.Thread(target=server.run, daemon=True).start()
        servers.append(server)
        return "127.0.0.1", server.effective_port

    yield start
    for server in servers:
        server.close()


@pytest.fixture(scope="module")
def services_under_waitress(serve_with_waitress) -> dict[str, tuple[str, int]]:
    """The four services, each alone (offline, its upstreams unset), under waitress, by
    name. Each has one more route, /crash, that raises: to see how a bug is answered."""
    apps = {
        "frontend": webapp.create_app(),
        "gateway": gateway.create_app(),
        "geolocator": geolocator.create_app({"OFFLINE": True}),
        "iss": iss_distance.create_app({"OFFLINE": True}),
    }
    for app in apps.values():
        app.add_url_rule("/crash", view_func=_crash)
    return {name: serve_with_waitress(app) for name, app in apps.items()}


def _crash():
    raise RuntimeError("a bug")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """The native platform (make stack), for the tests of one module.

    The backends keep what they receive, so each module that asks them gets a platform
    of its own: one module's telemetry never answers another's question.
    """
    with running_stack(data_dir=tmp_path_factory.mktemp("stack")) as platform:
        yield platform


@pytest.fixture
def closed_port_url() -> str:
    """A URL where nothing listens: connections are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
