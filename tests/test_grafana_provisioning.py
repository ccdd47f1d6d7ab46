"""Static checks of Grafana's provisioning files and the dashboard.

Grafana does not run in CI, and a mistake here fails quietly: a link that names a
missing data source uid is simply not shown, and an unescaped $ in a provisioning
file is replaced by an empty environment variable. So these tests read the files
the way Grafana does and check what it would otherwise get wrong without a word.
"""

import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from tests.grafana_queries import (
    ROOT,
    SERVICE_MAP,
    annotation_records,
    dashboard_queries,
    load_dashboard,
    panels,
    target_datasource,
)
from tests.test_containers import compose_config

PROVISIONING = ROOT / "platform" / "grafana" / "provisioning"
DATASOURCES = PROVISIONING / "datasources" / "datasources.yml"
DASHBOARD_PROVIDERS = PROVISIONING / "dashboards" / "dashboards.yml"
SERVICES = ["frontend", "gateway", "geolocator-service", "iss-distance-service"]


def load_yaml(path):
    return yaml.safe_load(path.read_text())


@pytest.fixture(scope="module")
def datasources() -> dict[str, dict]:
    """The provisioned data sources, by uid."""
    return {source["uid"]: source for source in load_yaml(DATASOURCES)["datasources"]}


@pytest.fixture(scope="module")
def dashboard() -> dict:
    return load_dashboard()


def correlations(datasources) -> list[tuple[str, str, str]]:
    """Every link between data sources: (where it is set, target uid, target type)."""
    prometheus = datasources["prometheus"]["jsonData"]
    loki = datasources["loki"]["jsonData"]
    tempo = datasources["tempo"]["jsonData"]
    return [
        *[("exemplar " + d["name"], d["datasourceUid"], "tempo")
          for d in prometheus["exemplarTraceIdDestinations"]],
        *[("derived field " + d["name"], d["datasourceUid"], "tempo")
          for d in loki["derivedFields"]],
        ("tracesToLogsV2", tempo["tracesToLogsV2"]["datasourceUid"], "loki"),
        ("tracesToMetrics", tempo["tracesToMetrics"]["datasourceUid"], "prometheus"),
        ("serviceMap", tempo["serviceMap"]["datasourceUid"], "prometheus"),
    ]  # fmt: skip


def nodes(value):
    """Every value in parsed YAML or JSON, however deeply nested, itself included."""
    yield value
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        for child in value:
            yield from nodes(child)


def strings_in(value):
    return (node for node in nodes(value) if isinstance(node, str))


def datasource_refs(value):
    """Every {"type": ..., "uid": ...} data source reference in the dashboard."""
    for node in nodes(value):
        if isinstance(node, dict) and isinstance(node.get("datasource"), dict | str):
            yield node["datasource"]


# Data sources and their links


def test_each_backend_has_a_data_source_with_a_stable_uid(datasources):
    assert {uid: (s["type"], s["url"]) for uid, s in datasources.items()} == {
        "prometheus": ("prometheus", "http://prometheus:9090"),
        "loki": ("loki", "http://loki:3100"),
        "tempo": ("tempo", "http://tempo:3200"),
    }
    assert [uid for uid, s in datasources.items() if s.get("isDefault")] == ["prometheus"]


def test_every_link_between_data_sources_targets_a_provisioned_one(datasources):
    for where, uid, kind in correlations(datasources):
        assert uid in datasources, f"{where} links to a missing data source {uid!r}"
        assert datasources[uid]["type"] == kind, f"{where} should link to {kind}"


def test_exemplars_open_their_trace(datasources):
    destinations = datasources["prometheus"]["jsonData"]["exemplarTraceIdDestinations"]
    # trace_id: every metric arrives over OTLP (Tempo's generator, which named it
    # traceID, is no longer used).
    assert {d["name"] for d in destinations} == {"trace_id"}


def test_a_span_links_to_its_logs_by_trace_id(datasources):
    to_logs = datasources["tempo"]["jsonData"]["tracesToLogsV2"]
    assert to_logs["customQuery"] is True
    # Loki 3 keeps trace_id as structured metadata: filter on it, not on the line.
    assert to_logs["query"] == (
        '{service_name="$${__span.tags["service.name"]}"} | trace_id="$${__trace.traceId}"'
    )


def test_a_log_line_links_to_its_trace(datasources):
    [field] = datasources["loki"]["jsonData"]["derivedFields"]
    assert field["matcherType"] == "label"
    assert field["matcherRegex"] == "trace_id"
    assert field["url"] == "$${__value.raw}"


def test_a_span_links_to_its_service_metrics(datasources):
    to_metrics = datasources["tempo"]["jsonData"]["tracesToMetrics"]
    assert to_metrics["tags"] == [{"key": "service.name", "value": "service_name"}]
    queries = [q["query"] for q in to_metrics["queries"]]
    assert queries and all("{$$__tags}" in query for query in queries)


def test_grafana_lists_the_alerting_rules_that_prometheus_evaluates(datasources):
    prometheus = datasources["prometheus"]["jsonData"]
    assert prometheus["manageAlerts"] is True
    assert prometheus["prometheusType"] == "Prometheus"


def test_the_service_graph_and_search_are_on(datasources):
    tempo = datasources["tempo"]["jsonData"]
    assert tempo["nodeGraph"] == {"enabled": True}
    assert tempo["search"] == {"hide": False}


@pytest.mark.parametrize(
    "path", sorted(PROVISIONING.rglob("*.yml")), ids=lambda p: str(p.relative_to(PROVISIONING))
)
def test_grafana_variables_are_escaped_from_environment_expansion(path):
    """Grafana expands $NAME and ${NAME} from the environment in provisioning files."""
    for value in strings_in(load_yaml(path)):
        assert "$" not in value.replace("$$", ""), f"unescaped $ in {value!r}"


# Dashboards


def test_the_dashboard_provider_loads_the_folder_compose_mounts():
    [provider] = load_yaml(DASHBOARD_PROVIDERS)["providers"]
    assert provider["type"] == "file"
    grafana = load_yaml(ROOT / "docker-compose.yml")["services"]["grafana"]
    mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in grafana["volumes"]}
    assert mounts[provider["options"]["path"]] == "./platform/grafana/dashboards"
    assert mounts["/etc/grafana/provisioning"] == "./platform/grafana/provisioning"


def test_the_dashboard_has_a_stable_uid_and_follows_the_last_15_minutes(dashboard):
    assert dashboard["uid"] == "iss-distance"
    assert dashboard["refresh"] == "10s"
    assert dashboard["time"] == {"from": "now-15m", "to": "now"}


def test_the_dashboard_names_its_data_sources_by_provisioned_uid(dashboard, datasources):
    refs = list(datasource_refs(dashboard))
    assert refs
    for ref in refs:
        assert isinstance(ref, dict), f"a data source named, not referenced by uid: {ref!r}"
        assert ref["uid"] in datasources, ref
        assert ref["type"] == datasources[ref["uid"]]["type"], ref
    for panel in panels(dashboard):
        for target in panel["targets"]:
            assert "uid" in target_datasource(panel, target), panel["title"]


def test_panel_ids_are_unique(dashboard):
    ids = [panel["id"] for panel in dashboard["panels"]]
    ids += [panel["id"] for row in dashboard["panels"] for panel in row.get("panels", [])]
    assert len(ids) == len(set(ids))


# Room mode: the dashboard's learner picker, and the matcher each selector gets from it.
MINE = 'service_namespace=~"$learner"'


def test_the_learner_picker_lists_namespaces_and_all_matches_a_missing_one(dashboard):
    [variable] = dashboard["templating"]["list"]
    assert variable["name"] == "learner"
    assert variable["datasource"]["type"] == "prometheus"
    assert variable["query"] == "label_values(service_namespace)"
    # All is ".*", which also matches series without the label: outside room mode.
    assert variable["includeAll"] is True and variable["allValue"] == ".*"


# TraceQL's =~ is false where the attribute is missing (telemetry without a learner
# name), so All (".*") matches there by itself; the service graph's edges carry the
# calling service's namespace (platform/otel-collector-service-graph.yml).
MINE_IN_TRACEQL = '(resource.service.namespace=~"$learner" || "$learner" = ".*")'
MINE_IN_SERVICE_MAP = '{client_service_namespace=~"$learner"}'


def test_every_selector_picks_the_learner_and_nothing_else_varies():
    for kind, query in dashboard_queries():
        if kind == "tempo" and query != SERVICE_MAP:
            assert query.count("{") == query.count(MINE_IN_TRACEQL) == 1, query
            assert "$" not in query.replace(MINE_IN_TRACEQL, ""), query
        elif kind != "tempo":
            assert query.count("{") == query.count("{" + MINE), query
            assert "$" not in query.replace(MINE, ""), query


def test_the_service_graph_picks_the_learner(dashboard):
    """Its edges name their learner: the connector's dimension, as the label that Grafana
    filters on (the connector prefixes client_ and server_, Prometheus turns . into _)."""
    [graph] = [panel for panel in panels(dashboard) if panel["type"] == "nodeGraph"]
    [target] = graph["targets"]
    assert target["serviceMapQuery"] == MINE_IN_SERVICE_MAP
    connector = yaml.safe_load((ROOT / "platform/otel-collector-service-graph.yml").read_text())
    [dimension] = connector["connectors"]["servicegraph"]["dimensions"]
    assert "client_" + dimension.replace(".", "_") in MINE_IN_SERVICE_MAP


REQUIRED_QUERIES = [
    ("prometheus", "sum by (service_name) "
                   f"(rate(http_server_request_duration_seconds_count{{{MINE}}}[1m]))"),
    ("prometheus", "histogram_quantile(0.95, sum by (le, service_name) "
                   f"(rate(http_server_request_duration_seconds_bucket{{{MINE}}}[1m])))"),
    ("prometheus", f"sum by (iss_position_source) (rate(iss_requests_total{{{MINE}}}[1m]))"),
    ("prometheus", f'sum by (error_type) (rate(iss_requests_total{{{MINE}, error_type!=""}}[1m]))'),
    ("prometheus", "sum by (http_response_status_code, iss_position_source) "
                   f"(rate(incoming_requests_total{{{MINE}}}[1m]))"),
    ("loki", f'{{{MINE}, service_name=~"' + "|".join(SERVICES) + '"}'),
    ("tempo", f'{{resource.service.name="frontend" && {MINE_IN_TRACEQL}}}'),
    ("tempo", SERVICE_MAP),
]  # fmt: skip


@pytest.mark.parametrize("query", REQUIRED_QUERIES, ids=lambda q: q[1])
def test_the_dashboard_has_each_required_query(query):
    assert query in dashboard_queries()


def test_the_dashboard_shows_5xx_errors_per_service():
    assert any(
        kind == "prometheus"
        and "by (service_name)" in query
        and re.search(r'http_response_status_code=~"5\.\."', query)
        for kind, query in dashboard_queries()
    )


def panels_querying(dashboard, kind):
    return [
        panel
        for panel in panels(dashboard)
        for target in panel["targets"]
        if target_datasource(panel, target)["type"] == kind
    ]


def test_each_signal_has_the_right_visualization(dashboard):
    assert {panel["type"] for panel in panels_querying(dashboard, "prometheus")} == {"timeseries"}
    assert {panel["type"] for panel in panels_querying(dashboard, "loki")} == {"logs"}
    assert {panel["type"] for panel in panels_querying(dashboard, "tempo")} == {
        "table",
        "nodeGraph",
    }
    for panel in panels_querying(dashboard, "tempo"):
        [target] = panel["targets"]
        expected = "serviceMap" if panel["type"] == "nodeGraph" else "traceql"
        assert target["queryType"] == expected


def test_the_dashboard_marks_when_an_alert_fires(dashboard):
    [annotation] = annotation_records()
    assert annotation.text == 'ALERTS{alertstate="firing", service_namespace=~".*"}'
    [marks] = dashboard["annotations"]["list"]
    assert marks["enable"] is True
    assert marks["datasource"] == {"type": "prometheus", "uid": "prometheus"}
    # Each mark names the alert, and the service and learner it is about.
    assert {"alertname", "service_namespace", "service_name"} <= set(marks["tagKeys"].split(","))


def test_latency_percentiles_show_exemplars(dashboard):
    with_exemplars = [
        target
        for panel in panels(dashboard)
        for target in panel["targets"]
        if target.get("exemplar")
    ]
    assert with_exemplars
    assert all(t["expr"].startswith("histogram_quantile(") for t in with_exemplars)


def test_the_pages_trace_link_opens_explore_on_the_tempo_data_source(datasources):
    """compose's TRACE_UI_URL: Grafana's address, Explore, a provisioned Tempo uid, and the
    trace id as the query, which Tempo answers with that trace. (The room's front sends a
    trace link to the same Explore: tests/test_containers.py.)"""
    services = compose_config("docker-compose.yml")["services"]
    frontend = services["frontend"]
    link = urlsplit(frontend["environment"]["TRACE_UI_URL"])
    [grafana] = services["grafana"]["ports"]
    assert (link.hostname, str(link.port)) == (grafana["host_ip"], grafana["published"])
    assert link.path == "/explore"
    [pane] = json.loads(parse_qs(link.query)["panes"][0]).values()
    [query] = pane["queries"]
    assert datasources[query["datasource"]["uid"]]["type"] == "tempo"
    assert pane["datasource"] == query["datasource"]["uid"]
    assert (query["queryType"], query["query"]) == ("traceql", "{trace_id}")
    assert "Grafana" in frontend["environment"]["TRACE_UI_NAME"]
