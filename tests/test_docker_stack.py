"""The Docker proof's own logic (tests/docker_stack.py), on answers stored from Grafana's
query API and `docker stats`: the proof runs only in the GitHub Actions job, on a real
engine, so what it concludes from an answer is checked here."""

import json
import threading
from pathlib import Path

import pytest
import yaml
from flask import Flask

from native import read_only_front
from tests import docker_stack
from tests.docker_stack import PeakMemory, Query, QueryError
from tests.test_read_only_front import docker_environment

SAMPLES = Path(__file__).parent / "stored_answers"
WORKFLOW = Path(__file__).resolve().parent.parent / ".github" / "workflows" / "docker.yml"
MIB = 1024**2


def sample(name: str) -> dict:
    return json.loads((SAMPLES / name).read_text())


def test_an_answer_with_series_has_rows_and_an_empty_one_has_none():
    assert docker_stack.rows_in(sample("prometheus_instant.json")) == 2
    assert docker_stack.rows_in(sample("prometheus_empty.json")) == 0


def test_a_refused_query_is_an_error_not_an_empty_answer():
    with pytest.raises(QueryError, match="parse error"):
        docker_stack.rows_in(sample("prometheus_error.json"))


def test_trace_ids_are_read_from_a_traceql_search():
    assert docker_stack.trace_ids_in(sample("tempo_search.json"))[0] == (
        "4a1c2e0b9f6d3e21a7b8c9d0e1f2a3b4"
    )
    assert docker_stack.trace_ids_in(sample("prometheus_instant.json")) == []


@pytest.mark.parametrize(
    ("language", "uid", "field"),
    [("promql", "prometheus", "expr"), ("logql", "loki", "expr"), ("traceql", "tempo", "query")],
)
def test_each_query_goes_to_its_data_source_as_grafana_sends_it(language, uid, field):
    body = docker_stack.ds_query_body(Query(language, "the query", "here"))
    [target] = body["queries"]
    assert target["datasource"]["uid"] == uid and target[field] == "the query"
    # The uids are the provisioned ones.
    provisioned = yaml.safe_load(
        (
            docker_stack.ROOT / "platform/grafana/provisioning/datasources/datasources.yml"
        ).read_text()
    )
    assert uid in {source["uid"] for source in provisioned["datasources"]}


@pytest.mark.parametrize(
    ("text", "expected"),
    [("55MiB", 55 * MIB), ("166.7MiB", int(166.7 * MIB)), ("900kB", 900_000), ("0B", 0),
     ("1.5GiB", int(1.5 * 1024 * MIB))],
)  # fmt: skip
def test_docker_sizes_are_read_in_their_units(text, expected):
    assert docker_stack.size(text) == expected


def test_docker_stats_lines_give_each_services_usage_and_limit():
    lines = (SAMPLES / "docker_stats.txt").read_text()
    assert [docker_stack.memory_of(line) for line in lines.splitlines()] == [
        ("otel-collector", 55 * MIB, 256 * MIB),
        ("tempo", int(166.7 * MIB), 320 * MIB),
        ("load-generator", int(19.21 * MIB), 48 * MIB),
    ]


def peak_of(output: str) -> PeakMemory:
    peak = PeakMemory()
    peak.record(output)
    return peak


def test_the_peak_is_the_highest_sample():
    first = (SAMPLES / "docker_stats.txt").read_text()
    later = first.replace('"55MiB / 256MiB"', '"201MiB / 256MiB"')
    peak = peak_of(first)
    peak.record(later)
    peak.record(first)
    assert peak.peaks["otel-collector"] == 201 * MIB


def test_memory_problems_name_a_peak_near_the_limit_a_wrong_limit_and_a_missing_container():
    declared = {"otel-collector": 256 * MIB, "tempo": 320 * MIB, "load-generator": 48 * MIB}
    stats = (SAMPLES / "docker_stats.txt").read_text()
    assert docker_stack.memory_problems(peak_of(stats), declared) == []

    near = stats.replace('"55MiB / 256MiB"', '"250MiB / 256MiB"')
    assert docker_stack.memory_problems(peak_of(near), declared) == [
        f"otel-collector: peaked at {250 * MIB} of {256 * MIB} bytes"
    ]
    unlimited = stats.replace('"19.21MiB / 48MiB"', '"19.21MiB / 7.6GiB"')
    [problem] = docker_stack.memory_problems(peak_of(unlimited), declared)
    assert problem.startswith("load-generator: limit ")
    assert docker_stack.memory_problems(peak_of(stats), declared | {"grafana": MIB}) == [
        "grafana: never seen by docker stats"
    ]


def test_the_proof_asks_every_query_the_native_tests_read():
    """The same lists: the docs' blocks in every language, and the service graph's own."""
    queries = docker_stack.docs_queries()
    for language in ("promql", "logql", "traceql"):
        assert [q.text for q in queries if q.language == language] == (
            docker_stack.code_blocks(language)
        )
        assert any(q.language == language for q in queries), language
    graph = [q.text for q in docker_stack.service_graph_queries()]
    assert "rate(traces_service_graph_request_total[5m])" in graph
    assert any("traces_spanmetrics_calls_total" in q for q in graph)


def test_the_workflow_starts_the_stack_with_load_then_runs_the_proof():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    [job] = workflow["jobs"].values()
    runs = [step["run"] for step in job["steps"] if "run" in step]
    up = "docker compose --profile load up -d --build --wait"
    assert up in runs
    assert runs.index(up) < runs.index("python -m tests.docker_stack")
    assert workflow["permissions"] == {"contents": "read"}
    # On a Compose at least as new as the docs ask.
    assert any("COMPOSE_MINIMUM" in run and "sort --version-sort" in run for run in runs)


@pytest.fixture
def fake_grafana(serve, monkeypatch):
    """A Grafana whose /api/ds/query answers with the stored answers, in turn."""
    answers = []
    app = Flask("fake-grafana")

    @app.post("/api/ds/query")
    def ds_query():
        return app.response_class(json.dumps(answers.pop(0)), mimetype="application/json")

    monkeypatch.setattr(docker_stack, "GRAFANA", serve(app))
    return answers


def test_a_query_has_data_once_grafana_returns_some(fake_grafana):
    fake_grafana += [sample("prometheus_empty.json"), sample("prometheus_instant.json")]
    query = Query("promql", "up", "here")
    assert docker_stack.has_data(query, deadline=30) is None  # asked again, then data
    assert fake_grafana == []


def test_a_query_that_never_has_data_says_so(fake_grafana):
    fake_grafana += [sample("prometheus_empty.json")] * 50
    assert docker_stack.has_data(Query("promql", "up", "here"), deadline=0) == "no data"


def test_a_refused_query_fails_at_once_with_grafanas_message(fake_grafana):
    fake_grafana += [sample("prometheus_error.json")]
    problem = docker_stack.has_data(Query("promql", "sum(up{)", "here"), deadline=30)
    assert "parse error" in problem


# --- Room mode's read-only front -----------------------------------------------------------


def test_the_workflow_then_starts_the_rooms_front_beside_the_stack_and_checks_it():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    [job] = workflow["jobs"].values()
    runs = [step["run"] for step in job["steps"] if "run" in step]
    room = "docker compose -f docker-compose.yml -f docker-compose.room.yml up -d --wait room-view"
    assert runs.index("python -m tests.docker_stack") < runs.index(room)
    assert runs.index(room) < runs.index("python -m tests.docker_stack room-view")
    # Taken down with the room file too: room-view is not in docker-compose.yml alone.
    assert runs[-1].startswith("docker compose -f docker-compose.yml -f docker-compose.room.yml")
    assert runs[-1].endswith(" down --volumes")


@pytest.fixture
def room_view(serve, closed_port_url, monkeypatch):
    """The front as the room-view container runs it, before a Grafana that shows any
    Explore page, and no Prometheus (where nothing listens): starts it with these views."""
    grafana = Flask("fake-grafana")
    grafana.get("/explore")(lambda: "Explore")
    monkeypatch.setattr(docker_stack, "GRAFANA", serve(grafana))
    grafana_port = docker_stack.GRAFANA.rsplit(":", 1)[1]
    servers = []

    def start(views):
        server = read_only_front.Front(("127.0.0.1", 0), views)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        monkeypatch.setattr(docker_stack, "ROOM_VIEW", f"http://127.0.0.1:{server.server_port}")

    environment = docker_environment()
    yield (
        start,
        environment
        | {
            "PROMETHEUS_URL": closed_port_url,
            "TRACE_PAGE": environment["TRACE_PAGE"].replace(":3000/", f":{grafana_port}/"),
        },
    )
    for server in servers:
        server.shutdown()
        server.server_close()


def test_the_rooms_front_is_checked_as_a_learner_uses_it(room_view):
    start, environment = room_view
    start(read_only_front.docker_views(environment))

    [problem] = docker_stack.room_view_problems("4bf92f3577b34da6a3ce929d0e0e4736")

    # Only make check fails (no Prometheus behind the front); the rest is as it should be.
    assert problem.startswith("make check SECTION=3 through the front failed")
    assert "Prometheus is ready" in problem


def test_a_trace_link_that_does_not_lead_to_explore_is_a_problem(room_view):
    start, environment = room_view
    start(read_only_front.VIEWS)  # the native views: to Zipkin's page, not Grafana's

    problems = docker_stack.room_view_problems("4bf92f3577b34da6a3ce929d0e0e4736")

    assert any(p.startswith("a trace link: HTTP 302 to '/zipkin/traces/") for p in problems)
