"""The faults of the troubleshooting exercise: feature flags in one file, read while the
services run; off unless switched on; visible in the telemetry when they are.

These run the services in this process, with the real flagd provider reading a flag file
of their own. tests/test_faults_live.py switches them under traffic, in real processes.
"""

import json
import logging
import os
import subprocess
import time
from pathlib import Path

import pytest
from openfeature import api as openfeature
from openfeature.event import ProviderEvent
from opentelemetry.trace import StatusCode

import geolocator
import iss_distance
from common import faults
from harness.polling import wait_for
from workshop.checkpoints import ROOT
from workshop.fault import (
    UnknownFaultError,
    flag_definitions,
    main,
    render,
    switch_fault,
)

FLAG_EVENT = "feature_flag.evaluation"


def until(condition, timeout: float = 10):
    """`condition()`'s first truthy result within `timeout` s: the provider checks the file
    twice a second."""
    return wait_for(condition, timeout, interval=0.05)


@pytest.fixture
def flag_file(tmp_path):
    """A flag file of this test's own, all faults off, that the services evaluate."""
    path = tmp_path / "flags.json"
    switch_fault("off", path)
    faults.watch(path)
    yield path
    faults.watch(faults.DEFAULT_FLAGS_FILE)


@pytest.fixture
def switch(flag_file):
    """switch(name) switches a fault on (or "off") and waits until the services see it."""

    def to(name: str) -> None:
        switch_fault(name, flag_file)
        assert until(lambda: {f for f in faults.FAULTS if faults.is_on(f)} == wanted(name))

    return to


def wanted(name: str) -> set[str]:
    return set() if name == "off" else {name}


def flag_events(span) -> dict[str, dict]:
    """The feature flag evaluations recorded on a span, by flag."""
    return {
        e.attributes["feature_flag.key"]: dict(e.attributes)
        for e in span.events
        if e.name == FLAG_EVENT
    }


# --- The flag file and `make fault` -------------------------------------------------------


def test_the_repository_s_flag_file_has_every_fault_off():
    assert (ROOT / "faults/flags.json").read_text() == render(flag_definitions(None))
    assert faults.DEFAULT_FLAGS_FILE == ROOT / "faults/flags.json"


@pytest.mark.parametrize("name", [*faults.FAULTS, "off"])
def test_switching_a_fault_turns_its_flag_on_and_every_other_off(switch, name):
    switch("slow-geocoder")  # another one on first: switching must turn it off

    switch(name)

    assert {fault for fault in faults.FAULTS if faults.is_on(fault)} == wanted(name)


def test_the_flag_file_is_flagd_s_format_readable_by_any_user(flag_file):
    switch_fault("iss-errors", flag_file)

    definitions = json.loads(flag_file.read_text())
    assert definitions["flags"]["iss-errors"]["defaultVariant"] == "on"
    assert definitions["flags"]["iss-errors"]["variants"] == {"on": True, "off": False}
    assert {flag["state"] for flag in definitions["flags"].values()} == {"ENABLED"}
    if os.name == "posix":  # the containers' user reads the file a host user wrote
        assert flag_file.stat().st_mode & 0o777 == 0o644
    assert [p.name for p in flag_file.parent.iterdir()] == ["flags.json"]  # no leftovers


def test_an_unknown_fault_is_refused_before_the_file_is_touched(flag_file):
    before = flag_file.read_text()

    with pytest.raises(UnknownFaultError, match="iss-latency, iss-errors"):
        switch_fault("iss-slowness", flag_file)

    assert flag_file.read_text() == before


def test_the_command_says_what_it_switched_and_what_to_look_for(flag_file, monkeypatch, capsys):
    monkeypatch.setenv(faults.FLAGS_FILE_VARIABLE, str(flag_file))

    assert main(["iss-latency"]) == 0
    said = capsys.readouterr().out
    assert "Switched on iss-latency: the ISS position takes 1.5 s longer" in said
    assert "look for slow answers" in said and "make fault NAME=off" in said

    assert main(["off"]) == 0
    assert "Every fault is off" in capsys.readouterr().out
    assert flag_file.read_text() == render(flag_definitions(None))


@pytest.mark.parametrize(
    ("make_arguments", "message"),
    [
        (["NAME=bogus"], "no fault is called 'bogus'; choose one of: iss-latency"),
        ([], "usage: make fault NAME=<name|off>, the name one of: iss-latency"),
    ],
)
def test_make_fault_refuses_a_bad_name_clearly(tmp_path, make_arguments, message):
    flag_file = tmp_path / "flags.json"
    env = {**os.environ, faults.FLAGS_FILE_VARIABLE: str(flag_file)}

    result = subprocess.run(
        ["make", "--no-print-directory", "fault", *make_arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )

    assert result.returncode != 0
    assert message in result.stderr
    assert not flag_file.exists()


def test_make_fault_switches_a_fault_on(tmp_path):
    flag_file = tmp_path / "flags.json"
    env = {**os.environ, faults.FLAGS_FILE_VARIABLE: str(flag_file)}

    result = subprocess.run(
        ["make", "fault", "NAME=wrong-place"], cwd=ROOT, env=env, capture_output=True, text=True
    )

    assert result.returncode == 0, result.stderr
    assert "Switched on wrong-place" in result.stdout
    assert flag_file.read_text() == render(flag_definitions("wrong-place"))


# --- A missing or broken flag file ----------------------------------------------------------


def warnings_about(path: Path, caplog) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and str(path) in r.getMessage()
    ]


def test_a_missing_flag_file_means_no_fault_and_one_warning(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="common.faults")
    path = tmp_path / "flags.json"
    reports = []  # the provider's: one at each check of the file, twice a second
    openfeature.add_handler(ProviderEvent.PROVIDER_ERROR, reports.append)
    try:
        faults.watch(path)

        assert not any(faults.is_on(fault) for fault in faults.FAULTS)
        assert until(lambda: len(reports) >= 4)
        [warning] = warnings_about(path, caplog)
        assert "(no such file): every fault is off" in warning

        switch_fault("iss-errors", path)  # the file appears: the faults are back
        assert until(lambda: faults.is_on("iss-errors"))
        assert until(lambda: "can be read again" in caplog.text)
    finally:
        openfeature.remove_handler(ProviderEvent.PROVIDER_ERROR, reports.append)
        faults.watch(faults.DEFAULT_FLAGS_FILE)


def test_a_broken_flag_file_switches_every_fault_off(switch, flag_file, caplog):
    caplog.set_level(logging.INFO, logger="common.faults")
    switch("iss-latency")

    flag_file.write_text('{"flags": {"iss-latency": ')  # a half-written edit, say

    assert until(lambda: not faults.is_on("iss-latency"))
    assert until(lambda: warnings_about(flag_file, caplog))
    [warning] = warnings_about(flag_file, caplog)
    assert "Could not parse JSON" in warning

    switch("iss-latency")  # fixed
    assert faults.is_on("iss-latency")


# --- Each fault, in a service ---------------------------------------------------------------


def test_no_fault_slows_or_fails_anything_and_the_trace_says_so(switch, telemetry):
    client = iss_distance.create_app({"OFFLINE": True}).test_client()

    assert client.get("/?latitude=0&longitude=0").status_code == 200

    position = next(s for s in telemetry.spans() if s.name == "iss.position")
    events = flag_events(position)
    assert set(events) == {"iss-latency", "iss-errors"}
    assert events["iss-latency"]["feature_flag.result.value"] == "false"
    assert events["iss-latency"]["feature_flag.result.variant"] == "off"
    assert events["iss-latency"]["feature_flag.provider.name"] == "FlagdProvider"


def test_iss_latency_slows_the_position_span_and_says_why(switch, telemetry):
    app = iss_distance.create_app({"OFFLINE": True})
    switch("iss-latency")

    assert app.test_client().get("/?latitude=0&longitude=0").status_code == 200

    position = next(s for s in telemetry.spans() if s.name == "iss.position")
    assert (position.end_time - position.start_time) / 1e9 >= 1.5
    assert flag_events(position)["iss-latency"]["feature_flag.result.value"] == "true"
    fault_logs = [log for log in telemetry.logs() if "Injected fault iss-latency" in str(log.body)]
    assert fault_logs and fault_logs[0].trace_id == position.context.trace_id


def test_iss_errors_fail_some_lookups_with_an_error_span(switch, telemetry):
    client = iss_distance.create_app({"OFFLINE": True}).test_client()
    switch("iss-errors")

    statuses = [client.get("/?latitude=0&longitude=0").status_code for _ in range(60)]

    assert set(statuses) == {200, 500}  # one in four fails: both, in 60 tries
    failed = [s for s in telemetry.spans() if s.name == "iss.position" and not s.status.is_ok]
    assert failed and failed[0].status.status_code == StatusCode.ERROR
    [exception] = [e for e in failed[0].events if e.name == "exception"]
    assert exception.attributes["exception.type"].endswith("InjectedFaultError")
    assert flag_events(failed[0])["iss-errors"]["feature_flag.result.value"] == "true"


def test_a_failing_lookup_answers_json_without_details(switch):
    client = iss_distance.create_app({"OFFLINE": True}).test_client()
    switch("iss-errors")

    responses = [client.get("/?latitude=0&longitude=0") for _ in range(60)]
    body = next(r for r in responses if r.status_code == 500).get_json()

    assert set(body) == {"error"} and "Traceback" not in body["error"]


@pytest.mark.parametrize("fault", ["off", "slow-geocoder"])
def test_slow_geocoder(switch, telemetry, fault):
    client = geolocator.create_app({"OFFLINE": True}).test_client()
    switch(fault)

    started = time.monotonic()
    assert client.get("/?location=Paris").status_code == 200
    elapsed = time.monotonic() - started

    assert (elapsed >= 2.0) == (fault == "slow-geocoder")
    [server] = [s for s in telemetry.spans() if s.name == "GET /"]
    value = flag_events(server)["slow-geocoder"]["feature_flag.result.value"]
    assert value == json.dumps(fault == "slow-geocoder")


def test_wrong_place_answers_a_namesake_and_only_a_log_says_why(switch, telemetry):
    client = geolocator.create_app({"OFFLINE": True}).test_client()
    assert client.get("/?location=Paris").get_json()["name"] == "Paris, France"
    switch("wrong-place")
    telemetry.clear()

    answer = client.get("/?location=Paris")

    assert answer.status_code == 200
    assert answer.get_json()["name"] == "Paris, United States"  # valid, and wrong
    [server] = [s for s in telemetry.spans() if s.name == "GET /"]
    assert server.status.status_code == StatusCode.UNSET  # no error anywhere
    [warning] = [log for log in telemetry.logs() if "Injected fault wrong-place" in str(log.body)]
    assert "answering Paris, United States, the least populous of 3" in str(warning.body)
    assert warning.severity_text == "WARN"
    assert warning.trace_id == server.context.trace_id
    # It names its flag: section 8's check tells it from other warnings by this.
    assert warning.attributes["feature_flag.key"] == "wrong-place"


def test_wrong_place_answers_a_name_that_no_other_city_has_rightly(switch):
    client = geolocator.create_app({"OFFLINE": True}).test_client()
    switch("wrong-place")

    assert client.get("/?location=Tokyo").get_json()["name"] == "Tokyo, Japan"
    assert client.get("/?location=Paris, France").get_json()["name"] == "Paris, France"
