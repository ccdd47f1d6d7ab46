"""Repeated export failures: the first is shown, then one a minute with a count."""

import io
import logging

from common.log_summary import SummariseRepeats

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


def test_the_sdk_console_of_a_service_says_a_repeated_failure_once():
    """The set-up of common/telemetry.py, which conftest.py ran for this process: the
    SDK's loggers write to a console handler that summarises."""
    # pytest adds capturing handlers of its own: ours is the one that filters.
    [console] = [h for h in logging.getLogger("opentelemetry").handlers if h.filters]
    exporter_logger = logging.getLogger("opentelemetry.exporter.otlp.proto.grpc.exporter")
    output = io.StringIO()
    previous = console.setStream(output)
    try:
        for signal in ["traces", "metrics", "logs"] * 5:
            exporter_logger.error(FAILED, signal, "127.0.0.1:4317", "UNAVAILABLE")
    finally:
        console.setStream(previous)

    assert output.getvalue().splitlines() == [
        "Failed to export traces to 127.0.0.1:4317, error code: UNAVAILABLE"
    ]
