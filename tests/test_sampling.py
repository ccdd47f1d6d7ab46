"""Section 11: tail sampling in the collector, on the real native platform.

The collector keeps every trace with an error, every slow trace and every trace that the
load generator did not ask for (yours: a learner finds their trace by id), and a tenth
of the load generator's other traces. The span metrics are computed before sampling, so
they still count every request. `make check SECTION=11` fails with the collector config
at the start of section 11 and passes with the finished one.
"""

import time

import pytest
import requests
from opentelemetry.instrumentation.utils import suppress_instrumentation

from common.faults import FLAGS_FILE_VARIABLE
from harness.browser import submit, trace_id_of
from harness.polling import wait_for
from loadgen.generate_load import USER_AGENT
from tests.self_checks import (
    PLACES,
    check_env,
    collector_from,
    load,
    run_check,
    services,
    until_passes,
)
from workshop import fault
from workshop.backends import Jaeger, Prometheus
from workshop.checkpoints import write_checkpoint

# A platform test (pyproject.toml): it needs the native platform.
pytestmark = pytest.mark.platform

FORM = 'service_name="frontend", span_kind="SPAN_KIND_SERVER", span_name="POST /"'
SUBMISSIONS = f"sum(traces_spanmetrics_calls_total{{{FORM}}})"
HELD = "sum(otelcol_processor_tail_sampling_sampling_traces_on_memory)"
ALL_SERVICES = {"frontend", "gateway", "geolocator-service", "iss-distance-service"}


def submit_as_load_generator(frontend: str, place: str) -> str:
    """Submit the form as loadgen/generate_load.py does; return the trace id."""
    with suppress_instrumentation():
        response = requests.post(
            frontend, data={"location": place}, headers={"User-Agent": USER_AGENT}, timeout=30
        )
    return trace_id_of(response)


def total(prometheus: Prometheus, promql: str) -> float | None:
    result = prometheus.query(promql)
    return float(result[0]["value"][1]) if result else None


def all_decided(prometheus: Prometheus, since: float) -> bool:
    """Whether the tail sampler held no trace in a report taken after `since`."""
    result = prometheus.query(HELD)
    return bool(result) and result[0]["value"][0] > since and float(result[0]["value"][1]) == 0


@pytest.fixture(scope="module")
def backends(stack):
    return Jaeger(stack.urls["jaeger"]), Prometheus(stack.urls["prometheus"])


# The tests run in this order on the module's platform: the check of section 11 looks
# at the last 15 minutes, so the collector without the section's work comes first.


def test_before_section_11_every_trace_is_kept_and_the_check_fails(stack, backends, tmp_path):
    jaeger, _ = backends
    checkpoint = write_checkpoint(11, tmp_path / "checkpoint")
    with collector_from(stack, checkpoint), services(stack, tmp_path) as running:
        frontend = running.urls["frontend"]
        load(frontend, 20)
        traced = [submit_as_load_generator(frontend, "Paris") for _ in range(10)]
        kept = wait_for(lambda: all(jaeger.trace(trace_id) for trace_id in traced))
        check = run_check(11, check_env(stack, running))

    assert kept
    assert check.returncode == 1, check.stdout
    assert "tail_sampling" in check.stdout


def test_tail_sampling_keeps_errors_and_yours_and_a_fraction_of_the_load(stack, backends, tmp_path):
    jaeger, prometheus = backends
    before = total(prometheus, SUBMISSIONS) or 0
    with services(stack, tmp_path) as running:  # which submits PLACES as a learner
        frontend = running.urls["frontend"]
        yours = [trace_id_of(submit(frontend, place)) for place in PLACES]
        load_ok = [submit_as_load_generator(frontend, "Paris") for _ in range(40)]
        # An unknown place: the gateway's call to the geolocator fails (404), an error.
        load_errors = [submit_as_load_generator(frontend, "Qwertyuiop") for _ in range(5)]
        last = time.time()
        sent = 2 * len(PLACES) + len(load_ok) + len(load_errors)

        def whole(trace_id: str, services: set[str]) -> bool:
            return {span["service"] for span in jaeger.trace(trace_id)} == services

        errors_kept = wait_for(
            lambda: all(whole(t, ALL_SERVICES - {"iss-distance-service"}) for t in load_errors)
        )
        yours_kept = wait_for(lambda: all(whole(t, ALL_SERVICES) for t in yours))
        decided = wait_for(lambda: all_decided(prometheus, last + 3))
        counted = wait_for(lambda: total(prometheus, SUBMISSIONS) - before == sent)
        check = until_passes(11, check_env(stack, running))

    kept = [trace_id for trace_id in load_ok if jaeger.trace(trace_id)]
    assert errors_kept and yours_kept and decided
    assert len(kept) < len(load_ok) / 2, f"{len(kept)} of {len(load_ok)} kept"
    assert counted, f"span metrics counted {total(prometheus, SUBMISSIONS) - before} of {sent}"
    assert check.returncode == 0, check.stdout


def test_tail_sampling_keeps_every_slow_trace(stack, backends, tmp_path):
    jaeger, _ = backends
    # The geolocator takes 2 s longer: every trace is over the 1 s of the latency policy.
    flags = tmp_path / "flags.json"
    fault.switch_fault("slow-geocoder", flags)
    with services(stack, tmp_path, env={FLAGS_FILE_VARIABLE: str(flags)}) as running:
        slow = [submit_as_load_generator(running.urls["frontend"], "Oslo") for _ in range(5)]
        kept = wait_for(lambda: all(jaeger.trace(trace_id) for trace_id in slow))

    assert kept
