"""The real platform: the services' telemetry arrives where the workshop says it does.

The OpenTelemetry Collector, Prometheus, Loki and Tempo run natively (built from their
Go modules at the versions docker-compose.yml pins) with the very config files Docker
Compose uses. The four services export to the collector, and the tests query each
backend over the HTTP API that Grafana uses, polling until a deadline.
"""

import socket

import pytest

from native.run_services import SERVICES, start_services
from native.run_stack import running_stack
from tests.browser_like import free_ports, submit, trace_id_of
from tests.grafana_queries import dashboard_queries
from tests.readme import code_blocks
from workshop.backends import Loki, Prometheus, Tempo, wait_for

PLACES = ["Paris", "Nairobi", "Tokyo", "Lima", "Oslo"]


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    """The platform and the services, after a few form submissions."""
    with running_stack(data_dir=tmp_path_factory.mktemp("stack")) as stack:
        # The online data sources fail (no internet in tests), and the services fall
        # back to offline data: the failure shows in the telemetry, as it should.
        env = {
            "OTEL_EXPORTER_OTLP_ENDPOINT": stack.urls["otlp_grpc"],
            "OTEL_BSP_SCHEDULE_DELAY": "500",
            "OTEL_METRIC_EXPORT_INTERVAL": "2000",
            "ISS_API_URL": closed_port_url(),
            "NOMINATIM_DOMAIN": closed_port_url().removeprefix("http://"),
            "NOMINATIM_SCHEME": "http",
        }
        logs = tmp_path_factory.mktemp("service-logs")
        with start_services(env, free_ports(), logs) as services:
            frontend = services.urls["frontend"]
            responses = [submit(frontend, place) for place in PLACES]
            assert [r.status_code for r in responses] == [200] * len(PLACES)
            assert submit(frontend, "Atlantis-under-the-sea").status_code == 404
            yield {
                "stack": stack,
                "frontend": frontend,
                "trace_ids": [trace_id_of(r) for r in responses],
                "tempo": Tempo(stack.urls["tempo"]),
                "prometheus": Prometheus(stack.urls["prometheus"]),
                "loki": Loki(stack.urls["loki"]),
            }


def test_tempo_has_one_trace_across_four_services_in_the_right_parent_chain(platform):
    tempo = platform["tempo"]
    trace_id = platform["trace_ids"][0]

    def whole_trace():
        spans = tempo.trace(trace_id)
        return spans if {s["service"] for s in spans} == {s.name for s in SERVICES} else None

    spans = wait_for(whole_trace)
    assert spans, f"trace {trace_id} did not reach Tempo from all four services"
    by_id = {s["id"]: s for s in spans}
    server = {s["service"]: s for s in spans if s["kind"] == "SPAN_KIND_SERVER"}

    def caller_of(span):
        client = by_id[span["parent"]]
        assert client["kind"] == "SPAN_KIND_CLIENT"
        return by_id[client["parent"]]["service"]

    assert server["frontend"]["parent"] == ""
    assert caller_of(server["gateway"]) == "frontend"
    assert caller_of(server["geolocator-service"]) == "gateway"
    assert caller_of(server["iss-distance-service"]) == "gateway"


def test_traceql_finds_the_trace_by_service_name(platform):
    tempo = platform["tempo"]
    wanted = set(platform["trace_ids"])

    found = wait_for(lambda: wanted & set(tempo.search('{resource.service.name="frontend"}')))

    assert found


@pytest.mark.parametrize(
    "promql",
    [
        'iss_requests_total{service_name="iss-distance-service", iss_position_source="sgp4"}',
        'iss_requests_total{iss_position_source="api", error_type="ConnectionError"}',
        'incoming_requests_total{http_response_status_code="200", iss_position_source="sgp4"}',
    ],
)
def test_prometheus_has_the_workshop_counters(platform, promql):
    assert wait_for(lambda: platform["prometheus"].query(promql))


@pytest.mark.parametrize("service", [s.name for s in SERVICES])
def test_prometheus_has_http_server_duration_for_every_service(platform, service):
    promql = f'http_server_request_duration_seconds_bucket{{service_name="{service}"}}'
    assert wait_for(lambda: platform["prometheus"].query(promql))


def test_prometheus_has_exemplars_that_point_at_our_traces(platform):
    wanted = set(platform["trace_ids"])

    def matching_exemplars():
        exemplars = platform["prometheus"].exemplars("http_server_request_duration_seconds_bucket")
        return wanted & {e["labels"].get("trace_id") for e in exemplars}

    assert wait_for(matching_exemplars)


def test_loki_has_logs_that_share_a_trace_with_tempo(platform):
    loki, tempo = platform["loki"], platform["tempo"]
    trace_id = platform["trace_ids"][1]

    streams = wait_for(
        lambda: loki.query(f'{{service_name="iss-distance-service"}} | trace_id="{trace_id}"')
    )

    assert streams
    assert any("ISS position" in line for s in streams for _ts, line, *_ in s["values"])
    assert wait_for(lambda: tempo.trace(trace_id))


@pytest.mark.parametrize(
    ("client", "server"),
    [
        ("frontend", "gateway"),
        ("gateway", "geolocator-service"),
        ("gateway", "iss-distance-service"),
    ],
)
def test_the_service_graph_has_every_edge(platform, client, server):
    promql = f'traces_service_graph_request_total{{client="{client}", server="{server}"}}'
    assert wait_for(lambda: platform["prometheus"].query(promql), timeout=120)


@pytest.mark.parametrize(("kind", "query"), dashboard_queries(), ids=lambda q: str(q)[:60])
def test_every_dashboard_query_returns_data(platform, kind, query):
    if kind == "prometheus":
        run = lambda: platform["prometheus"].query(query)  # noqa: E731
    elif kind == "loki":
        run = lambda: platform["loki"].query(query)  # noqa: E731
    elif query == "serviceMap":  # Grafana draws the service map from these series
        run = lambda: platform["prometheus"].query("traces_service_graph_request_total")  # noqa: E731
    else:
        run = lambda: platform["tempo"].search(query)  # noqa: E731
    assert wait_for(run, timeout=120), f"no data for {kind} query {query}"


README_QUERIES = [(kind, q) for kind in ("promql", "logql", "traceql") for q in code_blocks(kind)]


@pytest.mark.parametrize(("kind", "query"), README_QUERIES, ids=lambda q: str(q)[:60])
def test_every_query_the_readme_shows_returns_data(platform, kind, query):
    run = {
        "promql": platform["prometheus"].query,
        "logql": platform["loki"].query,
        "traceql": platform["tempo"].search,
    }[kind]
    assert wait_for(lambda: run(query), timeout=120), f"no data for the README's {kind}: {query}"


def test_the_application_survives_the_collector_going_away_and_coming_back(platform):
    stack, prometheus = platform["stack"], platform["prometheus"]

    stack.stop("otelcol")
    down = [submit(platform["frontend"], place) for place in PLACES]
    stack.start("otelcol")
    up = submit(platform["frontend"], "Toronto")

    assert [r.status_code for r in down + [up]] == [200] * (len(PLACES) + 1)
    # Telemetry flows again: the request made after the restart reaches Tempo.
    assert wait_for(lambda: platform["tempo"].trace(trace_id_of(up)))
    promql = 'incoming_requests_total{http_response_status_code="200"}'
    assert wait_for(lambda: prometheus.query(promql))
