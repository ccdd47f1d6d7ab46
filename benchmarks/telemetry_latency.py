"""How long until a request's telemetry can be queried on the native platform?

    make stack-latency        (or: python benchmarks/telemetry_latency.py --requests 10)
    python benchmarks/telemetry_latency.py --checkpoint 11   # before tail sampling

Starts the native platform and the four services with the workshop's default export
settings, submits the form a few times, and measures for each request the time from
its answer until:

- its trace can be fetched by id from Jaeger;
- its trace is found by Jaeger's search (by service and span attribute);
- its metrics are queryable in Prometheus (incoming_requests_total counts it);
- its spans are counted in Prometheus (the collector's span metrics);
- its logs are queryable in VictoriaLogs (by trace_id).

It prints the median and the maximum of each, and the time the platform took to start.
It is a measurement, not a test. (Under Docker, Tempo and Loki take the place of Jaeger
and VictoriaLogs: see docs/troubleshooting.md, "No data yet", for their delays.)
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from harness.browser import submit, trace_id_of
from harness.polling import wait_for
from native.run_services import start_services
from native.run_stack import running_stack
from workshop.backends import Jaeger, Prometheus, VictoriaLogs
from workshop.checkpoints import ROOT, write_checkpoint

COUNTED = 'sum(incoming_requests_total{http_response_status_code="200"})'
SPANS_COUNTED = 'sum(traces_spanmetrics_calls_total{span_name="iss.position"})'


def total(prometheus: Prometheus, promql: str) -> float:
    result = prometheus.query(promql)
    return float(result[0]["value"][1]) if result else 0.0


def measure_one(frontend: str, jaeger: Jaeger, prometheus: Prometheus, logs: VictoriaLogs) -> dict:
    before = {promql: total(prometheus, promql) for promql in (COUNTED, SPANS_COUNTED)}
    trace_id = trace_id_of(submit(frontend))
    answered = time.monotonic()
    waits = {
        "Jaeger, trace by id": lambda: jaeger.trace(trace_id),
        "Jaeger, search": lambda: (
            trace_id in jaeger.search("iss-distance-service", {"iss.position.source": "sgp4"})
        ),
        "Prometheus, a counter": lambda: total(prometheus, COUNTED) > before[COUNTED],
        "Prometheus, span metrics": lambda: (
            total(prometheus, SPANS_COUNTED) > before[SPANS_COUNTED]
        ),
        "VictoriaLogs, by trace id": lambda: logs.query(
            f'{{service.name="iss-distance-service"}} trace_id:="{trace_id}"'
        ),
    }
    # Poll every backend in the same loop, so that each figure is its own.
    result = {}

    def every_one_arrived() -> bool:
        for name, condition in waits.items():
            if name not in result and condition():
                result[name] = time.monotonic() - answered
        return len(result) == len(waits)

    wait_for(every_one_arrived, timeout=120 - (time.monotonic() - answered), interval=0.05)
    return {name: result.get(name, float("nan")) for name in waits}


def main() -> None:
    parser = argparse.ArgumentParser(description="Measure telemetry latency.")
    parser.add_argument("--requests", type=int, default=10)
    parser.add_argument(
        "--checkpoint",
        type=int,
        help="run the platform's configs as they are at the start of this section "
        "(11: the collector before tail sampling); default: the finished solution",
    )
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory() as logs:
        root = ROOT
        if arguments.checkpoint is not None:
            root = write_checkpoint(arguments.checkpoint, Path(logs) / "checkpoint")
        results, ready = measure(arguments.requests, root, Path(logs))

    print(f"The native platform was ready {ready:.1f} s after it was started.\n")
    print(f"Seconds from an answer until its telemetry is queryable ({len(results)} requests)")
    where = f"the start of section {arguments.checkpoint}" if root != ROOT else "default"
    print(f"({where} settings; see common/sdk_defaults.py and otel-collector-config.yml)\n")
    for name in results[0]:
        values = [r[name] for r in results]
        print(f"  {name:<26} median {statistics.median(values):5.1f}   max {max(values):5.1f}")


def measure(requests: int, root: Path, logs: Path) -> tuple[list[dict], float]:
    """Each request's delays, and how long the platform took to start."""
    started = time.monotonic()
    with running_stack(root=root) as stack:
        ready = time.monotonic() - started
        env = {"OFFLINE": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": stack.urls["otlp_grpc"]}
        with start_services(env, log_dir=logs) as services:
            jaeger = Jaeger(stack.urls["jaeger"])
            prometheus = Prometheus(stack.urls["prometheus"])
            victoria_logs = VictoriaLogs(stack.urls["victoria_logs"])
            results = [
                measure_one(services.urls["frontend"], jaeger, prometheus, victoria_logs)
                for _ in range(requests)
            ]
    return results, ready


if __name__ == "__main__":
    main()
