"""Room mode: one platform for a whole room, each learner seeing their own telemetry.

The native platform runs in room mode with its read-only view (ROOM=1 ROOM_VIEWS=1 make
stack): the collector receives OTLP on this machine's network address, and the read-only
front (native/read_only_front.py) serves the UIs and queries there; the backends stay on
127.0.0.1. Two learners send to it from that address, as from other machines, each with
only the room's address and their name (ROOM_URL, LEARNER): ada from the checkpoint at
the start of section 2 (metrics done), grace-h from the finished code. Their pages link
their own traces through the front, their self-checks ask through it, and the room view
(`make room`) and the dashboard's learner picker must each tell them apart. Nothing the
front passes on writes (tests/test_read_only_front.py holds the table of what it refuses).
"""

import os
import re
import socket
import subprocess
import sys
from urllib.parse import urlencode

import pytest
import requests
import yaml

from harness.browser import submit, trace_id_of
from harness.polling import wait_for
from native import read_only_front
from native.run_stack import (
    PORTS,
    ROOM_PORTS,
    network_address,
    room_mode,
    room_views,
    running_stack,
)
from tests.chromium import chromium, screenshot
from tests.grafana_queries import DASHBOARD, dashboard_records
from tests.self_checks import run_check, services, until_passes
from tests.test_read_only_front import REFUSED_REQUESTS
from workshop import learners, room_address
from workshop.backends import Prometheus
from workshop.check import SECTIONS, SERVICES, for_learner
from workshop.checkpoints import ROOT, write_checkpoint

ADDRESS = network_address()
ADA, GRACE = "ada", "grace-h"  # a hyphen: names are used in regexes too
ALAN = "alan"  # a third, with the finished code too, for the trace links


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
    ("setting", "message"),
    [
        ({"LEARNER": "Robert'); DROP TABLE students;--"},
         "is not a learner name: use 1 to 32 lowercase letters"),
        ({"ROOM_URL": "192.168.1.10"}, "is not a room's address"),
    ],
    ids=["LEARNER", "ROOM_URL"],
)  # fmt: skip
@pytest.mark.parametrize(
    "command",
    [["native/run_services.py"], ["-m", "workshop.check", "3"]],
    ids=["make run", "make check"],
)
def test_a_bad_setting_stops_make_run_and_make_check_with_a_message_not_a_traceback(
    command, setting, message
):
    result = subprocess.run(
        [sys.executable, *command],
        cwd=ROOT,
        env={**os.environ, **setting},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode != 0
    assert message in result.stderr
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


def test_the_rooms_view_is_asked_for_explicitly_and_only_in_room_mode():
    assert room_views({"ROOM": "1", "ROOM_VIEWS": "1"}) is True
    assert room_views({"ROOM": "1"}) is False
    with pytest.raises(ValueError, match="ROOM=1 ROOM_VIEWS=1"):
        room_views({"ROOM_VIEWS": "1"})


def test_the_rooms_address_sets_where_a_learner_sends_links_and_checks():
    room = {"ROOM_URL": "http://192.168.1.10:8000/"}

    assert room_address.with_room(room) == {
        **room,
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://192.168.1.10:4317",
        "TRACE_UI_URL": "http://192.168.1.10:8000/trace/{trace_id}",
        "TRACE_UI_NAME": "the room's view",
        "PROMETHEUS_URL": "http://192.168.1.10:8000",
    }
    # What the learner sets explicitly wins; outside a room nothing changes.
    mine = {**room, "PROMETHEUS_URL": "http://127.0.0.1:9090"}
    assert room_address.with_room(mine)["PROMETHEUS_URL"] == "http://127.0.0.1:9090"
    assert room_address.with_room({"A": "1"}) == {"A": "1"}


@pytest.mark.parametrize(
    "value",
    ["192.168.1.10:8000", "https://192.168.1.10:8000", "http://:8000", "http://host:port",
     "http://host:8000/path", "http://host:8000/?x=1", "javascript:alert(1)"],
)  # fmt: skip
def test_a_room_address_that_is_not_one_is_refused_with_an_example(value):
    with pytest.raises(room_address.RoomURLError, match="like http://192.168.1.10:8000"):
        room_address.room_url({"ROOM_URL": value})


# --- One platform, two learners ------------------------------------------------------------


@pytest.fixture(scope="module")
def room(tmp_path_factory):
    """The platform in room mode, as `ROOM=1 ROOM_VIEWS=1 make stack` runs it."""
    assert not ADDRESS.startswith("127."), "this machine needs an address on a network"
    assert not ADDRESS.startswith("<"), "this machine needs an address on a network"
    data_dir = tmp_path_factory.mktemp("room")
    with running_stack(data_dir=data_dir, room=True, views=True) as platform:
        yield platform


def learner_env(room, name: str, running=None) -> dict[str, str]:
    """What a learner's machine sets: the room's address and their name, nothing else.

    The services' fixture sends to the platform's collector on loopback unless told
    otherwise: empty, it is the room's address that says where.
    """
    env = {
        "ROOM_URL": room.urls["room_view"],
        "LEARNER": name,
        "OTEL_EXPORTER_OTLP_ENDPOINT": "",
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
def test_only_the_collectors_otlp_ports_and_the_read_only_front_are_reachable(room):
    assert all(reachable(port) for port in ROOM_PORTS.values())
    assert reachable(read_only_front.PORT)
    others = [port for ports in PORTS.values() for port in ports if port not in ROOM_PORTS.values()]
    assert [port for port in others if reachable(port)] == []
    assert all(reachable(port, "127.0.0.1") for port in others if port != 8888)


@pytest.mark.platform  # the native platform in room mode
def test_the_fronts_page_links_the_uis_of_the_platform(room):
    page = requests.get(room.urls["room_view"], timeout=10)

    assert page.status_code == 200
    assert '<a href="/query">Prometheus' in page.text
    assert '<a href="/select/vmui/">VictoriaLogs' in page.text
    assert requests.get(room.urls["room_view"] + "/select/vmui/", timeout=10).status_code == 200


@pytest.mark.platform  # the native platform in room mode
def test_the_uis_query_forms_pass_through_the_front_and_find_a_learners_telemetry(
    room, learners_running
):
    """As Prometheus' PromQL editor and VictoriaLogs' vmui send them: POSTed forms."""
    view = room.urls["room_view"]

    def metrics(name: str) -> list:
        query = {"query": f'target_info{{service_namespace="{name}"}}'}
        response = requests.post(f"{view}/api/v1/query", data=query, timeout=10)
        response.raise_for_status()
        return response.json()["data"]["result"]

    def logs(name: str) -> list[str]:
        query = {"query": f'service.namespace:="{name}"', "limit": "10"}
        response = requests.post(f"{view}/select/logsql/query", data=query, timeout=10)
        response.raise_for_status()
        return response.text.splitlines()

    assert metrics(GRACE) and metrics(ADA) and metrics("nobody") == []
    assert wait_for(lambda: logs(GRACE), timeout=30)
    assert logs("nobody") == []


# A trace store's page for one trace, and the API its page reads the trace from.
TRACE_DATA = {"/zipkin/traces/": "/zipkin/api/v2/trace/", "/api/traces/": "/api/traces/"}


def trace_seen_through_the_front(room_view: str, page: str) -> str | None:
    """Follow the page's trace link, as a learner clicks it; the trace, as the page it
    leads to reads it through the front, or None while the trace store has not got it."""
    link = re.search(r'id="trace-link" href="([^"]+)"', page).group(1)
    assert link.startswith(room_view + "/trace/"), link
    followed = requests.get(link, timeout=10)
    assert followed.url.startswith(room_view)  # the redirect stays on the front
    path = followed.url.removeprefix(room_view)
    [(page_path, api_path)] = [(p, a) for p, a in TRACE_DATA.items() if path.startswith(p)]
    data = requests.get(room_view + path.replace(page_path, api_path), timeout=10)
    if data.status_code == 404:
        return None
    assert data.status_code == 200, data.text
    return data.text


@pytest.mark.platform  # the native platform in room mode
def test_each_learner_follows_their_pages_trace_link_to_their_own_trace(
    room, learners_running, tmp_path
):
    """grace-h and alan (the finished code, both) each reach their own trace, not the other's.
    ada's code shows no trace id yet (section 4 adds it), so her page links nothing."""
    ada_page = submit(f"http://127.0.0.1:{learners_running[ADA]['FRONTEND_PORT']}", "Lima")
    assert ada_page.status_code == 200 and "trace-link" not in ada_page.text

    with services(room, tmp_path, env=learner_env(room, ALAN)) as alan:
        frontends = {
            GRACE: f"http://127.0.0.1:{learners_running[GRACE]['FRONTEND_PORT']}",
            ALAN: alan.urls["frontend"],
        }
        for name, other in ((GRACE, ALAN), (ALAN, GRACE)):
            page = submit(frontends[name], "Nairobi")
            trace_id = trace_id_of(page)

            def their_trace(page=page, trace_id=trace_id):
                shown = trace_seen_through_the_front(room.urls["room_view"], page.text) or ""
                return shown if trace_id in shown and '"frontend"' in shown else None

            shown = wait_for(their_trace, timeout=60)
            assert shown, f"{name}'s trace {trace_id} did not show through the front"
            assert f'"{name}"' in shown  # their service.namespace, on their spans
            assert f'"{other}"' not in shown


@pytest.fixture
def page():
    with chromium() as browser:
        yield browser.new_page(viewport={"width": 1280, "height": 900})


@pytest.mark.platform  # the native platform in room mode
def test_in_a_browser_a_learner_clicks_their_trace_link_and_sees_their_trace(
    room, learners_running, page
):
    """Through the front, in the trace store's own UI (Zipkin's waterfall, where Java runs)."""
    page.goto(f"http://127.0.0.1:{learners_running[GRACE]['FRONTEND_PORT']}")
    page.fill("#location", "Tokyo")
    page.click("button[type=submit]")
    link = page.locator("#trace-link")
    link.wait_for(timeout=20_000)
    trace_id, html = page.locator("#trace-id").inner_text(), page.content()
    stored = wait_for(
        lambda: trace_id in (trace_seen_through_the_front(room.urls["room_view"], html) or ""),
        timeout=60,
    )
    assert stored, f"trace {trace_id} did not reach the trace store"

    link.click()
    for service in SERVICES:
        page.get_by_text(service).first.wait_for(timeout=20_000)
    assert page.url.startswith(room.urls["room_view"])
    screenshot(page, "room-trace")


@pytest.mark.platform  # the native platform in room mode
def test_in_a_browser_prometheus_ui_draws_a_learners_query_through_the_front(
    room, learners_running, page
):
    promql = f'sum by (service_name) (target_info{{service_namespace="{GRACE}"}})'
    page.goto(
        f"{room.urls['room_view']}/query?" + urlencode({"g0.expr": promql, "g0.tab": "table"})
    )
    rows = page.locator("table tbody tr")
    rows.first.wait_for(timeout=20_000)
    shown = sorted(re.search(r'service_name="([^"]+)"', r)[1] for r in rows.all_inner_texts())
    assert shown == sorted(SERVICES)
    screenshot(page, "room-prometheus-table")


@pytest.mark.platform  # the native platform in room mode
@pytest.mark.parametrize(("backend", "method", "path"), REFUSED_REQUESTS)
def test_every_write_or_admin_request_is_refused_by_the_front(room, backend, method, path):
    response = requests.request(method, room.urls["room_view"] + path, data=b"x", timeout=10)

    assert response.status_code == 403, (backend, response.text)
    assert response.text == read_only_front.REFUSED


@pytest.mark.platform  # the native platform in room mode
@pytest.mark.parametrize(
    ("url", "path", "body"),
    [
        ("prometheus", "/api/v1/otlp/v1/metrics", b""),  # an empty OTLP request
        ("victoria_logs", "/insert/jsonline", b'{"_msg":"written from the room"}'),
    ],
)
def test_the_refused_writes_are_real_paths_that_the_backends_accept_on_loopback(
    room, url, path, body
):
    """The negative control: it is the front that refuses them, not the backends."""
    headers = {"Content-Type": "application/x-protobuf"} if "otlp" in path else {}
    direct = requests.post(room.urls[url] + path, data=body, headers=headers, timeout=10)
    through_the_front = requests.post(
        room.urls["room_view"] + path, data=body, headers=headers, timeout=10
    )

    assert direct.status_code not in (403, 404), direct.text
    assert through_the_front.status_code == 403


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
def test_a_learners_check_asks_the_rooms_address(learners_running, closed_port_url):
    """Everything runs on this machine, so a check that ignored ROOM_URL would find the
    platform on 127.0.0.1 anyway: with a room's address where nothing answers, it fails."""
    through_the_front = run_check(1, learners_running[GRACE])
    nowhere = run_check(1, {**learners_running[GRACE], "ROOM_URL": closed_port_url})

    assert through_the_front.returncode == 0, through_the_front.stdout
    assert nowhere.returncode == 1
    assert f"GET {closed_port_url}/-/ready" in nowhere.stdout


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

    # The learners sent all that anyone did (alan, with the finished code like grace-h,
    # may have sent what grace-h did not, as a lookup that failed); a learner who sent
    # nothing has empty panels.
    picked = [prometheus.query(picking(query.text, name)) for name in (ADA, GRACE, ALAN)]
    assert any(picked) == bool(prometheus.query(query.text))
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
