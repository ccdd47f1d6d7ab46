"""Every LogQL and TraceQL query of the workshop, parsed by Grafana's own parsers.

Natively, Jaeger and VictoriaLogs stand in for Tempo and Loki, and they speak neither
TraceQL nor full LogQL; only Docker runs those. A typo in a README query, a dashboard
panel or a "Logs for this span" link would go unnoticed until a learner met it. So each
query goes through the grammars of Grafana's query editors (see tests/grafana_parsers.py),
all of them in one run of node.
"""

from pathlib import Path

import pytest
import yaml

from tests.grafana_parsers import describe, failures, parse
from tests.grafana_queries import (
    DASHBOARDS,
    DATASOURCES,
    ROOT,
    Query,
    grafana_side_queries,
    with_sample_values,
)
from tests.readme import code_blocks

# A platform test (pyproject.toml): it needs Node.js: Grafana's own query parsers.
pytestmark = pytest.mark.platform

PARSED = ("logql", "traceql")


def docs_queries() -> list[Query]:
    return [
        Query(language, block.strip(), f"docs: {language} block {number}")
        for language in PARSED
        for number, block in enumerate(code_blocks(language), start=1)
    ]


def grafana_queries_in(folder: Path) -> list[Query]:
    """The LogQL and TraceQL that Grafana reads from the files of one folder."""
    prefix = f"{folder.relative_to(ROOT)}/"
    return [
        query
        for query in grafana_side_queries()
        if query.language in PARSED and query.where.startswith(prefix)
    ]


SOURCES = {
    "docs": docs_queries(),
    "dashboards": grafana_queries_in(DASHBOARDS),
    "provisioning": grafana_queries_in(DATASOURCES),
}
QUERIES = [query for queries in SOURCES.values() for query in queries]


def as_input(query: Query) -> dict:
    return {"language": query.language, "query": query.text, "where": query.where}


@pytest.fixture(scope="module")
def results() -> dict[Query, dict]:
    """Every query's result, from one run of the parsers."""
    return dict(zip(QUERIES, parse([as_input(query) for query in QUERIES]), strict=True))


@pytest.mark.parametrize("query", QUERIES, ids=lambda query: query.where)
def test_query_parses(results, query):
    result = results[query]
    assert result["ok"], describe(result)


@pytest.mark.parametrize(
    ("source", "languages"),
    [
        ("docs", {"logql", "traceql"}),
        ("dashboards", {"logql", "traceql"}),
        ("provisioning", {"logql"}),  # the "Logs for this span" link
    ],
)
def test_each_source_has_queries_to_parse(source, languages):
    """So that a change in where queries are read cannot make the checks pass unseen."""
    assert {query.language for query in SOURCES[source]} >= languages


def test_grafana_variables_get_sample_values():
    for query in grafana_side_queries():
        assert "$" not in query.text, query
    with pytest.raises(KeyError, match=r"\$\{__unknown\}"):
        with_sample_values('{service_name="${__unknown}"}')


def test_a_broken_query_is_reported_with_its_position():
    broken = [
        {"language": "logql", "query": '{service_name="x"} | trace_id=', "where": "a"},
        {"language": "traceql", "query": "{ resource.service.name = }", "where": "b"},
        {"language": "logql", "query": '{service_name="x"} | trace_id="1"', "where": "fine"},
    ]
    found = failures(broken)
    assert [(f["where"], f["position"]) for f in found] == [("a", 30), ("b", 26)]
    assert found[1]["excerpt"] == "{ resource.service.name = }\n" + " " * 26 + "^"
    assert "b: traceql does not parse at character 26" in describe(found[1])


def test_correlations_are_read_too(tmp_path: Path):
    """Grafana also provisions correlations: links whose target is a query."""
    datasources = yaml.safe_load((DATASOURCES / "datasources.yml").read_text())
    [loki] = [source for source in datasources["datasources"] if source["uid"] == "loki"]
    loki["correlations"] = [
        {
            "targetUID": "tempo",
            "label": "Spans of this trace",
            "config": {"type": "query", "target": {"query": '{trace:id="$${__value.raw}"}'}},
        }
    ]
    (tmp_path / "datasources.yml").write_text(yaml.safe_dump(datasources))
    assert Query(
        "traceql",
        '{trace:id="4bf92f3577b34da6a3ce929d0e0e4736"}',
        f"{tmp_path / 'datasources.yml'}: Loki correlation 'Spans of this trace'",
    ) in grafana_side_queries(dashboards=tmp_path, datasources=tmp_path)
