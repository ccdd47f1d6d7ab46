"""Read the queries out of the Grafana dashboard, so that tests can run them as they are.

The dashboard's queries are literal but for one template variable, `$learner` (room
mode), and have fixed rate windows: with a value for `$learner`, the same text that
Grafana sends to Prometheus, Loki or Tempo can be sent by a test.

The data source links in the provisioning hold queries too, written with Grafana's link
variables (`${__trace.traceId}`); `grafana_side_queries()` gives those with sample values
in place of the variables, beside the dashboards' queries.
"""

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import yaml

ROOT = Path(__file__).resolve().parent.parent
DASHBOARDS = ROOT / "platform" / "grafana" / "dashboards"
DASHBOARD = DASHBOARDS / "iss-distance.json"
DATASOURCES = ROOT / "platform" / "grafana" / "provisioning" / "datasources"

# What a Tempo service-graph target stands for: it has no query text of its own.
SERVICE_MAP = "serviceMap"


def load_dashboard(path: Path = DASHBOARD) -> dict:
    return json.loads(path.read_text())


def panels(dashboard: dict) -> Iterator[dict]:
    """Every panel that shows data; rows are only headers, but a collapsed one holds panels."""
    for panel in dashboard["panels"]:
        if panel["type"] == "row":
            yield from panel.get("panels", [])
        else:
            yield panel


def target_datasource(panel: dict, target: dict) -> dict:
    """A target's own data source, or else its panel's."""
    return target.get("datasource") or panel["datasource"]


def query_of(datasource_type: str, target: dict) -> str:
    if datasource_type in ("prometheus", "loki"):
        return target["expr"]
    if datasource_type == "tempo":
        if target.get("queryType") == SERVICE_MAP:
            return SERVICE_MAP
        return target["query"]  # TraceQL
    raise ValueError(f"no query for a {datasource_type} target")


def dashboard_queries(path: Path = DASHBOARD) -> list[tuple[str, str]]:
    """Every query of the dashboard, as (data source type, query text).

    For prometheus and loki the text is the PromQL or LogQL expression, for tempo the
    TraceQL query, or "serviceMap" for the service graph.
    """
    queries = []
    for panel in panels(load_dashboard(path)):
        for target in panel.get("targets", []):
            datasource_type = target_datasource(panel, target)["type"]
            queries.append((datasource_type, query_of(datasource_type, target)))
    return queries


# Every query Grafana sends, whichever file it is written in


class Query(NamedTuple):
    language: str  # "promql", "logql" or "traceql"
    text: str  # as the backend receives it, with sample values for Grafana's variables
    where: str  # the file, and the place in it, for error messages


LANGUAGES = {"prometheus": "promql", "loki": "logql", "tempo": "traceql"}

# What Grafana puts in place of its variables, for one plausible span of the workshop.
# A query with a variable missing here fails loudly: add a sample value for it.
SAMPLE_VALUES = {
    '__span.tags["service.name"]': "frontend",
    "__trace.traceId": "4bf92f3577b34da6a3ce929d0e0e4736",
    "__value.raw": "4bf92f3577b34da6a3ce929d0e0e4736",  # a link from a trace_id field
    # tracesToMetrics: the span's tags, mapped to labels as its `tags` setting says.
    "__tags": 'service_name="frontend"',
    # The dashboard's learner picker (room mode), at All: its allValue matches every
    # learner's telemetry and telemetry without one. tests/test_room.py picks learners.
    "learner": ".*",
}
VARIABLE = re.compile(r"\$\{([^}]+)\}|\$(\w+)")  # ${name} or $name


def with_sample_values(text: str) -> str:
    """The text with each Grafana variable replaced; an unknown variable is an error."""

    def sample(match: re.Match) -> str:
        name = match[1] or match[2]
        if name not in SAMPLE_VALUES:
            raise KeyError(f"no sample value for the Grafana variable {match[0]} in {text!r}")
        return SAMPLE_VALUES[name]

    return VARIABLE.sub(sample, text)


def shown(path: Path) -> Path:
    """A path as error messages show it: from the repository's root when it is in it."""
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


def dashboard_records(path: Path) -> list[Query]:
    """The PromQL, LogQL and TraceQL of one dashboard; the service graph has no query."""
    records = []
    for panel in panels(load_dashboard(path)):
        for target in panel.get("targets", []):
            datasource_type = target_datasource(panel, target)["type"]
            if datasource_type == "tempo" and target.get("queryType") != "traceql":
                continue  # serviceMap, or a search built from filters
            where = f"{shown(path)}: panel {panel['title']!r}, target {target['refId']}"
            text = with_sample_values(query_of(datasource_type, target))
            records.append(Query(LANGUAGES[datasource_type], text, where))
    return records


def annotation_records(path: Path = DASHBOARD) -> list[Query]:
    """The PromQL of a dashboard's annotations: the events it marks on every time series.

    Kept apart from grafana_side_queries(): an annotation marks an event, such as an
    alert that fires, and has no data while nothing happens.
    """
    return [
        Query(
            "promql",
            with_sample_values(annotation["expr"]),
            f"{shown(path)}: annotation {annotation['name']!r}",
        )
        for annotation in load_dashboard(path)["annotations"]["list"]
        if annotation["datasource"]["type"] == "prometheus"
    ]


def provisioning_records(path: Path) -> list[Query]:
    """The queries of the data source links in one provisioning file.

    A provisioning file writes `$` as `$$` (Grafana expands `$NAME` from the environment),
    so `$$` is unescaped first. A Loki derived field's url is not a query but a trace id,
    which Tempo looks up as such, so it is left out.
    """
    datasources = yaml.safe_load(path.read_text()).get("datasources", [])
    types = {source["uid"]: source["type"] for source in datasources}
    records = []

    def add(language: str, text: str, where: str) -> None:
        text = with_sample_values(text.replace("$$", "$"))
        records.append(Query(language, text, f"{shown(path)}: {where}"))

    for source in datasources:
        name = source["name"]
        links = source.get("jsonData", {})
        to_logs = links.get("tracesToLogsV2", {})
        if to_logs.get("customQuery"):
            add("logql", to_logs["query"], f"{name} tracesToLogsV2.query")
        for query in links.get("tracesToMetrics", {}).get("queries", []):
            add("promql", query["query"], f"{name} tracesToMetrics {query['name']!r}")
        # Correlations: a link whose target is a query of another data source.
        for correlation in source.get("correlations", []):
            target_type = types[correlation["targetUID"]]
            target = correlation["config"]["target"]
            text = target["query"] if target_type == "tempo" else target["expr"]
            add(LANGUAGES[target_type], text, f"{name} correlation {correlation['label']!r}")
    return records


def grafana_side_queries(
    dashboards: Path = DASHBOARDS, datasources: Path = DATASOURCES
) -> list[Query]:
    """Every PromQL, LogQL and TraceQL query of the dashboards and the data source links."""
    records = []
    for path in sorted(dashboards.glob("*.json")):
        records += dashboard_records(path)
    for path in sorted(datasources.glob("*.yml")):
        records += provisioning_records(path)
    return records


# Grafana's service graph: queries with no text in our files


# The Tempo data source's Service Graph tab runs queries fixed in Grafana's own code
# (public/app/plugins/datasource/tempo/graphTransform.ts, Grafana 12 and 13), against the
# data source named in serviceMap (Prometheus). The graph draws its nodes and edges from
# these service-graph series, over the time range ($__range):
SERVICE_MAP_METRICS = [
    "traces_service_graph_request_server_seconds_sum",
    "traces_service_graph_request_total",
    "traces_service_graph_request_failed_total",
    "traces_service_graph_request_server_seconds_bucket",
]
# ... and its table (a node's operations) from Tempo's span-metric names: the five
# busiest server span names, their error rates, then the p90 duration of each span name
# the first query found. Grafana adds the node clicked as `service="..."` (it maps the
# graph's client and server labels to service) and the table's filter in the braces.
TABLE_RATE = "topk(5, sum(rate(traces_spanmetrics_calls_total{}[$__range])) by (span_name))"
TABLE_DURATION = (
    "histogram_quantile(.9, sum(rate(traces_spanmetrics_latency_bucket{}[$__range])) by (le))"
)
SERVER_SPANS = 'span_kind="SPAN_KIND_SERVER"'
ERRORS = 'status_code="STATUS_CODE_ERROR"'


def _filled(expr: str, matchers: list[str], window: str) -> str:
    return expr.replace("{}", "{" + ",".join(matchers) + "}").replace("$__range", window)


def service_graph_table_queries(service: str, window: str = "5m") -> dict[str, str]:
    """The table's first queries for one node of the graph, as Prometheus receives them."""
    node = f'service="{service}"'
    return {
        "rate": _filled(TABLE_RATE, [node, SERVER_SPANS], window),
        "errors": _filled(TABLE_RATE, [ERRORS, node], window),
    }


def service_graph_duration_query(service: str, span_name: str, window: str = "5m") -> str:
    """The table's duration column, for one span name that the rate query returned."""
    return _filled(TABLE_DURATION, [f'service="{service}"', f'span_name=~"{span_name}"'], window)


def service_map_queries(window: str = "5m") -> list[str]:
    """The graph's own queries: rate() of each service-graph series (instant, like Grafana)."""
    return [f"rate({metric}[{window}])" for metric in SERVICE_MAP_METRICS]
