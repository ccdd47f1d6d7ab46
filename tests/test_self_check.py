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
from tests.browser_like import submit
from tests.self_checks import check_env, platform_env, run_check, services, until_passes
from workshop.check import SECTIONS, arrived, platform_urls
from workshop.checkpoints import write_checkpoint
from workshop.fault import switch_fault

# --- Without a platform -------------------------------------------------------------------


@pytest.fixture
def nowhere(closed_port_url) -> dict[str, str]:
    """Every part of the platform, and the application, at a port where nothing listens."""
    return {
        "PROMETHEUS_URL": closed_port_url,
        "OTEL_EXPORTER_OTLP_ENDPOINT": closed_port_url,
        "FRONTEND_PORT": str(urlsplit(closed_port_url).port),
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


@pytest.mark.parametrize("check", QUERIES, ids=lambda check: check.signal)
def test_every_query_is_one_that_prometheus_accepts(stack, check):
    arrived(check, platform_urls(platform_env(stack)))  # raises if Prometheus refuses it


# Each checkpoint, the last section before it whose check its code passes (sections 6
# to 8 need more than code: load, zero-code, a fault), and a word from the first hint of
# its own section's check.
CHECKPOINTS = [
    (1, 0, "MeterProvider"),
    (2, 1, "LoggerProvider"),
    (3, 2, "TracerProvider"),
    (4, 3, "traceparent"),  # trace context propagation
    (9, 5, "create_histogram"),
]


@pytest.mark.parametrize(("section", "passing", "hint"), CHECKPOINTS)
def test_at_the_start_of_a_section_the_check_before_passes_and_its_own_says_what_to_do(
    stack, tmp_path, section, passing, hint
):
    tree = write_checkpoint(section, tmp_path / "checkpoint")
    with services(stack, tmp_path, root=tree) as running:
        env = check_env(stack, running)
        before = until_passes(passing, env)
        after = run_check(section, env)

    assert before.returncode == 0, before.stdout
    assert after.returncode == 1, after.stdout
    # Each of the section's own checks fails; the platform that they ask is ready.
    assert after.stdout.count("✗") == len(SECTIONS[section].checks), after.stdout
    assert hint in after.stdout


# --- The finished solution ---------------------------------------------------------------


@pytest.fixture(scope="module")
def solution(stack, tmp_path_factory):
    with services(stack, tmp_path_factory.mktemp("solution")) as running:
        yield check_env(stack, running)


@pytest.mark.parametrize("section", [*range(6), 9])
def test_the_solution_passes_sections_0_to_5_and_9(solution, section):
    result = until_passes(section, solution)

    assert result.returncode == 0, result.stdout
    assert "✗" not in result.stdout


@pytest.mark.parametrize(
    ("section", "hint"),
    [
        (6, "make load"),
        (7, "make zero-code"),
        (8, "make fault NAME=iss-latency"),
        (10, "make fault NAME=iss-errors"),
    ],
)
def test_the_sections_after_5_need_more_than_the_code_and_say_what(solution, section, hint):
    result = run_check(section, solution)

    assert result.returncode == 1, result.stdout
    assert hint in result.stdout


def test_a_steady_load_passes_section_6(solution):
    frontend = f"http://127.0.0.1:{solution['FRONTEND_PORT']}"
    deadline = time.monotonic() + 90
    while (result := run_check(6, solution)).returncode != 0 and time.monotonic() < deadline:
        for _ in range(5):  # about 3 requests a second, as `make load RATE=3` would send
            submit(frontend)
            time.sleep(0.3)

    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize(
    "env", [{}, {"OTEL_CONFIG_FILE": "zero-code/otel-config.yaml"}], ids=["variables", "file"]
)
def test_zero_code_instrumentation_passes_section_7(stack, tmp_path, env):
    tree = write_checkpoint(0, tmp_path / "checkpoint")  # no OpenTelemetry code at all
    with services(stack, tmp_path, root=tree, env=env, zero_code=True) as running:
        result = until_passes(7, check_env(stack, running))

    assert result.returncode == 0, result.stdout


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
