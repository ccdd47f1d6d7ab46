"""The self-checks, `python -m workshop.check SECTION`, against the real platform.

The platform runs natively (native/run_stack.py), and the services run from workshop
checkpoints, the code at the start of a section, written by workshop/checkpoints.py.
At the start of section S, the check of section S-1 passes, and the check of section S
fails with a hint about the work of section S.

The backends keep what they receive, and the checks look at the last 15 minutes, so the
tests run in the order of the workshop on one platform: the checkpoints first, then the
finished solution, then what the later sections add.
"""

import time
from urllib.parse import urlsplit

import pytest

from common.faults import FLAGS_FILE_VARIABLE
from harness.browser import submit
from harness.polling import wait_for
from tests.self_checks import (
    check_env,
    platform_env,
    run_check,
    services,
    until_passes,
    without_internet,
)
from tests.working_tree import clone, in_state, zero_code_tree
from workshop.backends import Prometheus
from workshop.check import SECTIONS, arrived, platform_urls
from workshop.checkpoints import write_checkpoint
from workshop.fault import switch_fault

# --- Without a platform -------------------------------------------------------------------


GEOLOCATOR_WARNINGS = 'service_name="geolocator-service", severity_text="WARN"'


def port_of(url: str) -> str:
    return str(urlsplit(url).port)


@pytest.fixture
def nowhere(closed_port_url) -> dict[str, str]:
    """Every part of the platform, and the application, at a port where nothing listens."""
    return {
        "PROMETHEUS_URL": closed_port_url,
        "OTEL_EXPORTER_OTLP_ENDPOINT": closed_port_url,
        "FRONTEND_PORT": port_of(closed_port_url),
    }


def test_without_a_platform_section_0_says_how_to_start_it_and_the_application(nowhere):
    result = run_check(0, nowhere)

    assert result.returncode == 1
    assert result.stderr == ""  # no traceback
    assert result.stdout.count("✗") == 3
    assert "make stack" in result.stdout
    assert "docker compose up -d otel-collector grafana" in result.stdout
    assert "make run" in result.stdout


def test_without_a_platform_a_later_section_stops_at_the_platform(nowhere):
    result = run_check(3, nowhere)

    assert result.returncode == 1
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert [line for line in lines if "✗" in line] == [
        "  ✗ Prometheus is ready",
        "  ✗ the collector accepts OTLP",
    ]
    assert "make stack" in result.stdout
    assert "iss.position" not in result.stdout  # the section's own checks are not asked


def test_where_the_output_cannot_show_check_marks_it_says_ok_and_missing(nowhere):
    result = run_check(1, {**nowhere, "PYTHONIOENCODING": "ascii"})

    assert result.returncode == 1
    assert result.stderr == ""
    assert "  MISSING Prometheus is ready" in result.stdout


# --- The platform ---------------------------------------------------------------------------


QUERIES = [c for section in SECTIONS.values() for c in section.checks if c.source != "up"]


@pytest.mark.platform  # the native platform
@pytest.mark.parametrize("check", QUERIES, ids=lambda check: check.signal)
def test_every_query_is_one_that_prometheus_accepts(stack, check):
    arrived(check, platform_urls(platform_env(stack)))  # raises if Prometheus refuses it


# Each checkpoint, the last section before it whose check its code passes, and the
# sections whose checks fail there, each with a word from the first hint of its check.
# Section 5 adds no code: its check needs the Flask instrumentation of section 4. The
# code of checkpoints 5 to 9 is the same, and sections 6 to 8 need more than code:
# load, zero-code, a fault.
CHECKPOINTS = [
    (1, 0, {1: "MeterProvider"}),
    (2, 1, {2: "LoggerProvider"}),
    (3, 2, {3: "TracerProvider"}),
    (4, 3, {4: "traceparent", 5: "Flask"}),
    (9, 5, {6: "make load", 7: "make zero-code", 8: "make fault", 9: "create_histogram"}),
]
# At checkpoint 4, only the first of section 5's checks fails: the exemplars of the HTTP
# metrics of section 4. The others ask for the spans and logs of section 3.
FAILING_CHECKS = {5: 1}


@pytest.mark.platform  # the native platform
@pytest.mark.parametrize(("section", "passing", "failing"), CHECKPOINTS)
def test_at_the_start_of_a_section_the_check_before_passes_and_its_own_says_what_to_do(
    stack, tmp_path, section, passing, failing
):
    tree = write_checkpoint(section, tmp_path / "checkpoint")
    with services(stack, tmp_path, root=tree) as running:
        env = check_env(stack, running)
        before = until_passes(passing, env)
        after = {number: run_check(number, env) for number in failing}

    assert before.returncode == 0, before.stdout
    for number, hint in failing.items():
        result = after[number]
        assert result.returncode == 1, result.stdout
        # Each of the section's own checks fails; the platform that they ask is ready.
        failures = FAILING_CHECKS.get(number, len(SECTIONS[number].checks))
        assert result.stdout.count("✗") == failures, result.stdout
        assert hint in result.stdout


@pytest.mark.platform  # the native platform
def test_with_the_platform_but_not_the_application_section_0_says_make_run(stack, closed_port_url):
    result = run_check(0, platform_env(stack) | {"FRONTEND_PORT": port_of(closed_port_url)})

    assert result.returncode == 1, result.stdout
    assert [line for line in result.stdout.splitlines() if "✗" in line] == [
        "  ✗ the application answers"
    ]
    assert "make run" in result.stdout


# Nothing in this module's platform has failed or been slow so far, and no fault was on.
@pytest.mark.platform  # the native platform
def test_offline_noise_without_a_fault_fails_section_8(stack, tmp_path, closed_port_url):
    """The decoy: no internet and OFFLINE unset, the usual workshop room. The geolocator
    warns that Nominatim failed, inside a request; no fault is on."""
    prometheus = Prometheus(stack.urls["prometheus"])
    noise = f'log_records_total{{{GEOLOCATOR_WARNINGS}, has_trace_id="true"}}'
    with services(stack, tmp_path, env=without_internet(closed_port_url)) as running:
        arrived = wait_for(lambda: prometheus.query(noise), timeout=60)
        result = run_check(8, check_env(stack, running))

    assert arrived, "the geolocator's warning did not arrive"
    assert result.returncode == 1, result.stdout
    assert "make fault NAME=iss-latency" in result.stdout


# --- The finished solution ---------------------------------------------------------------


@pytest.fixture(scope="module")
def solution(stack, tmp_path_factory):
    with services(stack, tmp_path_factory.mktemp("solution")) as running:
        yield check_env(stack, running)


@pytest.mark.platform  # the native platform
@pytest.mark.parametrize("section", [*range(6), 9])
def test_the_solution_passes_sections_0_to_5_and_9(solution, section):
    result = until_passes(section, solution)

    assert result.returncode == 0, result.stdout
    assert "✗" not in result.stdout


@pytest.mark.platform  # the native platform
def test_section_10_needs_more_than_the_code_and_says_what(solution):
    result = run_check(10, solution)

    assert result.returncode == 1, result.stdout
    assert "make fault NAME=iss-errors" in result.stdout


@pytest.mark.platform  # the native platform
def test_a_steady_load_passes_section_6(solution):
    frontend = f"http://127.0.0.1:{solution['FRONTEND_PORT']}"
    deadline = time.monotonic() + 90
    while (result := run_check(6, solution)).returncode != 0 and time.monotonic() < deadline:
        for _ in range(5):  # about 3 requests a second, as `make load RATE=3` would send
            submit(frontend)
            time.sleep(0.3)

    assert result.returncode == 0, result.stdout


@pytest.mark.platform  # the native platform
def test_instrumented_code_run_as_zero_code_fails_section_7(stack, tmp_path):
    """The decoy: the learner's own instrumentation under opentelemetry-instrument (what
    `make zero-code` ran from a working tree without markers). Its hand-written counter
    comes from a process whose Resource says zero-code."""
    tree = write_checkpoint(7, tmp_path / "checkpoint")  # instrumented by hand
    prometheus = Prometheus(stack.urls["prometheus"])
    twice = 'iss_requests_total and on(job, instance) target_info{telemetry_auto_version!=""}'
    with services(stack, tmp_path, root=tree, zero_code=True) as running:
        arrived = wait_for(lambda: prometheus.query(twice), timeout=60)
        result = run_check(7, check_env(stack, running))

    assert arrived, "the decoy's telemetry did not arrive"
    assert result.returncode == 1, result.stdout
    assert "✓ telemetry from zero-code instrumentation" in result.stdout
    assert "✗ ... from the application without OpenTelemetry code of its own" in result.stdout
    assert "MeterProvider" in result.stdout  # the hint: it was all set up twice


@pytest.mark.platform  # the native platform
@pytest.mark.parametrize(
    "env", [{}, {"OTEL_CONFIG_FILE": "zero-code/otel-config.yaml"}], ids=["variables", "file"]
)
def test_make_zero_code_from_checkout_7_passes_section_7(stack, tmp_path, env):
    working_tree = in_state(clone(tmp_path / "repository"), "checkout 7")
    tree = zero_code_tree(working_tree, tmp_path / "cache")  # what `make zero-code` runs
    with services(stack, tmp_path, root=tree, env=env, zero_code=True) as running:
        result = until_passes(7, check_env(stack, running))

    assert result.returncode == 0, result.stdout


@pytest.mark.platform  # the native platform
def test_a_fault_switched_on_while_the_services_run_passes_section_8(stack, tmp_path):
    flags = tmp_path / "flags.json"
    switch_fault("off", flags)
    with services(stack, tmp_path, env={FLAGS_FILE_VARIABLE: str(flags)}) as running:
        env = check_env(stack, running)
        switch_fault("iss-latency", flags)  # what `make fault NAME=iss-latency` does
        deadline = time.monotonic() + 90
        while (result := run_check(8, env)).returncode != 0 and time.monotonic() < deadline:
            submit(running.urls["frontend"])

    assert result.returncode == 0, result.stdout
