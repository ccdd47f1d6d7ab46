"""The load generator, against the real application, and its compose profile."""

import itertools
import json
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from flask import request

import gateway
import geolocator
import iss_distance
import webapp
from common.services import SERVICES
from harness.polling import wait_for
from loadgen import generate_load as loadgen

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "loadgen" / "generate_load.py"
BIN = Path(sys.executable).parent

# Each round of PLACES has one unknown place and one blank field.
CLIENT_ERRORS_PER_ROUND = 2


@pytest.fixture
def frontend(serve):
    """The four services, offline, on local ports: the frontend's app, not yet served."""
    config = {
        "GEOLOCATOR_URL": serve(geolocator.create_app({"OFFLINE": True})),
        "ISS_DISTANCE_URL": serve(iss_distance.create_app({"OFFLINE": True})),
    }
    return webapp.create_app({"GATEWAY_URL": serve(gateway.create_app(config))})


@pytest.fixture
def frontend_url(serve, frontend):
    """The four services, served and warmed up."""
    url = serve(frontend)
    assert loadgen.submit(url, "Paris", timeout=30) == (200, "")
    return url


class VirtualClock:
    """Stands in for the `time` module of the load generator: its sleeps end at once, and
    move the clock on by what they asked, so the schedule is exact whatever the load."""

    def __init__(self):
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch) -> VirtualClock:
    clock = VirtualClock()
    monkeypatch.setattr(loadgen, "time", clock)
    return clock


def sending_times(monkeypatch, clock: VirtualClock, answer=None) -> list[float]:
    """When each request is sent, by the virtual clock; `answer` stands in for submit."""
    sent_at = []
    answer = answer or loadgen.submit

    def timed_submit(*args, **kwargs):
        sent_at.append(clock.now)
        return answer(*args, **kwargs)

    monkeypatch.setattr(loadgen, "submit", timed_submit)
    return sent_at


def gaps(times: list[float]) -> list[float]:
    return [round(later - earlier, 6) for earlier, later in itertools.pairwise(times)]


def test_the_form_is_submitted_steadily_at_the_rate(frontend_url, monkeypatch, clock):
    sent_at = sending_times(monkeypatch, clock)
    reports = []

    total = loadgen.generate_load(
        frontend_url, rate=10, timeout=10, requests=20, report_every=1, report=reports.append
    )

    assert total.sent == 20  # one full round of PLACES
    assert (total.ok, total.client_errors, total.failures) == (18, CLIENT_ERRORS_PER_ROUND, 0)
    assert gaps(sent_at) == [0.1] * 19  # evenly spaced, not in bursts
    # A line a second here (every 10 s by default), and the summary of the whole run.
    assert [line.split(":")[0] for line in reports] == ["last 1 s", "whole run, 2 s"]
    assert reports[0].startswith("last 1 s: sent 10, ok ")
    assert re.fullmatch(
        r"whole run, 2 s: sent 20, ok 18, client errors 2, failures 0, p50 \d+ ms", reports[-1]
    )


def test_a_slow_answer_delays_the_next_request_and_no_burst_follows(monkeypatch, clock):
    def answer(url, location, timeout):
        clock.now += 0.35 if location == "Nairobi" else 0.01  # the third: slow
        return 200, ""

    sent_at = sending_times(monkeypatch, clock, answer)
    loadgen.generate_load("http://frontend", rate=10, timeout=10, requests=6, report=print)

    # The next request goes as soon as the slow answer comes, then every 0.1 s again.
    assert gaps(sent_at) == [0.1, 0.1, 0.35, 0.1, 0.1]


def test_a_frontend_that_is_down_shows_as_failures(closed_port_url):
    reports = []
    total = loadgen.generate_load(
        closed_port_url, rate=20, timeout=1, requests=10, report=reports.append
    )

    assert total.sent == total.failures == 10
    assert "failures 10, p50 - (last failure: " in reports[-1]
    assert "Connection refused" in reports[-1]


def test_the_script_reads_its_settings_from_the_environment_and_stops_on_sigterm(serve, frontend):
    """SIGTERM while the 10th request waits for its answer: 9 were answered and counted."""
    arrived, answer = [], threading.Event()

    @frontend.before_request
    def hold_the_tenth():
        arrived.append(request.form.get("location"))
        if len(arrived) == 10:
            answer.wait(10)

    url = serve(frontend)
    env = {**os.environ, "RATE": "20", "FRONTEND_URL": url}
    process = subprocess.Popen([sys.executable, SCRIPT], env=env, stdout=subprocess.PIPE, text=True)
    try:
        first_line = process.stdout.readline()
        assert wait_for(lambda: len(arrived) == 10, timeout=10)
        process.send_signal(signal.SIGTERM)  # what `docker compose stop` sends
        output, _ = process.communicate(timeout=10)
    finally:
        answer.set()
        process.kill()

    assert first_line == f"Submitting the form at {url}, 20 a second (Ctrl-C stops)\n"
    assert process.returncode == 0
    assert arrived == loadgen.PLACES[:10]  # in their order, one at a time
    summary = re.fullmatch(
        r"whole run, \d s: sent (\d+), ok (\d+), client errors (\d+), failures 0, p50 \d+ ms",
        output.splitlines()[-1],
    )
    sent, ok, client_errors = (int(n) for n in summary.groups())
    assert sent == 9  # the one cut short by the signal is not counted
    expected_errors = sum(place in ("", "Qwertyuiop") for place in loadgen.PLACES[:sent])
    assert (ok, client_errors) == (sent - expected_errors, expected_errors) == (8, 1)


def compose_services(*arguments: str, rate: str | None = None) -> dict:
    env = {name: value for name, value in os.environ.items() if name != "RATE"}
    env |= {"RATE": rate} if rate else {}
    result = subprocess.run(
        [BIN / "docker-compose", *arguments, "config", "--format", "json"],
        cwd=ROOT, capture_output=True, text=True, check=True, env=env,
    )  # fmt: skip
    return json.loads(result.stdout)["services"]


def test_the_compose_load_profile_runs_the_script_against_the_frontend():
    assert "load-generator" not in compose_services()  # only with --profile load

    container = compose_services("--profile", "load")["load-generator"]
    assert container["image"] == "python:3.11.15-slim-bookworm"  # the services' base image
    assert container["user"] == "65534:65534"
    [mount] = container["volumes"]
    assert (Path(mount["source"]), mount["read_only"]) == (SCRIPT.parent, True)
    assert container["command"] == ["python", f"{mount['target']}/{SCRIPT.name}"]
    frontend = next(s for s in SERVICES if s.name == "frontend")
    assert container["environment"] == {
        "FRONTEND_URL": f"http://frontend:{frontend.port}",
        "RATE": "1",
    }
    assert container["depends_on"]["frontend"]["condition"] == "service_healthy"
    assert container["deploy"]["resources"]["limits"]["memory"]
    assert "ports" not in container


def test_the_compose_rate_is_configurable():
    services = compose_services("--profile", "load", rate="4")
    assert services["load-generator"]["environment"]["RATE"] == "4"


def test_the_frontend_records_that_the_load_generator_asked(frontend_url, telemetry):
    # The collector's tail sampling tells the load generator's traces from yours by it.
    loadgen.submit(frontend_url, "Paris", timeout=30)

    form = [s for s in telemetry.spans() if s.name == "POST /"]
    assert [s.attributes.get("user_agent.original") for s in form] == [loadgen.USER_AGENT]
