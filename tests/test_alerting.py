"""Section 10: the alerting rules fire on a real fault, and resolve once it is off.

The native platform runs Prometheus with prometheus.yml and the rules it loads
(prometheus/alerts.yml), as Docker does. The services run from this repository under a
steady load, and a fault is switched on, then off, as the workshop does it. Prometheus's
/api/v1/alerts must show the alert pending, then firing, then no more.

The rules set the pace: they are evaluated every 15 s, over rates of the last minute,
and fire after `for: 1m`. So each fault takes a few minutes; the test prints how long
the alert took to fire and to resolve.

The tests run in the order of the section, on one platform: the check of section 10
fails before any alert has fired, and passes once one has fired and been resolved.
"""

import contextlib
import threading
import time
from pathlib import Path

import pytest
import requests

from common.faults import FLAGS_FILE_VARIABLE
from harness.browser import free_ports, submit
from harness.polling import wait_for
from native.run_services import start_services
from tests.grafana_queries import annotation_records
from tests.self_checks import OFFLINE, platform_env, run_check, until_passes
from tests.test_platform import readme_api_addresses
from workshop import fault
from workshop.backends import Prometheus

# A platform test (pyproject.toml): it needs the native platform.
pytestmark = pytest.mark.platform

# Each fault, and the alert it must raise for the service where it is.
FAULTS = [("iss-errors", "HighErrorRatio"), ("iss-latency", "HighLatency")]
SERVICE = "iss-distance-service"
ALERTING_ADDRESSES = readme_api_addresses(alerting=True)
# From the rules: up to 15 s to notice, `for: 1m`, and a second for the flag to be read.
# A generous bound, to fail rather than hang; the printed figures are the real ones.
TIMEOUT = 240


class Application:
    """The four services under a steady load, started once; faults are switched at runtime."""

    def __init__(self, stack, log_dir: Path):
        # The services' own flag file, so that the test never touches the repository's.
        self.flags = log_dir / "flags.json"
        fault.switch_fault(fault.OFF, self.flags)
        self.env = {
            **OFFLINE,
            "OTEL_EXPORTER_OTLP_ENDPOINT": stack.urls["otlp_grpc"],
            FLAGS_FILE_VARIABLE: str(self.flags),
        }
        self.ports = free_ports()
        self.frontend = f"http://127.0.0.1:{self.ports['frontend']}"
        self.running = contextlib.ExitStack()
        self.running.enter_context(start_services(self.env, self.ports, log_dir))

    def switch_fault(self, name: str | None) -> None:
        """Switch one fault on, or with None every fault off, as `make fault NAME=...` does."""
        fault.switch_fault(name or fault.OFF, self.flags)

    def stop(self) -> None:
        self.running.close()


@contextlib.contextmanager
def steady_load(frontend: str):
    """Submit the form again and again in a thread, as `make load` does."""
    stop = threading.Event()

    def submit_until_stopped():
        while not stop.is_set():
            with contextlib.suppress(requests.RequestException):  # iss-errors fails some
                submit(frontend)
            stop.wait(0.5)

    thread = threading.Thread(target=submit_until_stopped, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


@pytest.fixture(scope="module")
def application(stack, tmp_path_factory):
    application = Application(stack, tmp_path_factory.mktemp("service-logs"))
    application.switch_fault(None)
    try:
        with steady_load(application.frontend):
            yield application
    finally:
        application.stop()


@pytest.fixture(scope="module")
def prometheus(stack) -> Prometheus:
    return Prometheus(stack.urls["prometheus"])


@pytest.fixture(scope="module")
def check_env(stack, application) -> dict[str, str]:
    return platform_env(stack) | {"FRONTEND_PORT": str(application.ports["frontend"])}


def state_of(prometheus: Prometheus, alert: str) -> str | None:
    """The state of the alert about SERVICE: "pending", "firing", or None if inactive."""
    for active in prometheus.alerts():
        labels = active["labels"]
        if labels["alertname"] == alert and labels.get("service_name") == SERVICE:
            return active["state"]
    return None


def test_before_any_alert_the_check_of_section_10_says_how_to_fire_one(check_env):
    result = run_check(10, check_env)

    assert result.returncode == 1, result.stdout
    assert "✓ Prometheus has loaded the alerting rule HighErrorRatio" in result.stdout
    assert "✓ Prometheus has loaded the alerting rule HighLatency" in result.stdout
    assert "✗ an alert fired" in result.stdout
    assert "make fault NAME=iss-errors" in result.stdout


@pytest.mark.timeout(2 * TIMEOUT + 120)  # on, then off
@pytest.mark.parametrize(("fault", "alert"), FAULTS)
def test_a_fault_fires_its_alert_and_switching_it_off_resolves_it(
    application, prometheus, check_env, fault, alert
):
    states = []  # the alert's states, each time it changed

    def fires() -> bool:
        state = state_of(prometheus, alert)
        if state and state not in states[-1:]:
            states.append(state)
        return state == "firing"

    application.switch_fault(fault)
    switched_on = time.monotonic()
    fired = wait_for(fires, timeout=TIMEOUT, interval=2)
    fired_after = time.monotonic() - switched_on

    assert fired, f"{alert} did not fire within {TIMEOUT} s of {fault}; states: {states}"
    assert states == ["pending", "firing"]
    firing_for = sorted(
        a["labels"].get("service_name", "") for a in prometheus.alerts()
        if a["labels"]["alertname"] == alert and a["state"] == "firing"
    )  # fmt: skip
    # The dashboard marks it too: Grafana's annotation query finds it.
    for annotation in annotation_records():
        marked = prometheus.query(annotation.text)
        assert alert in {series["metric"]["alertname"] for series in marked}, annotation.where
    # And so does every address of Prometheus's alerts and rules that the docs show.
    assert ALERTING_ADDRESSES
    for url in ALERTING_ADDRESSES:
        assert alert in requests.get(url, timeout=10).text, url
    # The decoy for section 10's check: an alert that fires and is never resolved.
    still_firing = run_check(10, check_env)
    assert still_firing.returncode == 1, still_firing.stdout
    assert "✗ ... and was resolved once the fault was off" in still_firing.stdout

    application.switch_fault(None)
    switched_off = time.monotonic()
    resolved = wait_for(lambda: state_of(prometheus, alert) is None, timeout=TIMEOUT, interval=2)
    resolved_after = time.monotonic() - switched_off

    assert resolved, f"{alert} still active {TIMEOUT} s after {fault} was switched off"
    print(
        f"\n{fault}: {alert} fired {fired_after:.0f} s after the fault was switched on, "
        f"and was resolved {resolved_after:.0f} s after it was switched off; "
        f"it fired for {', '.join(firing_for)}"
    )


def test_once_an_alert_has_fired_and_been_resolved_section_10_passes(check_env):
    result = until_passes(10, check_env)

    assert result.returncode == 0, result.stdout
    assert "✗" not in result.stdout
