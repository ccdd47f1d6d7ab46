"""Read the queries out of the Grafana dashboard, so that tests can run them as they are.

The dashboard's queries are literal: no template variables, fixed rate windows. The same
text that Grafana sends to Prometheus, Loki or Tempo can be sent by a test.
"""

import json
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DASHBOARD = ROOT / "grafana" / "dashboards" / "iss-distance.json"

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
