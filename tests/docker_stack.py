"""The Docker proof: the whole Docker stack, on a real engine, does what the docs say.

Run by the GitHub Actions job in .github/workflows/docker.yml, after
`docker compose --profile load up -d --build --wait` (the load generator submits the
form once a second). There is no Docker engine where the rest of the tests run, so this
is the only place the Docker stack itself runs; tests/test_docker_stack.py checks its
parsing on stored answers.

Through Grafana's own query API (`POST /api/ds/query`, as its panels and Explore ask),
with the same lists of queries the native tests use:
  - every PromQL, LogQL and TraceQL query the docs show returns data;
  - every query of the dashboards and of the data source links returns data;
  - the series Grafana's service graph reads exist (the graph and its table);
  - each dashboard loads through Grafana's API;
and, sampled with `docker stats` all along, no container's memory peaks at its limit.
Then, with room mode's read-only front started beside the stack (room-view, from
docker-compose.room.yml), a learner's view through it: `make check` with ROOM_URL at
its address, a refused admin request, and a trace link that leads to Grafana's Explore.

    python -m tests.docker_stack            # prints each check; exit status 1 if any fails
    python -m tests.docker_stack room-view  # the room's front
"""

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import requests

from harness.polling import wait_for
from native import read_only_front
from tests import grafana_queries
from tests.compose_releases import memory_limit
from tests.grafana_queries import (
    DASHBOARDS,
    SERVICE_MAP_METRICS,
    Query,
    grafana_side_queries,
    load_dashboard,
    service_graph_duration_query,
    service_graph_table_queries,
    service_map_queries,
)
from tests.readme import code_blocks

ROOT = Path(__file__).resolve().parent.parent
GRAFANA = "http://127.0.0.1:3000"
PROJECT = "otel-workshop"  # docker-compose.yml's name: containers are otel-workshop-<service>-1
# How long a query may take to find data: the load generator needs a minute or two to
# fill every rate() window, and the service graph waits for both ends of each call.
DEADLINE_SECONDS = 240
# Which data source answers each language, by the uids in platform/grafana/provisioning.
DATASOURCES = {"promql": "prometheus", "logql": "loki", "traceql": "tempo"}
SERVICES_IN_THE_GRAPH = ["frontend", "gateway", "geolocator-service", "iss-distance-service"]


# --- Grafana's query API ---------------------------------------------------------------


def ds_query_body(query: Query) -> dict:
    """The request Grafana's frontend would send for this query, over the last 15 min."""
    uid = DATASOURCES[query.language]
    target = {"refId": "A", "datasource": {"type": uid, "uid": uid}}
    if query.language == "promql":
        target |= {"expr": query.text, "instant": True, "range": False}
    elif query.language == "logql":
        target |= {"expr": query.text, "queryType": "range", "maxLines": 100}
    else:
        target |= {"queryType": "traceql", "query": query.text, "limit": 20}
    return {"queries": [target], "from": "now-15m", "to": "now"}


def rows_in(answer: dict) -> int:
    """How many rows of data an /api/ds/query answer holds; an error raises."""
    rows = 0
    for ref_id, result in answer.get("results", {}).items():
        if result.get("error"):
            raise QueryError(f"{ref_id}: {result['error']}")
        for frame in result.get("frames", []):
            values = frame.get("data", {}).get("values") or [[]]
            rows += max(len(column) for column in values)
    return rows


class QueryError(Exception):
    """Grafana or the data source refused the query (a syntax error, a bad label...)."""


def ask_grafana(query: Query) -> int:
    response = requests.post(f"{GRAFANA}/api/ds/query", json=ds_query_body(query), timeout=30)
    if response.status_code >= 400:
        raise QueryError(f"HTTP {response.status_code}: {response.text[:300]}")
    return rows_in(response.json())


# --- Memory: docker stats ------------------------------------------------------------

UNITS = {"B": 1, "kB": 1000, "KiB": 1024, "MB": 1000**2, "MiB": 1024**2, "GB": 1000**3,
         "GiB": 1024**3}  # fmt: skip


def size(text: str) -> int:
    """Bytes, from docker's spelling: 45.2MiB, 1.5GiB, 512kB, 0B."""
    number, unit = re.fullmatch(r"([\d.]+)\s*([kKMG]?i?B)", text.strip()).groups()
    return int(float(number) * UNITS[unit])


def memory_of(stats_line: str) -> tuple[str, int, int]:
    """(service, usage, limit) from one line of `docker stats --format '{{json .}}'`."""
    stats = json.loads(stats_line)
    usage, limit = stats["MemUsage"].split(" / ")
    service = re.fullmatch(rf"{PROJECT}-(.+)-\d+", stats["Name"])[1]
    return service, size(usage), size(limit)


class PeakMemory:
    """Samples `docker stats` in the background; keeps each container's peak."""

    def __init__(self, interval: float = 2.0):
        self.peaks: dict[str, int] = {}
        self.limits: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, args=(interval,), daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def record(self, output: str) -> None:
        for line in output.splitlines():
            if line.strip():
                service, usage, limit = memory_of(line)
                self.peaks[service] = max(usage, self.peaks.get(service, 0))
                self.limits[service] = limit

    def _sample(self, interval: float) -> None:
        while not self._stop.is_set():
            command = ["docker", "stats", "--no-stream", "--format", "{{json .}}"]
            self.record(subprocess.run(command, capture_output=True, text=True).stdout)
            self._stop.wait(interval)


def declared_limits() -> dict[str, int]:
    """Each container's memory limit, as the compose files give it (bytes)."""
    config = subprocess.run(
        ["docker", "compose", "--profile", "*", "config", "--format", "json"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    services = json.loads(config.stdout)["services"]
    return {name: memory_limit(service) for name, service in services.items()}


def memory_problems(peak: PeakMemory, declared: dict[str, int]) -> list[str]:
    """What is wrong with the memory seen: a container unseen, a limit not applied, or
    a peak at 95% of the limit or more (the kernel kills at the limit)."""
    problems = []
    for service, limit in declared.items():
        if service not in peak.peaks:
            problems.append(f"{service}: never seen by docker stats")
        elif peak.limits[service] != limit:
            problems.append(f"{service}: limit {peak.limits[service]} applied, {limit} declared")
        elif peak.peaks[service] >= 0.95 * limit:
            problems.append(f"{service}: peaked at {peak.peaks[service]} of {limit} bytes")
    return problems


# --- The checks ---------------------------------------------------------------------


def docs_queries() -> list[Query]:
    """Every PromQL, LogQL and TraceQL block of the docs, as the native tests read them."""
    return [
        Query(language, text, f"docs ({language})")
        for language in DATASOURCES
        for text in code_blocks(language)
    ]


def service_graph_queries() -> list[Query]:
    """What Grafana's service graph asks Prometheus for, per node of the graph."""
    queries = [Query("promql", q, "service graph") for q in service_map_queries()]
    for service in SERVICES_IN_THE_GRAPH:
        table = service_graph_table_queries(service)
        queries.append(Query("promql", table["rate"], f"service graph table, {service}"))
    return queries


def has_data(query: Query, deadline: float = DEADLINE_SECONDS) -> str | None:
    """None when the query returns data within the deadline, else what went wrong."""
    try:
        if wait_for(lambda: ask_grafana(query), timeout=deadline, interval=5):
            return None
        return "no data"
    except QueryError as error:
        return str(error)


def trace_ids_in(answer: dict) -> list[str]:
    """The trace ids of a TraceQL search's answer (its traceID column)."""
    ids = []
    for result in answer.get("results", {}).values():
        for frame in result.get("frames", []):
            names = [field["name"] for field in frame["schema"]["fields"]]
            if "traceID" in names:
                ids += frame["data"]["values"][names.index("traceID")]
    return ids


def a_recent_trace_id() -> str:
    """The id of a trace that Tempo holds, as a TraceQL search through Grafana finds it."""
    search = Query("traceql", '{resource.service.name="frontend"}', "a recent trace")
    answer = requests.post(f"{GRAFANA}/api/ds/query", json=ds_query_body(search), timeout=30)
    [trace_id, *_] = trace_ids_in(answer.json()) or ["no trace found"]
    return trace_id


def links_of_a_real_trace() -> list[Query]:
    """The data source links' queries (tests/grafana_queries.py), for a trace that
    exists: the sample trace id the native tests parse them with finds nothing here."""
    trace_id = a_recent_trace_id()
    real = {"__trace.traceId": trace_id, "__value.raw": trace_id}
    saved = dict(grafana_queries.SAMPLE_VALUES)
    grafana_queries.SAMPLE_VALUES.update(real)
    try:
        return grafana_side_queries()
    finally:
        grafana_queries.SAMPLE_VALUES.update(saved)


def durations_of_the_table(service: str) -> list[Query]:
    """The table's duration queries, one per span name its rate query found."""
    rate = service_graph_table_queries(service)["rate"]
    body = ds_query_body(Query("promql", rate, ""))
    answer = requests.post(f"{GRAFANA}/api/ds/query", json=body, timeout=30).json()
    names = []
    for frame in answer["results"]["A"].get("frames", []):
        for field in frame["schema"]["fields"]:
            if span_name := (field.get("labels") or {}).get("span_name"):
                names.append(span_name)
    return [
        Query("promql", service_graph_duration_query(service, name), f"table duration, {name}")
        for name in names
    ]


def dashboard_problems() -> list[str]:
    problems = []
    for path in sorted(DASHBOARDS.glob("*.json")):
        expected = load_dashboard(path)
        response = requests.get(f"{GRAFANA}/api/dashboards/uid/{expected['uid']}", timeout=30)
        if response.status_code != 200:
            problems.append(f"{path.name}: HTTP {response.status_code}")
            continue
        loaded = response.json()["dashboard"]
        if len(loaded.get("panels", [])) != len(expected["panels"]):
            problems.append(f"{path.name}: {len(loaded.get('panels', []))} panels loaded")
    return problems


def run(report: Callable[[str], None] = print) -> int:
    """Every check, a line for each; the number of failures."""
    failures = 0

    def check(what: str, problem: str | None) -> None:
        nonlocal failures
        failures += problem is not None
        report(f"{'FAIL' if problem else 'ok  '} {what}" + (f": {problem}" if problem else ""))

    with PeakMemory() as peak:
        queries = docs_queries() + service_graph_queries()
        for query in queries:
            check(f"{query.where}: {query.language} {query.text}", has_data(query))
        for query in links_of_a_real_trace():
            check(f"{query.where}: {query.language} {query.text}", has_data(query))
        for service in SERVICES_IN_THE_GRAPH:
            for query in durations_of_the_table(service):
                check(f"{query.where}: {query.text}", has_data(query, deadline=30))
        for metric in SERVICE_MAP_METRICS:
            check(f"series {metric}", has_data(Query("promql", metric, metric), deadline=30))
        for problem in dashboard_problems() or [None]:
            check("dashboards load through Grafana's API", problem)
    for problem in memory_problems(peak, declared_limits()) or [None]:
        check("memory under each limit, at its peak", problem)
    for service in sorted(peak.peaks):
        report(f"     {service}: peak {peak.peaks[service] / 1024**2:.0f} MiB "
               f"of {peak.limits[service] / 1024**2:.0f} MiB")  # fmt: skip
    return failures


# --- Room mode: the read-only front (room-view, docker-compose.room.yml) --------------

ROOM_VIEW = f"http://127.0.0.1:{read_only_front.PORT}"


def room_view_problems(trace_id: str) -> list[str]:
    """What goes wrong for a learner whose ROOM_URL is the front's address: their `make
    check` (section 3, on the load generator's telemetry), an admin request that must be
    refused, and the trace link of their page, which must lead to the trace in Explore."""
    problems = []
    check = subprocess.run(
        [sys.executable, "-m", "workshop.check", "3"],
        cwd=ROOT, env={**os.environ, "ROOM_URL": ROOM_VIEW}, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    if check.returncode != 0:
        problems.append(f"make check SECTION=3 through the front failed:\n{check.stdout}")
    admin = requests.post(f"{ROOM_VIEW}/api/v1/admin/tsdb/snapshot", timeout=10)
    if admin.status_code != 403:
        problems.append(f"an admin request through the front: HTTP {admin.status_code}")
    link = requests.get(f"{ROOM_VIEW}/trace/{trace_id}", allow_redirects=False, timeout=10)
    location = link.headers.get("Location", "")
    if not (link.status_code == 302 and location.startswith(f"{GRAFANA}/explore?")):
        problems.append(f"a trace link: HTTP {link.status_code} to {location!r}")
    elif (explore := requests.get(location, timeout=30)).status_code != 200:
        problems.append(f"Grafana's Explore, from a trace link: HTTP {explore.status_code}")
    return problems


def run_room_view(report: Callable[[str], None] = print) -> int:
    """The room's front, once it runs beside the stack; the number of failures."""
    problems = room_view_problems(a_recent_trace_id())
    for problem in problems:
        report(f"FAIL room's front: {problem}")
    if not problems:
        report("ok   room's front: make check, a refused admin request, a trace link")
    return len(problems)


if __name__ == "__main__":
    failures = run_room_view() if sys.argv[1:] == ["room-view"] else run()
    sys.exit(1 if failures else 0)
