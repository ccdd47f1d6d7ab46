"""The faults of the troubleshooting exercise: off by default, visible when switched on."""

import time

import pytest
from opentelemetry.trace import StatusCode

import geolocator
import iss_distance
from common import faults


def test_no_fault_is_on_by_default(monkeypatch):
    monkeypatch.delenv("FAULTS", raising=False)
    assert faults.from_environment() == frozenset()


def test_faults_are_read_from_the_environment_and_unknown_ones_ignored(monkeypatch, caplog):
    monkeypatch.setenv("FAULTS", " iss-latency, slow-geocoder ,no-such-fault")

    assert faults.from_environment() == {"iss-latency", "slow-geocoder"}
    assert "Unknown fault 'no-such-fault'" in caplog.text


def test_iss_latency_slows_the_position_span_and_says_why(telemetry):
    app = iss_distance.create_app({"OFFLINE": True, "FAULTS": frozenset({"iss-latency"})})

    assert app.test_client().get("/?latitude=0&longitude=0").status_code == 200

    position = next(s for s in telemetry.spans() if s.name == "iss.position")
    assert (position.end_time - position.start_time) / 1e9 >= 1.5
    fault_logs = [log for log in telemetry.logs() if "iss-latency" in str(log.body)]
    assert fault_logs and fault_logs[0].trace_id == position.context.trace_id


def test_iss_errors_fail_some_lookups_with_an_error_span(telemetry):
    client = iss_distance.create_app(
        {"OFFLINE": True, "FAULTS": frozenset({"iss-errors"})}
    ).test_client()

    statuses = [client.get("/?latitude=0&longitude=0").status_code for _ in range(60)]

    assert set(statuses) == {200, 500}  # one in four fails: both, in 60 tries
    failed = [s for s in telemetry.spans() if s.name == "iss.position" and not s.status.is_ok]
    assert failed and failed[0].status.status_code == StatusCode.ERROR
    assert failed[0].events[0].attributes["exception.type"].endswith("InjectedFaultError")


def test_a_failing_lookup_answers_json_without_details():
    client = iss_distance.create_app(
        {"OFFLINE": True, "FAULTS": frozenset({"iss-errors"})}
    ).test_client()

    responses = [client.get("/?latitude=0&longitude=0") for _ in range(60)]
    body = next(r for r in responses if r.status_code == 500).get_json()

    assert set(body) == {"error"} and "Traceback" not in body["error"]


@pytest.mark.parametrize("fault", [frozenset(), frozenset({"slow-geocoder"})])
def test_slow_geocoder(fault):
    client = geolocator.create_app({"OFFLINE": True, "FAULTS": fault}).test_client()

    started = time.monotonic()
    assert client.get("/?location=Paris").status_code == 200
    elapsed = time.monotonic() - started

    assert (elapsed >= 2.0) == bool(fault)
