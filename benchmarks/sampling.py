"""What head and tail sampling do to the traces stored and to the request-rate metrics.

    python benchmarks/sampling.py                 # 200 form submissions per setup
    python benchmarks/sampling.py --requests 400

Runs the native platform and the four services (offline) three times, and sends the
load generator's traffic each time (loadgen/generate_load.py: a few unknown places and
blank fields among the cities):

- no sampling: the collector as it is at the start of section 11;
- head sampling: the same, with OTEL_TRACES_SAMPLER=parentbased_traceidratio and
  OTEL_TRACES_SAMPLER_ARG=0.25 in the services' environment;
- tail sampling: the finished collector config (otel-collector-config.yml).

For each it prints the requests sent, the traces Jaeger holds, and the frontend's
requests as counted two ways: by the span metrics the collector derives from the
spans, and by the SDK's own http.server.request.duration histogram. It is a
measurement, not a test.
"""

import argparse
import tempfile
import time
from pathlib import Path

from loadgen.generate_load import generate_load
from native.run_services import start_services
from native.run_stack import running_stack
from workshop.backends import Jaeger, Prometheus
from workshop.checkpoints import ROOT, write_checkpoint

HEAD_SAMPLING = {
    "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
    "OTEL_TRACES_SAMPLER_ARG": "0.25",
}
FORM = 'service_name="frontend", span_kind="SPAN_KIND_SERVER", span_name="POST /"'
# The frontend's form submissions, counted from the spans the collector receives ...
FROM_SPANS = f"sum(traces_spanmetrics_calls_total{{{FORM}}})"
# ... and by the SDK's own histogram, recorded for every request, sampled or not.
FROM_SDK = (
    "sum(http_server_request_duration_seconds_count"
    '{service_name="frontend", http_request_method="POST"})'
)
SETTLE_SECONDS = 8  # tail sampling decides 2 s after a root span; exports take 1-5 s


def total(prometheus: Prometheus, promql: str) -> int:
    result = prometheus.query(promql)
    return round(float(result[0]["value"][1])) if result else 0


def run(requests: int, root: Path, env: dict, logs: Path) -> dict:
    """Send the load; return what each backend then holds."""
    with running_stack(root=root) as stack:
        env = {"OFFLINE": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": stack.urls["otlp_grpc"], **env}
        with start_services(env, log_dir=logs) as services:
            tally = generate_load(
                services.urls["frontend"], 20, 20, requests, report=lambda _: None
            )
            time.sleep(SETTLE_SECONDS)
            prometheus = Prometheus(stack.urls["prometheus"])
            jaeger = Jaeger(stack.urls["jaeger"])
            return {
                "sent": tally.sent,
                "traces": len(
                    jaeger.search("frontend", {"http.request.method": "POST"}, limit=1000)
                ),
                "span metrics": total(prometheus, FROM_SPANS),
                "SDK metric": total(prometheus, FROM_SDK),
            }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        before = write_checkpoint(11, Path(scratch) / "checkpoint")
        setups = {
            "no sampling": (before, {}),
            "head sampling, 25 %": (before, HEAD_SAMPLING),
            "tail sampling": (ROOT, {}),
        }
        results = {
            name: run(arguments.requests, root, env, Path(scratch))
            for name, (root, env) in setups.items()
        }
    print("Form submissions by the load generator, and what the platform holds afterwards\n")
    columns = list(next(iter(results.values())))
    print(f"  {'':<20}" + "".join(f"{c:>14}" for c in columns))
    for name, result in results.items():
        print(f"  {name:<20}" + "".join(f"{result[c]:>14}" for c in columns))


if __name__ == "__main__":
    main()
