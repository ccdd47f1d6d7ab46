"""The telemetry the services emit, read from the SDK's in-memory exporters.

All four services run in this process (on local ports), so one form submission
goes frontend -> gateway -> geolocator and ISS distance service, as in production.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.trace import SpanKind, StatusCode

import gateway
import geolocator
import iss_distance
import webapp
from common.telemetry import build_resource


@pytest.fixture
def frontend(serve):
    """A frontend test client whose backends really run, offline."""
    config = {
        "GEOLOCATOR_URL": serve(geolocator.create_app({"OFFLINE": True})),
        "ISS_DISTANCE_URL": serve(iss_distance.create_app({"OFFLINE": True})),
    }
    gateway_url = serve(gateway.create_app(config))
    return webapp.create_app({"GATEWAY_URL": gateway_url}).test_client()


def submit(frontend, location="Paris") -> str:
    """Submit the form; return the trace id the page shows."""
    html = frontend.post("/", data={"location": location}).get_data(as_text=True)
    return re.search(r'id="trace-id">([0-9a-f]{32})<', html).group(1)


def test_one_submission_is_one_trace_with_the_right_parents(frontend, telemetry):
    trace_id = submit(frontend)

    spans = [s for s in telemetry.spans() if f"{s.context.trace_id:032x}" == trace_id]
    by_id = {s.context.span_id: s for s in spans}

    def parent(span):
        return by_id[span.parent.span_id] if span.parent else None

    servers = [s for s in spans if s.kind == SpanKind.SERVER]
    # The frontend's POST, the gateway's GET, and the two backends' GETs.
    assert sorted(s.attributes["url.path"] for s in servers) == ["/", "/", "/", "/"]
    root = next(s for s in spans if s.parent is None)
    assert root.kind == SpanKind.SERVER and root.attributes["http.request.method"] == "POST"

    # Every other server span is the child of a client span (an outgoing call)...
    for server in servers:
        if server is not root:
            assert parent(server).kind == SpanKind.CLIENT
    # ...the frontend calls the gateway once, and the gateway calls two services.
    gateway_span = next(s for s in servers if parent(s) and parent(parent(s)) is root)
    calls_from_gateway = [
        s for s in spans if s.kind == SpanKind.CLIENT and parent(s) is gateway_span
    ]
    assert len(calls_from_gateway) == 2
    assert all(s.attributes["http.response.status_code"] == 200 for s in calls_from_gateway)

    # The ISS position span sits inside the ISS distance service's server span.
    position = next(s for s in spans if s.name == "iss.position")
    assert parent(position).kind == SpanKind.SERVER
    assert position.attributes["iss.position.source"] == "sgp4"
    assert -90 <= position.attributes["iss.latitude"] <= 90


def test_server_spans_use_the_stable_http_conventions(frontend, telemetry):
    submit(frontend)

    server = next(s for s in telemetry.spans() if s.parent is None)
    assert server.attributes["http.request.method"] == "POST"
    assert server.attributes["http.route"] == "/"
    assert server.attributes["http.response.status_code"] == 200
    assert "http.method" not in server.attributes  # the old convention


def test_http_server_duration_is_a_histogram_in_seconds(frontend, telemetry):
    submit(frontend)

    metric = telemetry.metric("http.server.request.duration")
    assert metric.unit == "s"
    # Earlier tests left points too, some without a route: a 404 has none.
    points = metric.data.data_points
    routes = {(p.attributes["http.request.method"], p.attributes.get("http.route")) for p in points}
    assert ("POST", "/") in routes and ("GET", "/") in routes
    assert telemetry.metric("http.server.duration") is None  # the old, millisecond one


def test_custom_counters_count_requests_by_status_and_source(frontend, telemetry):
    ok = {"http.response.status_code": 200, "iss.position.source": "sgp4"}
    before = telemetry.count("incoming.requests", ok)
    sgp4_before = telemetry.count("iss.requests", {"iss.position.source": "sgp4"})

    submit(frontend)
    submit(frontend, "Tokyo")

    assert telemetry.count("incoming.requests", ok) == before + 2
    assert telemetry.count("iss.requests", {"iss.position.source": "sgp4"}) == sgp4_before + 2
    assert telemetry.metric("incoming.requests").unit == "{request}"
    assert telemetry.metric("iss.requests").unit == "{request}"


def test_the_position_lookup_is_timed_into_the_views_buckets_by_source_only(frontend, telemetry):
    trace_id = submit(frontend)

    metric = telemetry.metric("iss.position.duration")
    assert metric.unit == "s"
    # The View keeps the source alone (other tests of this process ask the API too).
    assert {tuple(p.attributes) for p in metric.data.data_points} == {("iss.position.source",)}
    [point] = [p for p in metric.data.data_points if p.attributes["iss.position.source"] == "sgp4"]
    # The View's buckets: the SDK's defaults, for milliseconds, are 0, 5, 10, ... 10000.
    assert point.explicit_bounds[0] < 0.005 and 1.5 in point.explicit_bounds
    # Dropped from the series, the TLE's age stays on the exemplars, with the trace id.
    exemplars = [e for e in point.exemplars if f"{e.trace_id:032x}" == trace_id]
    assert exemplars and "iss.tle.age_days" in exemplars[0].filtered_attributes


def test_a_bad_request_is_counted_with_its_status(telemetry):
    client = iss_distance.create_app({"OFFLINE": True}).test_client()
    before = telemetry.count("incoming.requests", {"http.response.status_code": 400})

    client.get("/?latitude=north&longitude=0")

    assert telemetry.count("incoming.requests", {"http.response.status_code": 400}) == before + 1


def test_metric_attributes_are_bounded(frontend, telemetry):
    for place in ["Paris", "Tokyo", "Nairobi", "Lima"]:
        submit(frontend, place)

    names = ["incoming.requests", "iss.requests", "iss.position.duration"]
    for name in [*names, "http.server.request.duration"]:
        for point in telemetry.metric(name).data.data_points:
            values = " ".join(str(v) for v in point.attributes.values())
            assert not re.search(r"Paris|Tokyo|Nairobi|Lima|\d+\.\d{3,}", values), point.attributes


def test_logs_carry_the_trace_context(frontend, telemetry):
    trace_id = submit(frontend)

    logs = [log for log in telemetry.logs() if "ISS position" in str(log.body)]
    assert logs
    assert {f"{log.trace_id:032x}" for log in logs} == {trace_id}
    assert all(log.span_id for log in logs)


def test_an_api_failure_is_recorded_on_the_position_span(closed_port_url, telemetry):
    client = iss_distance.create_app({"ISS_API_URL": closed_port_url}).test_client()

    client.get("/?latitude=0&longitude=0")

    position = next(s for s in telemetry.spans() if s.name == "iss.position")
    # First the evaluations of the fault flags (section 8), then the API's failure.
    names = [e.name for e in position.events]
    assert names == ["feature_flag.evaluation", "feature_flag.evaluation", "exception"]
    assert position.events[-1].attributes["exception.type"].endswith("IssApiError")
    # The fallback answered, so the span is not an error.
    assert position.status.status_code != StatusCode.ERROR
    warnings = [log for log in telemetry.logs() if log.severity_text == "WARN"]
    assert any("computing the position with SGP4" in str(log.body) for log in warnings)


def test_health_checks_are_not_traced(telemetry):
    for app in [gateway, geolocator, iss_distance, webapp]:
        client = app.create_app({"OFFLINE": True}).test_client()
        assert client.get("/healthz").status_code == 200

    assert telemetry.spans() == ()


def test_resource_names_the_service(monkeypatch):
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    monkeypatch.delenv("OTEL_RESOURCE_ATTRIBUTES", raising=False)

    attributes = build_resource("gateway", "1.2.3").attributes

    assert attributes["service.name"] == "gateway"
    assert attributes["service.version"] == "1.2.3"
    assert attributes["deployment.environment.name"] == "local"
    assert attributes["telemetry.sdk.language"] == "python"
    assert attributes["service.instance.id"]


def test_environment_variables_win_over_the_defaults(monkeypatch):
    monkeypatch.setenv("OTEL_SERVICE_NAME", "renamed")
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment.name=docker")

    attributes = build_resource("gateway", "1.2.3").attributes

    assert attributes["service.name"] == "renamed"
    assert attributes["deployment.environment.name"] == "docker"
    assert attributes["service.version"] == "1.2.3"
    assert isinstance(build_resource("x", "1"), Resource)


# Run in a process of its own: the sampler is read when the TracerProvider is made, and
# this process's provider is made once, by conftest.py.
HEAD_SAMPLED = """
from opentelemetry import trace
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from common import telemetry

spans = InMemorySpanExporter()
telemetry.configure_opentelemetry(
    "sampled", "0", span_exporter=spans, metric_reader=InMemoryMetricReader(),
    log_exporter=InMemoryLogRecordExporter(),
)
tracer = trace.get_tracer("sampled")
for _ in range(1000):
    with tracer.start_as_current_span("root"):
        with tracer.start_as_current_span("child"):
            pass
trace.get_tracer_provider().force_flush()
finished = spans.get_finished_spans()
print(sum(s.name == "root" for s in finished), sum(s.name == "child" for s in finished))
"""


def test_the_standard_variables_switch_head_sampling_on_and_keep_traces_whole():
    env = {
        **os.environ,
        "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
        "OTEL_TRACES_SAMPLER_ARG": "0.25",
    }
    result = subprocess.run(
        [sys.executable, "-c", HEAD_SAMPLED],
        cwd=Path(__file__).resolve().parent.parent,  # the repository's root, for `common`
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    roots, children = map(int, result.stdout.split())

    assert 150 < roots < 350  # about a quarter of 1000; a binomial's sd is 14 here
    assert children == roots  # a child follows its parent's decision: no trace is cut
