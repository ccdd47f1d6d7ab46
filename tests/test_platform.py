"""The real platform: the services' telemetry arrives where the workshop says it does.

The native platform runs here: the OpenTelemetry Collector and Prometheus with the very
config files Docker Compose uses, and Jaeger v2 (traces) and VictoriaLogs (logs) where
Docker runs Tempo and Loki. The four services export to the collector, and the tests
query each backend over its HTTP API, polling until a deadline.

Tempo, Loki and Grafana run only under Docker, so what only they do is checked here by
the strongest means that runs: their queries are parsed by Grafana's own parsers
(tests/test_grafana_query_syntax.py), the dashboard is decoded by the Grafana Foundation
SDK (tests/test_dashboard_schema.py), every PromQL query Grafana sends runs on the real
Prometheus below, and what Tempo's service graph draws is asserted through Jaeger's
dependencies instead.
"""

import re
import socket
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
import yaml

from common.services import SERVICES
from harness.browser import free_ports, submit, trace_id_of
from harness.polling import wait_for
from native.run_services import start_services
from native.run_stack import PORTS, ROOT, URLS, network_address
from tests.chromium import chromium, screenshot
from tests.grafana_queries import (
    grafana_side_queries,
    service_graph_duration_query,
    service_graph_table_queries,
)
from tests.readme import addresses, code_blocks
from workshop import look_at
from workshop.backends import Jaeger, Prometheus, VictoriaLogs

# A platform test (pyproject.toml): it needs the native platform.
pytestmark = pytest.mark.platform

PLACES = ["Paris", "Nairobi", "Tokyo", "Lima", "Oslo"]
NAMES = [service.name for service in SERVICES]
EDGES = {
    ("frontend", "gateway"),
    ("gateway", "geolocator-service"),
    ("gateway", "iss-distance-service"),
}


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture(scope="module")
def platform(stack, tmp_path_factory):
    """The platform and the services, after a few form submissions."""
    # The online data sources fail (no internet in tests), and the services fall
    # back to offline data: the failure shows in the telemetry, as it should.
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": stack.urls["otlp_grpc"],
        "ISS_API_URL": closed_port_url(),
        "NOMINATIM_DOMAIN": closed_port_url().removeprefix("http://"),
        "NOMINATIM_SCHEME": "http",
    }
    logs = tmp_path_factory.mktemp("service-logs")
    with start_services(env, free_ports(), logs) as services:
        frontend = services.urls["frontend"]
        responses = []
        for place in PLACES:
            responses.append(submit(frontend, place))
            # At a learner's pace: counts derived in the collector get a sample per
            # export, and a rate() over them needs at least two.
            time.sleep(1)
        assert [r.status_code for r in responses] == [200] * len(PLACES)
        assert submit(frontend, "Atlantis-under-the-sea").status_code == 404
        yield {
            "stack": stack,
            "frontend": frontend,
            "trace_ids": [trace_id_of(r) for r in responses],
            "jaeger": Jaeger(stack.urls["jaeger"]),
            "prometheus": Prometheus(stack.urls["prometheus"]),
            "logs": VictoriaLogs(stack.urls["victoria_logs"]),
        }


# --- Traces, in Jaeger ------------------------------------------------------------------


def whole_trace(jaeger: Jaeger, trace_id: str) -> list[dict]:
    """The trace's spans once every service's spans have arrived, else []."""
    spans = jaeger.trace(trace_id)
    return spans if {s["service"] for s in spans} == set(NAMES) else []


def test_jaeger_has_one_trace_across_four_services_in_the_right_parent_chain(platform):
    trace_id = platform["trace_ids"][0]

    spans = wait_for(lambda: whole_trace(platform["jaeger"], trace_id))

    assert spans, f"trace {trace_id} did not reach Jaeger from all four services"
    by_id = {s["id"]: s for s in spans}
    server = {s["service"]: s for s in spans if s["kind"] == "server"}

    def caller_of(span):
        client = by_id[span["parent"]]
        assert client["kind"] == "client"
        return by_id[client["parent"]]["service"]

    assert server["frontend"]["parent"] == ""
    assert caller_of(server["gateway"]) == "frontend"
    assert caller_of(server["geolocator-service"]) == "gateway"
    assert caller_of(server["iss-distance-service"]) == "gateway"


def test_jaeger_finds_the_traces_by_service_and_span_attribute(platform):
    jaeger, wanted = platform["jaeger"], set(platform["trace_ids"])

    found = wait_for(
        lambda: (
            wanted <= set(jaeger.search("iss-distance-service", {"iss.position.source": "sgp4"}))
        )
    )

    assert found


def test_jaeger_draws_every_edge_between_the_services(platform):
    """What Tempo's service graph shows under Docker, from the same traces."""
    edges = wait_for(lambda: platform["jaeger"].dependencies() >= EDGES)

    assert edges, platform["jaeger"].dependencies()


def test_the_facts_derived_metrics_count_by_stay_out_of_the_stored_spans(platform):
    spans = wait_for(lambda: whole_trace(platform["jaeger"], platform["trace_ids"][0]))

    assert spans
    assert not [s for s in spans if "span.is_root" in s["tags"]]


# --- Metrics, in Prometheus ---------------------------------------------------------------


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


@pytest.mark.parametrize("service", NAMES)
def test_prometheus_has_http_server_duration_for_every_service(platform, service):
    promql = f'http_server_request_duration_seconds_bucket{{service_name="{service}"}}'
    assert wait_for(lambda: platform["prometheus"].query(promql))


def total(prometheus: Prometheus, promql: str) -> float:
    """The sum of the values of the series a query selects."""
    return sum(float(series["value"][1]) for series in prometheus.query(promql))


def exemplar_trace_ids(prometheus: Prometheus, promql: str) -> set[str]:
    return {e["labels"].get("trace_id") for e in prometheus.exemplars(promql)}


def test_prometheus_has_exemplars_that_point_at_our_traces(platform):
    wanted = set(platform["trace_ids"])
    histogram = "http_server_request_duration_seconds_bucket"

    assert wait_for(lambda: wanted & exemplar_trace_ids(platform["prometheus"], histogram))


# --- Metrics the collector derives from spans and log records -------------------------------


@pytest.mark.parametrize(
    ("service", "is_root"),
    [("frontend", "true"), ("gateway", "false"), ("geolocator-service", "false"),
     ("iss-distance-service", "false")],
)  # fmt: skip
def test_span_metrics_count_server_spans_and_whether_they_begin_a_trace(platform, service, is_root):
    promql = (
        f'traces_spanmetrics_calls_total{{service_name="{service}", '
        f'span_kind="SPAN_KIND_SERVER", span_is_root="{is_root}"}}'
    )
    assert wait_for(lambda: platform["prometheus"].query(promql))


def test_span_metrics_count_the_iss_position_span_by_its_source(platform):
    promql = (
        'traces_spanmetrics_calls_total{service_name="iss-distance-service", '
        'span_name="iss.position", iss_position_source="sgp4"}'
    )
    assert wait_for(lambda: total(platform["prometheus"], promql) >= len(PLACES))


@pytest.mark.parametrize("service", NAMES)
def test_grafanas_service_graph_table_finds_each_services_operations(platform, service):
    """The queries Grafana's service graph runs for its table, as Grafana writes them
    (Tempo's span-metric names and labels): each service's server spans, with a duration."""
    prometheus = platform["prometheus"]
    queries = service_graph_table_queries(service)

    assert wait_for(lambda: prometheus.query(queries["rate"]))
    span_names = [series["metric"]["span_name"] for series in prometheus.query(queries["rate"])]
    for span_name in span_names:
        duration = prometheus.query(service_graph_duration_query(service, span_name))
        assert duration and float(duration[0]["value"][1]) > 0, span_name
    prometheus.query(queries["errors"])  # runs: errors are counted where there are some


def test_span_metrics_durations_are_in_seconds_with_exemplars(platform):
    wanted = set(platform["trace_ids"])
    histogram = "traces_spanmetrics_latency_bucket"

    assert wait_for(lambda: platform["prometheus"].query(f'{histogram}{{le="1"}}'))
    assert wait_for(lambda: wanted & exemplar_trace_ids(platform["prometheus"], histogram))


@pytest.mark.parametrize("service", NAMES)
def test_log_records_are_counted_for_every_service(platform, service):
    promql = f'log_records_total{{service_name="{service}"}}'
    assert wait_for(lambda: platform["prometheus"].query(promql))


def test_log_records_written_outside_a_span_are_counted_without_a_trace_id(platform):
    # Each service says at start-up, outside any request, that OpenTelemetry is set up.
    promql = 'log_records_total{service_name="gateway", severity_text="INFO", has_trace_id="false"}'
    assert wait_for(lambda: platform["prometheus"].query(promql))


def test_log_records_are_counted_by_severity_and_trace_context(platform):
    promql = (
        'log_records_total{service_name="iss-distance-service", severity_text="INFO", '
        'has_trace_id="true"}'
    )
    # One INFO record for each ISS position, each inside a request's trace.
    assert wait_for(lambda: total(platform["prometheus"], promql) >= len(PLACES))


# --- Logs, in VictoriaLogs ------------------------------------------------------------------


def test_victoria_logs_has_logs_that_share_a_trace_with_jaeger(platform):
    logs, jaeger = platform["logs"], platform["jaeger"]
    trace_id = platform["trace_ids"][1]

    records = wait_for(
        lambda: logs.query(f'{{service.name="iss-distance-service"}} trace_id:="{trace_id}"')
    )

    assert any("ISS position" in record["_msg"] for record in records)
    assert {record["severity_text"] for record in records} >= {"INFO"}
    assert not [r for r in records if "has_trace_id" in r]  # a fact only the counts use
    assert wait_for(lambda: jaeger.trace(trace_id))


# --- Every query the workshop shows --------------------------------------------------------

GRAFANA_PROMQL = [q for q in grafana_side_queries() if q.language == "promql"]


@pytest.mark.parametrize("query", GRAFANA_PROMQL, ids=lambda q: q.where[:70])
def test_every_promql_query_grafana_sends_returns_data(platform, query):
    assert wait_for(lambda: platform["prometheus"].query(query.text), timeout=120), (
        f"no data for {query.where}: {query.text}"
    )


@pytest.mark.parametrize("promql", code_blocks("promql"), ids=lambda q: q[:60])
def test_every_promql_query_the_readme_shows_returns_data(platform, promql):
    assert wait_for(lambda: platform["prometheus"].query(promql), timeout=120), promql


@pytest.mark.parametrize("logsql", code_blocks("logsql"), ids=lambda q: q[:60])
def test_every_logsql_query_the_readme_shows_returns_data(platform, logsql):
    assert wait_for(lambda: platform["logs"].query(logsql)), logsql


# The addresses of the native backends' APIs that the docs show, to open in a browser.
NATIVE_API = re.compile(
    "(?:"
    + "|".join(re.escape(URLS[name]) for name in ("jaeger", "victoria_logs", "prometheus"))
    + r")/(?:api|select/logsql)/[^\s`)<>]*(?:<trace id>)?[^\s`)<>]*"
)


def native_api_addresses() -> set[str]:
    return addresses(NATIVE_API)


# Prometheus's alerts and alerting rules, in an answer of their own shape that has data
# only while an alert is active: tests/test_alerting.py asks these addresses then.
ALERTING_API = re.compile(re.escape(URLS["prometheus"]) + r"/api/v1/(?:alerts|rules)\b")


def readme_api_addresses(alerting: bool = False) -> list[str]:
    """The native API addresses the docs show: the alerting ones, or all the others."""
    found = native_api_addresses()
    return sorted(url for url in found if bool(ALERTING_API.match(url)) == alerting)


def test_no_port_is_open_to_the_network_without_room_mode(stack):
    """Every part listens on 127.0.0.1 only; ROOM=1 opens OTLP (tests/test_room.py)."""
    address = network_address()
    assert not address.startswith(("127.", "<")), "this machine needs an address on a network"
    opened = []
    for port in [port for ports in PORTS.values() for port in ports]:
        with socket.socket() as sock:
            sock.settimeout(2)
            if sock.connect_ex((address, port)) == 0:
                opened.append(port)
    assert opened == []


def test_the_readme_shows_native_api_addresses():
    assert {URLS["jaeger"], URLS["victoria_logs"]} <= {
        re.match(r"http://[^/]+", url)[0] for url in native_api_addresses()
    }


@pytest.mark.parametrize("url", readme_api_addresses())
def test_every_native_api_address_the_readme_shows_answers_with_data(platform, url):
    url = url.replace("<trace id>", platform["trace_ids"][2])

    def answer():
        response = requests.get(url, timeout=10)
        response.raise_for_status()
        body = response.text
        return body if re.search(r'"data":\s*\[\s*[{"]|"_msg"|"result":\s*\[\s*\{', body) else ""

    assert wait_for(answer), f"{url} answered no data"


# --- What a learner sees in the native web UIs, in Chromium -------------------------------


@pytest.fixture
def page():
    with chromium() as browser:
        yield browser.new_page(viewport={"width": 1280, "height": 900})


def test_prometheus_web_ui_draws_a_query_as_a_graph_and_as_a_table(platform, page):
    promql = "sum by (service_name) (rate(http_server_request_duration_seconds_count[1m]))"
    assert wait_for(lambda: len(platform["prometheus"].query(promql)) == len(NAMES), timeout=120)
    query_page = f"{URLS['prometheus']}/query?" + urlencode(
        {"g0.expr": promql, "g0.range_input": "1m"}
    )

    page.goto(query_page + "&g0.tab=graph")
    chart = page.locator(".uplot canvas").first
    chart.wait_for(timeout=15_000)
    # The legend names a series for each service; the chart has a size on the page.
    for name in NAMES:
        page.get_by_text(name).first.wait_for(timeout=15_000)
    box = chart.bounding_box()
    assert box and box["width"] > 500 and box["height"] > 200
    screenshot(page, "prometheus-graph")

    page.goto(query_page + "&g0.tab=table")
    rows = page.locator("table tbody tr")
    rows.first.wait_for(timeout=15_000)
    screenshot(page, "prometheus-table")
    assert sorted(
        re.search(r'service_name="([^"]+)"', r)[1] for r in rows.all_inner_texts()
    ) == sorted(NAMES)


# Every address of a native web UI that the docs give: Prometheus' pages, vmui, Zipkin.
NATIVE_UI = re.compile(
    r"http://127\.0\.0\.1:(?:9090/(?:query\?|alerts\b|rules\b)|9428/select/vmui/|9411/zipkin/)"
    r"(?:[^\s`)<>]|<trace id>)*"
)


def docs_ui_addresses() -> list[str]:
    """Every one of them, without the punctuation of the sentence around it."""
    return sorted(addresses(NATIVE_UI))


def test_the_docs_give_native_ui_addresses_for_every_kind_of_view():
    found = docs_ui_addresses()
    for kind in ["/query?", "/alerts", "/rules", "/select/vmui/#/?", "/zipkin/traces/",
                 "/zipkin/?serviceName=", "/zipkin/dependency"]:  # fmt: skip
        assert [url for url in found if kind in url], kind


def alert_names() -> list[str]:
    rules = yaml.safe_load((ROOT / "platform" / "prometheus" / "alerts.yml").read_text())
    return [rule["alert"] for group in rules["groups"] for rule in group["rules"]]


def sees_prometheus_graphs(platform, page, url: str) -> None:
    """One graph for each query of the address, each with the series Prometheus has."""
    params = parse_qs(urlsplit(url).query)
    queries = [params[f"g{n}.expr"][0] for n in range(len(params)) if f"g{n}.expr" in params]
    results = [wait_for(lambda q=q: platform["prometheus"].query(q), timeout=120) for q in queries]
    assert all(results), [q for q, r in zip(queries, results, strict=True) if not r]
    page.goto(url)
    legends = page.locator(".u-legend")
    for number, series in enumerate(results):
        legend = legends.nth(number)
        legend.wait_for(timeout=30_000)
        labels = series[0]["metric"]
        for value in labels.values():
            legend.get_by_text(value).first.wait_for(timeout=15_000)
    assert page.locator(".uplot canvas").count() == len(queries)


def sees_prometheus_rules(page, url: str) -> None:
    page.goto(url)
    for name in alert_names():
        page.get_by_text(name, exact=True).first.wait_for(timeout=15_000)


def sees_log_lines(platform, page, url: str) -> None:
    """vmui shows the records that VictoriaLogs' API gives for the same query."""
    asked = parse_qs(urlsplit(urlsplit(url).fragment).query)
    logsql = asked["query"][0] if asked else "*"  # vmui's own first query: every record
    records = wait_for(lambda: platform["logs"].query(logsql))
    assert records, logsql
    page.goto(url)
    for record in records[:3]:
        page.get_by_text(record["_msg"]).first.wait_for(timeout=15_000)


def sees_zipkin_search(platform, page, url: str) -> None:
    """As many traces listed as Zipkin's API finds for the same search, and at least one."""
    params = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    api = {
        k: params[k] for k in ("serviceName", "spanName", "annotationQuery", "limit") if k in params
    }
    api |= {"endTs": params["endTs"], "lookback": int(params["endTs"]) - int(params["startTs"])}

    def found():
        response = requests.get(f"{URLS['zipkin']}/api/v2/traces", params=api, timeout=10)
        return len(response.json())

    count = wait_for(found)
    assert count, f"Zipkin finds no trace for {api}"
    page.goto(url)
    rows = page.get_by_role("button", name="Show")  # one for each trace found
    rows.first.wait_for(timeout=15_000)
    assert rows.count() == count


def sees_zipkin_dependencies(page, url: str) -> None:
    """The graph is drawn, and its nodes (listed in its filter) are the four services."""
    page.goto(url)
    page.locator("canvas").first.wait_for(timeout=15_000)

    def nodes() -> list[str]:
        page.locator("input[placeholder='Select...']").click()
        page.wait_for_timeout(500)  # the list opens
        listed = sorted(page.locator("[role=option]").all_inner_texts())
        page.keyboard.press("Escape")
        return listed

    assert wait_for(lambda: nodes() == sorted(NAMES), timeout=30), nodes()


def sees_whole_trace(platform, page, url: str) -> list[str]:
    """Zipkin's waterfall names every span of the trace, and every service."""
    trace_id = url.rsplit("/", 1)[1]
    spans = wait_for(lambda: whole_trace(platform["jaeger"], trace_id))
    assert spans, f"trace {trace_id} did not reach Jaeger from all four services"
    page.goto(url)
    for name in NAMES:
        page.get_by_text(name).first.wait_for(timeout=20_000)
    shown = page.locator("body").inner_text().lower()  # Zipkin writes span names in lower case
    assert [s["name"] for s in spans if s["name"].lower() not in shown] == []


@pytest.mark.parametrize(("number", "url"), list(enumerate(docs_ui_addresses())))
def test_every_native_ui_address_the_docs_give_shows_what_they_teach(platform, page, number, url):
    shown_in_docs = DOCS_SCREENSHOTS.get(url)
    url = url.replace("<trace id>", platform["trace_ids"][2])
    path = urlsplit(url).path
    try:
        sees_what_the_docs_teach(platform, page, url, path)
    finally:
        screenshot(page, shown_in_docs or f"native-ui-{number:02d}")


def sees_what_the_docs_teach(platform, page, url: str, path: str) -> None:
    if path == "/query":
        sees_prometheus_graphs(platform, page, url)
    elif path in ("/alerts", "/rules"):
        sees_prometheus_rules(page, url)
    elif path == "/select/vmui/":
        sees_log_lines(platform, page, url)
    elif path.startswith("/zipkin/traces/"):
        sees_whole_trace(platform, page, url)
    elif path == "/zipkin/dependency":
        sees_zipkin_dependencies(page, url)
    elif path == "/zipkin/" and "serviceName=" in url:
        sees_zipkin_search(platform, page, url)
    else:
        assert path == "/zipkin/", url  # the tour's start page
        page.goto(url)
        page.get_by_text("Find a trace").first.wait_for(timeout=15_000)


# The views the docs show as pictures (docs/images/), by address.
DOCS_SCREENSHOTS = {
    look_at.vmui('{service.name="iss-distance-service"}'): "vmui-logs",
    look_at.zipkin_search("iss-distance-service", "iss.position"): "zipkin-search",
}


def test_the_pages_trace_link_opens_its_trace_in_zipkin(platform, page):
    """In the browser: submit the form, follow the trace id, see the whole trace."""
    page.goto(platform["frontend"])
    page.fill('input[name="location"]', "Lima")
    page.click('button[type="submit"]')
    link = page.locator("#trace-link")
    link.wait_for(timeout=30_000)
    assert "Open it in Zipkin" in page.locator(".trace").inner_text()
    trace_id = page.locator("#trace-id").inner_text()
    assert link.get_attribute("href") == look_at.zipkin_trace(trace_id)
    wait_for(lambda: whole_trace(platform["jaeger"], trace_id))  # before Zipkin is asked
    link.click()
    page.wait_for_url(look_at.zipkin_trace(trace_id))
    sees_whole_trace(platform, page, page.url)
    screenshot(page, "zipkin-trace")


# --- Failure --------------------------------------------------------------------------------


def test_the_application_survives_the_collector_going_away_and_coming_back(platform):
    stack, prometheus = platform["stack"], platform["prometheus"]

    stack.stop("otelcol")
    down = [submit(platform["frontend"], place) for place in PLACES]
    stack.start("otelcol")
    up = submit(platform["frontend"], "Toronto")

    assert [r.status_code for r in down + [up]] == [200] * (len(PLACES) + 1)
    # Telemetry flows again: the request made after the restart reaches Jaeger.
    assert wait_for(lambda: platform["jaeger"].trace(trace_id_of(up)))
    promql = 'incoming_requests_total{http_response_status_code="200"}'
    assert wait_for(lambda: prometheus.query(promql))
