"""Faults switched on and off while the services run, found in the real platform.

The four services start once, as real processes exporting to the native platform, with
a flag file of this module's own. Each test switches a fault on with switch_fault(),
what `make fault` runs, submits the form until the services answer with it, finds its
effect and its flag evaluation in the telemetry that arrived (Jaeger, VictoriaLogs,
and for the fault that only logs show, section 8's self-check), switches it off and
finds the answers back to normal. Nothing restarts in between, and the form is
submitted in the background all along, as by a load generator.
"""

import threading
from dataclasses import dataclass, field

import pytest

from common.faults import FLAGS_FILE_VARIABLE
from common.services import SERVICES
from harness.browser import free_ports, submit, trace_id_of
from harness.polling import wait_for
from native.run_services import Running, start_services
from tests.readme import blocks, body, sections
from tests.self_checks import check_env, run_check, until_passes
from workshop.backends import Jaeger, VictoriaLogs
from workshop.fault import switch_fault

# A platform test (pyproject.toml): it needs the native platform.
pytestmark = pytest.mark.platform

TRIES = 60  # form submissions before a switched fault must have shown


@dataclass
class Traffic:
    """Submits the form four times a second in the background, and keeps each status,
    with whether an error was to be expected when the request was sent."""

    frontend: str
    errors_expected: bool = False  # set while iss-errors may be on
    answers: list[tuple[int, bool]] = field(default_factory=list)
    stopped: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stopped.wait(0.25):
            expected = self.errors_expected
            self.answers.append((submit(self.frontend, "Tokyo").status_code, expected))


@dataclass
class Live:
    running: Running
    flags: object  # the flag file's Path
    jaeger: Jaeger
    logs: VictoriaLogs
    traffic: Traffic
    check_env: dict  # what points `make check` at this platform and these services

    def submit(self, place: str = "Paris"):
        return submit(self.running.urls["frontend"], place)

    def span_with_flag(self, response, flag: str) -> dict:
        """The span of an answer's trace that evaluated `flag`, once it has arrived."""
        trace_id = trace_id_of(response)

        def fetch():
            return next((s for s in self.jaeger.trace(trace_id) if flag in flags_on(s)), None)

        span = wait_for(fetch, timeout=30)
        assert span, f"no span of trace {trace_id} evaluated {flag}"
        return span


@pytest.fixture(scope="module")
def live(stack, tmp_path_factory):
    flags = tmp_path_factory.mktemp("flags") / "flags.json"
    switch_fault("off", flags)
    env = {
        "OFFLINE": "true",
        "OTEL_EXPORTER_OTLP_ENDPOINT": stack.urls["otlp_grpc"],
        FLAGS_FILE_VARIABLE: str(flags),
    }
    logs = tmp_path_factory.mktemp("service-logs")
    with start_services(env, free_ports(), logs) as running:
        traffic = Traffic(running.urls["frontend"])
        background = threading.Thread(target=traffic.run, daemon=True)
        background.start()
        jaeger, victoria_logs = (
            Jaeger(stack.urls["jaeger"]),
            VictoriaLogs(stack.urls["victoria_logs"]),
        )
        yield Live(running, flags, jaeger, victoria_logs, traffic, check_env(stack, running))
        traffic.stopped.set()
        background.join()


def flags_on(span: dict) -> dict[str, str]:
    """The flags a span evaluated, and their values ("true" or "false")."""
    return {
        event["feature_flag.key"]: event["feature_flag.result.value"]
        for event in span["events"]
        if event.get("event") == "feature_flag.evaluation"
    }


def whole_trace(jaeger: Jaeger, trace_id: str) -> list[dict]:
    """The trace's spans once every service's have arrived, else []."""
    spans = jaeger.trace(trace_id)
    return spans if {s["service"] for s in spans} == {s.name for s in SERVICES} else []


def until_the_flag_is(live: Live, flag: str, value: str):
    """Submit the form until an answer's trace shows the flag with this value; return
    that answer and the span that evaluated the flag."""
    for _ in range(TRIES):
        response = live.submit()
        span = live.span_with_flag(response, flag)
        if flags_on(span)[flag] == value:
            return response, span
    pytest.fail(f"no trace showed {flag}={value} in {TRIES} answers")


def logs_of(live: Live, trace_id: str, wanted: str) -> list[dict]:
    """The records of a trace, once one containing `wanted` has arrived (else [])."""
    records = wait_for(
        lambda: [r for r in live.logs.query(f'trace_id:="{trace_id}"') if wanted in r["_msg"]],
        timeout=30,
    )
    return records or []


# First: section 8's self-check must pass on this fault alone, which no metric shows.
def test_wrong_place_switched_on_and_off_is_found_with_the_readme_s_log_query(live):
    [logsql] = [body(block) for block in blocks(sections()[8], "logsql")]
    assert run_check(8, live.check_env).returncode == 1  # no fault yet
    switch_fault("wrong-place", live.flags)
    response, geolocator = until_the_flag_is(live, "wrong-place", "true")

    # A quick, successful, wrong answer: no span says anything is amiss.
    assert response.status_code == 200
    assert 'id="place">Paris, United States<' in response.text
    trace_id = trace_id_of(response)
    spans = wait_for(lambda: whole_trace(live.jaeger, trace_id))
    assert geolocator["service"] == "geolocator-service"
    assert not [s for s in spans if s["tags"].get("otel.status_code") == "ERROR"]
    # Only the geolocator's warning says why, and the README's query finds it.
    assert logs_of(live, trace_id, "Injected fault wrong-place: answering Paris, United States")
    found = wait_for(lambda: [r for r in live.logs.query(logsql) if r["trace_id"] == trace_id])
    assert any("wrong-place" in record["_msg"] for record in found), logsql
    assert until_passes(8, live.check_env).returncode == 0

    switch_fault("off", live.flags)
    response, _ = until_the_flag_is(live, "wrong-place", "false")
    assert 'id="place">Paris, France<' in response.text


def test_iss_latency_switched_on_and_off(live):
    switch_fault("iss-latency", live.flags)
    response, position = until_the_flag_is(live, "iss-latency", "true")

    assert position["name"] == "iss.position" and position["duration"] >= 1.5
    assert response.status_code == 200
    [record] = logs_of(live, trace_id_of(response), "Injected fault iss-latency")
    assert record["severity_text"] == "WARN"

    switch_fault("off", live.flags)
    response, _ = until_the_flag_is(live, "iss-latency", "false")
    assert response.status_code == 200
    # Its records are in, the position's among them, and none says the fault was on.
    records = logs_of(live, trace_id_of(response), "ISS position computed")
    assert records and not [r for r in records if "Injected fault" in r["_msg"]]


def test_iss_errors_switched_on_and_off(live):
    live.traffic.errors_expected = True
    switch_fault("iss-errors", live.flags)
    until_the_flag_is(live, "iss-errors", "true")

    failed = next((r for r in (live.submit() for _ in range(TRIES)) if r.status_code >= 500), None)

    assert failed is not None, f"one answer in four should fail; none of {TRIES} did"
    position = live.span_with_flag(failed, "iss-errors")
    assert flags_on(position)["iss-errors"] == "true"
    assert position["tags"].get("otel.status_code") == "ERROR"
    exceptions = [e for e in position["events"] if e.get("event") == "exception"]
    assert exceptions and exceptions[0]["exception.type"].endswith("InjectedFaultError")

    switch_fault("off", live.flags)
    until_the_flag_is(live, "iss-errors", "false")
    live.traffic.errors_expected = False
    assert [live.submit().status_code for _ in range(20)] == [200] * 20


def test_slow_geocoder_switched_on_and_off(live):
    switch_fault("slow-geocoder", live.flags)
    response, server = until_the_flag_is(live, "slow-geocoder", "true")

    assert (server["service"], server["kind"]) == ("geolocator-service", "server")
    assert server["duration"] >= 2.0
    assert logs_of(live, trace_id_of(response), "Injected fault slow-geocoder: waiting 2.0 s")

    switch_fault("off", live.flags)
    response, _ = until_the_flag_is(live, "slow-geocoder", "false")
    assert response.status_code == 200


def test_the_traffic_all_along_failed_only_while_iss_errors_was_on(live):
    """The switches themselves never fail a request, and the services never restarted."""
    answers = list(live.traffic.answers)

    assert len(answers) > 40  # four a second, through the tests above
    assert [status for status, expected in answers if status != 200 and not expected] == []
    assert all(process.poll() is None for process in live.running.processes.values())
