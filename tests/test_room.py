"""Room mode: one platform for a whole room, each learner seeing their own telemetry.

The native platform runs in room mode (ROOM=1 make stack): the collector receives OTLP on
this machine's network address, everything else stays on 127.0.0.1. Two learners send
to it from that address, as from other machines: ada from the checkpoint at the start
of section 2 (metrics done), grace-h from the finished code. The self-checks with
LEARNER set, the room view (`make room`) and the dashboard's learner picker must each
tell them apart.
"""

import os
import socket
import subprocess
import sys

import pytest
import requests
import yaml

from native.run_stack import PORTS, ROOM_PORTS, network_address, room_mode, running_stack
from tests.grafana_queries import DASHBOARD, dashboard_records
from tests.self_checks import run_check, services, until_passes
from workshop import learners
from workshop.backends import Prometheus
from workshop.check import SECTIONS, for_learner
from workshop.checkpoints import ROOT, write_checkpoint

ADDRESS = network_address()
ADA, GRACE = "ada", "grace-h"  # a hyphen: names are used in regexes too


def reachable(port: int, host: str = ADDRESS) -> bool:
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError:
        return False
    return True


# --- Names, without a platform -------------------------------------------------------------


@pytest.mark.parametrize("name", ["ada", "grace-h", "x", "a" * 32, "r2-d2"])
def test_a_learner_name_is_short_lowercase_letters_digits_and_hyphens(name):
    assert learners.learner({"LEARNER": name}) == name


@pytest.mark.parametrize(
    "name", ["Ada", "ada lovelace", "2ada", "-ada", "a" * 33, 'ada"}', "ada.*", "ada\x1b[31m"]
)
def test_anything_else_is_refused_with_the_rule(name):
    with pytest.raises(learners.LearnerNameError, match="lowercase letters, digits or hyphens"):
        learners.learner({"LEARNER": name})


def test_no_name_is_no_room_mode():
    assert learners.learner({}) is None
    assert learners.learner({"LEARNER": ""}) is None
    assert learners.with_namespace({"A": "1"}) == {"A": "1"}


def test_the_name_joins_the_resource_attributes_the_environment_sets():
    env = learners.with_namespace(
        {"LEARNER": "ada", "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment.name=laptop"}
    )
    assert env["OTEL_RESOURCE_ATTRIBUTES"] == (
        "deployment.environment.name=laptop,service.namespace=ada"
    )


@pytest.mark.parametrize(
    "command",
    [["native/run_services.py"], ["-m", "workshop.check", "3"]],
    ids=["make run", "make check"],
)
def test_a_bad_name_stops_make_run_and_make_check_with_a_message_not_a_traceback(command):
    result = subprocess.run(
        [sys.executable, *command],
        cwd=ROOT,
        env={**os.environ, "LEARNER": "Robert'); DROP TABLE students;--"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode != 0
    assert "is not a learner name: use 1 to 32 lowercase letters" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""  # nothing started


def test_a_learner_whose_check_cannot_reach_prometheus_is_told_where_progress_shows(
    closed_port_url,
):
    result = run_check(3, {"LEARNER": ADA, "PROMETHEUS_URL": closed_port_url})

    assert result.returncode == 1
    assert "the facilitator sees your progress with `make room`" in " ".join(result.stdout.split())


@pytest.mark.parametrize(
    ("value", "room"), [("1", True), ("yes", True), ("", False), ("0", False), ("no", False)]
)
def test_room_is_asked_for_explicitly(value, room):
    assert room_mode({"ROOM": value}) is room


def test_a_room_value_that_means_nothing_is_refused():
    with pytest.raises(ValueError, match="ROOM=1"):
        room_mode({"ROOM": "please"})


# --- One platform, two learners ------------------------------------------------------------


@pytest.fixture(scope="module")
def room(tmp_path_factory):
    """The platform in room mode, as `ROOM=1 make stack` runs it."""
    assert not ADDRESS.startswith("127."), "this machine needs an address on a network"
    assert not ADDRESS.startswith("<"), "this machine needs an address on a network"
    with running_stack(data_dir=tmp_path_factory.mktemp("room"), room=True) as platform:
        yield platform


def learner_env(room, name: str, running=None) -> dict[str, str]:
    """What a learner's machine sets: the facilitator's collector, by network address."""
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://{ADDRESS}:{ROOM_PORTS['otlp_grpc']}",
        "LEARNER": name,
        "PROMETHEUS_URL": room.urls["prometheus"],  # the checks run on the facilitator's
    }
    if running:
        env["FRONTEND_PORT"] = running.urls["frontend"].rsplit(":", 1)[1]
    return env


@pytest.fixture(scope="module")
def learners_running(room, tmp_path_factory):
    """ada at the start of section 2, grace-h with the finished code, both sending."""
    tree = write_checkpoint(2, tmp_path_factory.mktemp("ada-checkpoint"))
    with (
        services(room, tmp_path_factory.mktemp("ada"), root=tree, env=learner_env(room, ADA))
        as ada,
        services(room, tmp_path_factory.mktemp("grace"), env=learner_env(room, GRACE))
        as grace,
    ):  # fmt: skip
        env = {ADA: learner_env(room, ADA, ada), GRACE: learner_env(room, GRACE, grace)}
        # Both learners' telemetry has arrived before any test looks for its absence.
        assert until_passes(1, env[ADA]).returncode == 0
        assert until_passes(5, env[GRACE]).returncode == 0
        yield env


@pytest.mark.platform  # the native platform in room mode
def test_only_the_collectors_otlp_ports_are_reachable_from_the_network(room):
    assert all(reachable(port) for port in ROOM_PORTS.values())
    others = [port for ports in PORTS.values() for port in ports if port not in ROOM_PORTS.values()]
    assert [port for port in others if reachable(port)] == []
    assert all(reachable(port, "127.0.0.1") for port in others if port != 8888)


@pytest.mark.platform  # the native platform in room mode
@pytest.mark.parametrize("section", [1, 2, 3, 4, 5])
def test_a_learner_who_did_a_section_passes_its_check(learners_running, section):
    assert until_passes(section, learners_running[GRACE]).returncode == 0


@pytest.mark.platform  # the native platform in room mode
@pytest.mark.parametrize("section", [2, 3, 4])
def test_a_learner_does_not_pass_with_another_learners_telemetry(learners_running, section):
    mine = run_check(section, learners_running[ADA])
    everyone = run_check(
        section, {k: v for k, v in learners_running[ADA].items() if k != "LEARNER"}
    )

    assert mine.returncode == 1, mine.stdout
    # Every one of the section's own checks fails, and shows the query it asked: ada's.
    assert mine.stdout.count("✗") == len(SECTIONS[section].checks), mine.stdout
    assert 'service_namespace="ada"' in mine.stdout
    assert f"Section {section}, {SECTIONS[section].title}, for ada" in mine.stdout
    # Without a name, grace-h's telemetry counts for anyone.
    assert everyone.returncode == 0, everyone.stdout


@pytest.mark.platform  # the native platform in room mode
def test_the_room_view_shows_each_learners_sections(learners_running):
    result = subprocess.run(
        [sys.executable, "-m", "workshop.room"],
        cwd=ROOT,
        env={**os.environ, "PYTHONIOENCODING": "utf-8", **learners_running[ADA]},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines()}
    # Sections 10 to 12 change the platform: the facilitator's, not a learner's.
    assert rows["learner"] == ["1", "2", "3", "4", "5", "6", "7", "8", "9"]
    # ada did section 1 only; grace-h has the finished code: sections 1 to 5 and 9 (6 to 8
    # need a load, zero-code, a fault).
    assert rows[ADA][0] == "✓"
    assert rows[ADA][1:5] == [f"0/{len(SECTIONS[n].checks)}" for n in (2, 3, 4, 5)]
    assert rows[ADA][8] == f"0/{len(SECTIONS[9].checks)}"
    assert rows[GRACE][:5] == ["✓"] * 5 and rows[GRACE][8] == "✓"
    assert "✓" not in rows[GRACE][5:8]


# The lessons on the platform itself are checked for the whole room, not per learner.
QUERIES = [
    c
    for section in SECTIONS.values()
    if not section.on_the_platform
    for c in section.checks
    if c.source != "up"
]


@pytest.mark.platform  # the native platform in room mode
@pytest.mark.parametrize("check", QUERIES, ids=lambda check: check.signal)
def test_every_selector_of_a_learners_check_has_their_matcher(room, check):
    """Asked of Prometheus's own parser: each selector of the query, as the check sends it."""
    query = for_learner(check, ADA).query
    response = requests.get(
        f"{room.urls['prometheus']}/api/v1/parse_query", params={"query": query}, timeout=10
    )
    response.raise_for_status()
    selectors = list(vector_selectors(response.json()["data"]))

    assert selectors, query
    for matchers in selectors:
        assert {"type": "=", "name": "service_namespace", "value": ADA} in matchers, query


def vector_selectors(node):
    """The label matchers of every selector in a parsed PromQL tree (`x` and `x[1m]`)."""
    if isinstance(node, dict):
        if node.get("type") in ("vectorSelector", "matrixSelector"):
            yield node["matchers"]
        for child in node.values():
            yield from vector_selectors(child)
    elif isinstance(node, list):
        for child in node:
            yield from vector_selectors(child)


# The dashboard's panels (the data source links start from one span: no learner to pick).
PANEL_PROMQL = [q for q in dashboard_records(DASHBOARD) if q.language == "promql"]


def picking(query: str, learner: str) -> str:
    """A panel's query as Grafana sends it with `learner` picked (All's ".*" replaced)."""
    return query.replace('service_namespace=~".*"', f'service_namespace=~"{learner}"')


@pytest.mark.platform  # the native platform in room mode
@pytest.mark.parametrize("query", PANEL_PROMQL, ids=lambda q: q.where)
def test_each_panel_shows_only_the_learner_picked(learners_running, room, query):
    prometheus = Prometheus(room.urls["prometheus"])

    # grace-h sent all that anyone did; a learner who sent nothing has empty panels.
    assert bool(prometheus.query(picking(query.text, GRACE))) == bool(prometheus.query(query.text))
    assert prometheus.query(picking(query.text, "nobody")) == []


@pytest.mark.platform  # the native platform in room mode
def test_the_collector_refuses_a_request_over_its_size_limit(room):
    config = yaml.safe_load((ROOT / "platform/otel-collector-config.yml").read_text())
    limit = config["receivers"]["otlp"]["protocols"]["http"]["max_request_body_size"]
    url = f"http://{ADDRESS}:{ROOM_PORTS['otlp_http']}/v1/traces"
    headers = {"Content-Type": "application/json"}

    assert requests.post(url, data=b"{}", headers=headers, timeout=10).status_code == 200
    too_big = requests.post(url, data=b" " * (limit + 1), headers=headers, timeout=30)
    assert too_big.status_code in (400, 413), too_big.text
