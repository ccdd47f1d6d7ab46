"""Room mode under Docker: the room-view container's front, in front of a real Prometheus.

No Docker engine runs here (tests/docker_stack.py runs the real stack in CI), so the front
runs as the room-view container of docker-compose.room.yml runs it, with the views compose
configures (read_only_front.docker_views() of its environment), but with Prometheus at the
native platform's address instead of Docker's. A learner gives only its address and their
name, as in a room: their `make check` asks through it, their page's trace link leads to
Grafana's Explore, and nothing the front passes on writes.
"""

import re
import threading
from urllib.parse import urlsplit

import pytest
import requests

from harness.browser import submit, trace_id_of
from native.read_only_front import REFUSED, Front, docker_views
from tests.self_checks import run_check, services, until_passes
from tests.test_read_only_front import REFUSED_REQUESTS, docker_environment, explore_query
from workshop.backends import Prometheus

pytestmark = pytest.mark.platform  # the native platform stands in for Docker's

ADA = "ada"


@pytest.fixture(scope="module")
def docker_front(stack):
    """The room-view container's front, Prometheus at the native platform's."""
    views = docker_views(docker_environment() | {"PROMETHEUS_URL": stack.urls["prometheus"]})
    server = Front(("127.0.0.1", 0), views)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def ada(stack, docker_front, tmp_path_factory):
    """ada's four services (the finished code) sending to the room, from its address
    alone; her settings for `make check`."""
    env = {"ROOM_URL": docker_front, "LEARNER": ADA, "OTEL_EXPORTER_OTLP_ENDPOINT": ""}
    with services(stack, tmp_path_factory.mktemp(ADA), env=env) as running:
        yield env | {"FRONTEND_PORT": str(urlsplit(running.urls["frontend"]).port)}


@pytest.mark.parametrize("section", [3, 5])  # PromQL queries; exemplars too
def test_a_learners_make_check_passes_through_the_docker_front(ada, section):
    result = until_passes(section, ada)

    assert result.returncode == 0, result.stdout
    assert f"for {ADA}" in result.stdout


def test_the_alerting_rules_that_make_check_asks_for_are_read_through_the_docker_front(
    stack, docker_front
):
    """Section 10's checks (the room's, on the facilitator's platform) read the rules."""
    rules = Prometheus(docker_front).alerting_rules()
    assert rules and rules == Prometheus(stack.urls["prometheus"]).alerting_rules()


def test_a_learner_does_not_pass_with_another_learners_telemetry(ada):
    """The negative control: the same check, through the same front, for someone else."""
    assert until_passes(3, ada).returncode == 0
    assert run_check(3, ada | {"LEARNER": "grace-h"}).returncode == 1


def test_a_promql_query_passes_through_the_docker_front(ada, docker_front):
    """As `make check` asks it (GET) and as Prometheus' UI does (a POSTed form)."""
    query = {"query": f'target_info{{service_namespace="{ADA}"}}'}
    asked = requests.get(f"{docker_front}/api/v1/query", params=query, timeout=10)
    posted = requests.post(f"{docker_front}/api/v1/query", data=query, timeout=10)

    for response in (asked, posted):
        assert response.status_code == 200
        assert response.json()["data"]["result"]


def test_a_learners_trace_link_leads_to_their_trace_in_grafanas_explore(ada, docker_front):
    page = submit(f"http://127.0.0.1:{ada['FRONTEND_PORT']}", "Nairobi")
    trace_id = trace_id_of(page)
    link = re.search(r'id="trace-link" href="([^"]+)"', page.text).group(1)
    assert link == f"{docker_front}/trace/{trace_id}"

    response = requests.get(link, allow_redirects=False, timeout=10)

    assert response.status_code == 302
    page, query = explore_query(response.headers["Location"])
    assert page == "http://127.0.0.1:3000/explore"  # Grafana, at the room's address
    assert (query["datasource"]["uid"], query["query"]) == ("tempo", trace_id)


@pytest.mark.parametrize(("backend", "method", "path"), REFUSED_REQUESTS)
def test_every_write_or_admin_request_is_refused_by_the_docker_front(
    docker_front, backend, method, path
):
    response = requests.request(method, docker_front + path, data=b"x", timeout=10)

    assert response.status_code == 403, (backend, response.text)
    assert response.text == REFUSED


def test_a_refused_write_is_a_real_path_that_prometheus_accepts_on_loopback(stack, docker_front):
    """The negative control: it is the front that refuses it, not Prometheus."""
    path, headers = "/api/v1/otlp/v1/metrics", {"Content-Type": "application/x-protobuf"}
    direct = requests.post(stack.urls["prometheus"] + path, headers=headers, timeout=10)
    through_the_front = requests.post(docker_front + path, headers=headers, timeout=10)

    assert direct.status_code not in (403, 404), direct.text
    assert through_the_front.status_code == 403
