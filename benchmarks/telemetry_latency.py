"""How long until a request shows up in Tempo, Prometheus and Loki?

    make stack-latency        (or: python benchmarks/telemetry_latency.py --requests 5)

Starts the native platform and the four services with the workshop's default export
settings, submits the form a few times, and measures for each request the time from
its answer until:

- its trace is searchable in Tempo (TraceQL, by service name);
- its trace can be fetched by id from Tempo;
- its metrics are queryable in Prometheus (incoming_requests_total counts it);
- its logs are queryable in Loki (by trace_id).

It prints the median of each. It is a measurement, not a test.
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from native.run_services import start_services  # noqa: E402
from native.run_stack import running_stack  # noqa: E402
from tests.browser_like import submit, trace_id_of  # noqa: E402
from workshop.backends import Loki, Prometheus, Tempo  # noqa: E402

COUNTED = 'sum(incoming_requests_total{http_response_status_code="200"})'


def counted(prometheus: Prometheus) -> float:
    result = prometheus.query(COUNTED)
    return float(result[0]["value"][1]) if result else 0.0


def measure_one(frontend: str, tempo: Tempo, prometheus: Prometheus, loki: Loki) -> dict:
    before = counted(prometheus)
    trace_id = trace_id_of(submit(frontend))
    answered = time.monotonic()
    waits = {
        "Tempo, by id": lambda: tempo.trace(trace_id),
        "Tempo, TraceQL search": lambda: (
            trace_id in tempo.search('{resource.service.name="frontend"}', since_seconds=300)
        ),
        "Prometheus": lambda: counted(prometheus) > before,
        "Loki": lambda: loki.query(
            f'{{service_name="iss-distance-service"}} | trace_id="{trace_id}"'
        ),
    }
    # Poll every backend in the same loop, so that each figure is its own.
    result = {}
    while len(result) < len(waits) and time.monotonic() - answered < 120:
        for name, condition in waits.items():
            if name not in result and condition():
                result[name] = time.monotonic() - answered
        time.sleep(0.1)
    return {name: result.get(name, float("nan")) for name in waits}


def main() -> None:
    parser = argparse.ArgumentParser(description="Measure telemetry latency.")
    parser.add_argument("--requests", type=int, default=5)
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory() as logs, running_stack() as stack:
        env = {"OFFLINE": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": stack.urls["otlp_grpc"]}
        with start_services(env, log_dir=Path(logs)) as services:
            tempo = Tempo(stack.urls["tempo"])
            prometheus = Prometheus(stack.urls["prometheus"])
            loki = Loki(stack.urls["loki"])
            results = [
                measure_one(services.urls["frontend"], tempo, prometheus, loki)
                for _ in range(arguments.requests)
            ]

    print(f"Seconds from an answer until its telemetry is queryable ({len(results)} requests)")
    print("(default settings: spans batched for up to 5 s, metrics exported every 5 s)\n")
    for name in results[0]:
        values = [r[name] for r in results]
        print(f"  {name:<24} median {statistics.median(values):5.1f}   max {max(values):5.1f}")


if __name__ == "__main__":
    main()
