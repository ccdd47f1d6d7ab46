"""Repeated export failures: the first is shown, then one a minute with a count."""

import contextlib
import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from common.log_summary import SummariseRepeats

ROOT = Path(__file__).resolve().parent.parent
FAILED = "Failed to export %s to %s, error code: %s"


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def record(message: str, *args, name: str = "opentelemetry.exporter") -> logging.LogRecord:
    return logging.LogRecord(name, logging.ERROR, __file__, 1, message, args, None)


def shown(summary: SummariseRepeats, *records: logging.LogRecord) -> list[str]:
    return [r.getMessage() for r in records if summary.filter(r)]


def test_the_first_failure_is_shown_and_its_repeats_held_back():
    clock = FakeClock()
    summary = SummariseRepeats(clock=clock)

    first = shown(summary, record(FAILED, "traces", "127.0.0.1:4317", "UNAVAILABLE"))
    clock.now += 5
    # Another signal, the same failure: alike, whatever the arguments.
    later = shown(summary, record(FAILED, "metrics", "127.0.0.1:4317", "UNAVAILABLE"))

    assert first == ["Failed to export traces to 127.0.0.1:4317, error code: UNAVAILABLE"]
    assert later == []


def test_after_a_minute_one_repeat_is_shown_with_the_count_held_back():
    clock = FakeClock()
    summary = SummariseRepeats(clock=clock)
    shown(summary, record(FAILED, "logs", "collector:4317", "UNAVAILABLE"))

    held_back = []
    for _ in range(11):  # one every 6 s: the last comes 66 s after the first
        clock.now += 6
        held_back += shown(summary, record(FAILED, "logs", "collector:4317", "UNAVAILABLE"))
    clock.now += 6
    after_that = shown(summary, record(FAILED, "logs", "collector:4317", "UNAVAILABLE"))

    assert held_back == [
        "Failed to export logs to collector:4317, error code: UNAVAILABLE"
        " (9 more like this in the last 60 s)"
    ]
    assert after_that == []  # a new minute has started


def test_a_failure_after_a_quiet_minute_is_shown_as_it_is():
    clock = FakeClock()
    summary = SummariseRepeats(clock=clock)
    shown(summary, record(FAILED, "logs", "collector:4317", "UNAVAILABLE"))
    clock.now += 3600

    again = shown(summary, record(FAILED, "logs", "collector:4317", "UNAVAILABLE"))

    assert again == ["Failed to export logs to collector:4317, error code: UNAVAILABLE"]


def test_different_messages_are_counted_apart():
    summary = SummariseRepeats(clock=FakeClock())

    messages = shown(
        summary,
        record(FAILED, "logs", "collector:4317", "UNAVAILABLE"),
        record("Exception while exporting %s.", "logs"),
        record(FAILED, "logs", "collector:4317", "UNAVAILABLE", name="opentelemetry.other"),
        record("Exception while exporting %s.", "metrics"),
    )

    assert len(messages) == 3


def test_a_service_with_no_collector_says_so_once(closed_port_url):
    """A real service, with nothing listening where its collector should be."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        listen = f"127.0.0.1:{sock.getsockname()[1]}"  # a free port for the service
    url = f"http://{listen}"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
        "OFFLINE": "true",
        "OTEL_EXPORTER_OTLP_ENDPOINT": closed_port_url,
        "OTEL_METRIC_EXPORT_INTERVAL": "100",  # a batch of metrics to fail every 0.1 s
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "common.server", f"--listen={listen}", "iss_distance:create_app"],
        cwd=ROOT / "backend/iss-distance-service",
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_until_healthy(url)
        for _ in range(30):  # spans and log records to fail as well, for 9 s
            requests.get(f"{url}/?latitude=1&longitude=2", timeout=5).raise_for_status()
            time.sleep(0.3)
    finally:
        process.kill()  # no flush on the way out: more failures are not the point
    output, _ = process.communicate(timeout=30)

    failures = [line for line in output.splitlines() if "Failed to export" in line]
    assert len(failures) == 1, output


def wait_until_healthy(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(requests.ConnectionError):
            if requests.get(f"{url}/healthz", timeout=1).ok:
                return
        time.sleep(0.2)
    raise TimeoutError(f"nothing healthy at {url} within {timeout} s")
