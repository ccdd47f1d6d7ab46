"""Where a learner looks without Docker: the native web UIs' addresses, built from queries.

Each section's page shows its queries (PromQL, LogsQL) in code blocks. Below each block,
a link opens the same query in a native web UI that draws it: Prometheus' graph view,
VictoriaLogs' vmui. The links are generated from the blocks, so the query shown and the
query opened are one text (tests/test_look_at.py fails when they drift apart):

    python -m workshop.look_at      # rewrites the links below the docs' query blocks

Traces have no query language natively; Zipkin opens a trace by its id, or searches by
service.
"""

import json
import re
import sys
from pathlib import Path
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parent.parent
PROMETHEUS = "http://127.0.0.1:9090"
VICTORIA_LOGS = "http://127.0.0.1:9428"
ZIPKIN = "http://127.0.0.1:9411"
JAEGER = "http://127.0.0.1:16686"
TRACE_ID = "<trace id>"  # where the docs' addresses want the learner's trace id
RANGE = "15m"  # how far back the views look: a workshop section's worth


def prometheus_graph(*queries: str) -> str:
    """Prometheus' query page, each query as a graph panel of its own (g0, g1, ...).

    No exemplars: the UI reads `show_exemplars` from the address, but its 3.15 release
    draws none (the button is commented out in web/ui's QueryPanel.tsx). The exemplars
    API gives them instead: /api/v1/query_exemplars?query=...
    """
    params = {}
    for number, promql in enumerate(queries):
        panel = {"expr": promql, "tab": "graph", "range_input": RANGE}
        params.update({f"g{number}.{name}": value for name, value in panel.items()})
    return f"{PROMETHEUS}/query?" + urlencode(params, quote_via=quote)


def vmui(logsql: str) -> str:
    """VictoriaLogs' web UI with the query run (its router reads the part after '#')."""
    return f"{VICTORIA_LOGS}/select/vmui/#/?" + urlencode(
        {"query": logsql, "g0.relative_time": f"last_{RANGE.removesuffix('m')}_minutes"},
        quote_via=quote,
    )


def zipkin_trace(trace_id: str = TRACE_ID) -> str:
    """Zipkin's waterfall of one trace."""
    return f"{ZIPKIN}/zipkin/traces/{trace_id}"


# Zipkin's pages run their search from the address only when it holds a time range, and
# then a fixed one: from 1970 to 2100, every trace that Zipkin (in memory) holds.
EVER_MS = ("0", "4102444800000")


def zipkin_search(service: str, span: str = "", tags: str = "", limit: int = 10) -> str:
    """Zipkin's search: the traces through a service (with that span, those tags)."""
    params = {"serviceName": service, "spanName": span, "annotationQuery": tags}
    params = {name: value for name, value in params.items() if value}
    params |= {"lookback": "range", "startTs": EVER_MS[0], "endTs": EVER_MS[1]}
    return f"{ZIPKIN}/zipkin/?" + urlencode(params | {"limit": str(limit)}, quote_via=quote)


def zipkin_dependencies() -> str:
    """Zipkin's drawing of which service calls which."""
    return f"{ZIPKIN}/zipkin/dependency?startTime={EVER_MS[0]}&endTime={EVER_MS[1]}"


def trace_ui(java: bool) -> tuple[str, str]:
    """Natively, where the page links its trace id ("{trace_id}" stands for it) and the
    tool's name: Zipkin's waterfall where Java runs Zipkin, else Jaeger's JSON API."""
    if java:
        return zipkin_trace("{trace_id}"), "Zipkin"
    return f"{JAEGER}/api/traces/{{trace_id}}", "Jaeger's API"


# --- The links below the docs' query blocks -------------------------------------------------

VIEWS = {
    "promql": ("graph it in Prometheus", prometheus_graph),
    "logsql": ("open it in VictoriaLogs", vmui),
}
# A fenced block of a viewable language, and the link line right below it, if any.
BLOCK = re.compile(
    r"^(?P<indent>[ \t]*)```(?P<language>" + "|".join(VIEWS) + r")\n"
    r"(?P<body>(?:.*\n)*?)(?P=indent)```\n"
    r"(?:(?P=indent)Natively: \[[^\]]*\]\([^)]*\)\.\n)?",
    re.MULTILINE,
)


def link_line(language: str, query: str, indent: str = "") -> str:
    words, view = VIEWS[language]
    return f"{indent}Natively: [{words}]({view(query)}).\n"


def query_of(block: re.Match) -> str:
    lines = [line.removeprefix(block["indent"]) for line in block["body"].splitlines()]
    return "\n".join(lines).strip()


# --- Section 6's dashboard, as Prometheus graphs ---------------------------------------------

DASHBOARD = ROOT / "platform" / "grafana" / "dashboards" / "iss-distance.json"
# Where a page lists them: the list under this line.
DASHBOARD_LIST = "<!-- The dashboard's Prometheus panels, natively: python -m workshop.look_at -->"


def dashboard_panels() -> list[tuple[str, list[str]]]:
    """(title, PromQL queries) of each dashboard panel that asks Prometheus, the learner
    picker at its "All" value."""
    dashboard = json.loads(DASHBOARD.read_text())
    every_learner = {f"${v['name']}": v["allValue"] for v in dashboard["templating"]["list"]}
    rows = [panel for panel in dashboard["panels"] if panel["type"] == "row"]
    collapsed = [panel for row in rows for panel in row.get("panels", [])]
    found = []
    for panel in dashboard["panels"] + collapsed:
        queries = [t["expr"] for t in panel.get("targets", []) if "expr" in t]
        for variable, value in every_learner.items():
            queries = [query.replace(variable, value) for query in queries]
        if queries and panel.get("datasource", {}).get("type") == "prometheus":
            found.append((panel["title"], queries))
    return found


def dashboard_list() -> str:
    """The list: the whole dashboard on one page, then each panel on its own."""
    panels = dashboard_panels()
    every_query = [query for _title, queries in panels for query in queries]
    lines = [f"- [Every panel, one under the other]({prometheus_graph(*every_query)})"]
    for title, queries in panels:
        lines.append(f"- [{title}]({prometheus_graph(*queries)})")
    return "\n".join(lines) + "\n"


def with_dashboard_list(text: str) -> str:
    listed = re.escape(DASHBOARD_LIST) + r"\n(?:- \[.*\n)*"
    return re.sub(listed, lambda _: f"{DASHBOARD_LIST}\n{dashboard_list()}", text)


# A link to some of the dashboard's panels on one page, named by title in a comment:
#   <!-- natively, the dashboard's panels: Request rate per service; Error rate per service -->
#   [words](the link, rewritten from the panels)
SOME_PANELS = re.compile(
    r"^(?P<comment><!-- natively, the dashboard's panels: (?P<titles>.*) -->)\n"
    r"\[(?P<words>[^\]]*)\]\([^)]*\)",
    re.MULTILINE,
)


def with_some_panels(text: str) -> str:
    def linked(match: re.Match) -> str:
        panels = dict(dashboard_panels())
        queries = [q for title in match["titles"].split("; ") for q in panels[title]]
        return f"{match['comment']}\n[{match['words']}]({prometheus_graph(*queries)})"

    return SOME_PANELS.sub(linked, text)


def with_links(text: str) -> str:
    """The page's text with a link line under each PromQL and LogsQL block, and the
    dashboard's panels where the page has their markers."""

    def linked(block: re.Match) -> str:
        indent, language = block["indent"], block["language"]
        shown = f"{indent}```{language}\n{block['body']}{indent}```\n"
        return shown + link_line(block["language"], query_of(block), block["indent"])

    return with_some_panels(with_dashboard_list(BLOCK.sub(linked, text)))


def section_pages() -> list[Path]:
    return sorted((ROOT / "docs").glob("[0-9][0-9]-*.md"))


def main() -> None:
    changed = []
    for page in section_pages():
        text = page.read_text()
        if with_links(text) != text:
            page.write_text(with_links(text))
            changed.append(page.name)
    print("rewrote the links in " + ", ".join(changed) if changed else "every link is current")
    sys.exit(0)


if __name__ == "__main__":
    main()
