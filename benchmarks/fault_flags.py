"""What asking a fault flag costs a request: common.faults.is_on(), timed.

    python benchmarks/fault_flags.py

Each service asks two flags per request (the ISS distance service in its iss.position
span, the geolocator in its server span). This times one evaluation by the flagd
provider in process, from a flag file in a temporary folder: first without
OpenTelemetry, as before section 3; then with a tracer provider and OpenFeature's
OpenTelemetry hook, inside a span, where each evaluation adds a span event; then while
the flag file is missing, when no flag is asked at all. It is a measurement, not a test.
"""

import tempfile
import timeit
from pathlib import Path

from openfeature import api as openfeature
from openfeature.contrib.hook.opentelemetry import TracingHook
from opentelemetry.sdk.trace import TracerProvider

from common import faults
from workshop.fault import switch_fault

ROUNDS = 20_000


def microseconds_per_evaluation() -> float:
    seconds = timeit.timeit(lambda: faults.is_on("iss-latency"), number=ROUNDS)
    return seconds / ROUNDS * 1e6


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        flags = Path(folder) / "flags.json"
        switch_fault("iss-latency", flags)
        faults.watch(flags)
        assert faults.is_on("iss-latency")
        print(f"one evaluation, {ROUNDS} times over:")
        print(f"  without OpenTelemetry           {microseconds_per_evaluation():6.1f} µs")

        openfeature.add_hooks([TracingHook()])
        tracer = TracerProvider().get_tracer("benchmark")  # spans kept, never exported
        # A span keeps at most 128 events: a new span for every 100 evaluations.
        seconds = 0.0
        for _ in range(ROUNDS // 100):
            with tracer.start_as_current_span("iss.position") as span:
                seconds += timeit.timeit(lambda: faults.is_on("iss-latency"), number=100)
                assert len(span.events) == 100
        print(f"  with the hook, inside a span    {seconds / ROUNDS * 1e6:6.1f} µs")

        flags.unlink()
        faults.watch(Path(folder) / "missing.json")
        print(f"  flag file missing (all off)     {microseconds_per_evaluation():6.1f} µs")


if __name__ == "__main__":
    main()
