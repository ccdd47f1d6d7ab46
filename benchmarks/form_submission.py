"""Form submissions through all four services: throughput and latency, three ways.

    make benchmark              (or: python benchmarks/form_submission.py --requests 500)

The native platform runs throughout (make stack's collector, Prometheus, Jaeger and
VictoriaLogs), as on a learner's laptop. Each scenario starts the four services as real
processes (waitress, offline data) and submits the form from several threads at once:

- telemetry on: exporting traces, metrics and logs over OTLP/gRPC to the real collector;
- OTEL_SDK_DISABLED=true: no telemetry at all;
- collector unreachable: exporting to a port where nothing listens.

It prints requests per second, the median and 99th percentile latency, how long the
services take to stop (they flush their telemetry on the way out), and the ratios the
workshop aims for: throughput with telemetry / without >= 0.90, p50 with telemetry /
without <= 1.15, p50 with the collector unreachable / reachable <= 1.10. It is a
measurement, not a test: the figures depend on the machine.
"""

import argparse
import socket
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from native.run_services import start_services, stop
from native.run_stack import running_stack

PLACES = ["Paris", "Tokyo", "Nairobi", "Lima", "Oslo", "Sydney", "Toronto", "Delhi"]


def closed_port_endpoint() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def measure(env: dict, total: int, concurrency: int) -> dict:
    with tempfile.TemporaryDirectory() as logs, start_services(env, log_dir=Path(logs)) as running:
        url = running.urls["frontend"]

        session = requests.Session()  # keep-alive, as a browser does

        def submit(i: int) -> float:
            started = time.perf_counter()
            response = session.post(url, data={"location": PLACES[i % len(PLACES)]}, timeout=30)
            response.raise_for_status()  # a failed request fails the benchmark
            return time.perf_counter() - started

        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(submit, range(concurrency * 5)))  # warm up
            started = time.perf_counter()
            latencies = sorted(pool.map(submit, range(total)))
            elapsed = time.perf_counter() - started

        # Stopping flushes what is buffered; Docker kills what takes longer than 10 s.
        stopping = time.perf_counter()
        stop(running.processes.values())
        stop_seconds = time.perf_counter() - stopping

    return {
        "stop": stop_seconds,
        "rps": total / elapsed,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark form submissions.")
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=4)
    arguments = parser.parse_args()

    results = {}
    with running_stack() as stack:
        base = {"OFFLINE": "true"}
        scenarios = {
            "telemetry on": {**base, "OTEL_EXPORTER_OTLP_ENDPOINT": stack.urls["otlp_grpc"]},
            "OTEL_SDK_DISABLED=true": {**base, "OTEL_SDK_DISABLED": "true"},
            "collector unreachable": {
                **base,
                "OTEL_EXPORTER_OTLP_ENDPOINT": closed_port_endpoint(),
            },
        }
        print(f"{arguments.requests} form submissions, {arguments.concurrency} at a time\n")
        print(f"{'scenario':<26}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'stop s':>8}")
        for name, env in scenarios.items():
            result = results[name] = measure(env, arguments.requests, arguments.concurrency)
            print(
                f"{name:<26}{result['rps']:>8.1f}{result['p50']:>9.1f}"
                f"{result['p99']:>9.1f}{result['stop']:>8.1f}"
            )
    on, off = results["telemetry on"], results["OTEL_SDK_DISABLED=true"]
    down = results["collector unreachable"]
    print()
    print(f"throughput, telemetry on / off:     {on['rps'] / off['rps']:5.2f}  (goal >= 0.90)")
    print(f"p50, telemetry on / off:            {on['p50'] / off['p50']:5.2f}  (goal <= 1.15)")
    print(f"p50, collector unreachable / up:    {down['p50'] / on['p50']:5.2f}  (goal <= 1.10)")


if __name__ == "__main__":
    main()
