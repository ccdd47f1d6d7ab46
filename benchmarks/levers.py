"""The levers tried against telemetry's cost under load, each against the same round's
run without telemetry and with telemetry as the workshop sets it up.

    python -m benchmarks.levers                     # every lever, 3 rounds: ~10 minutes
    python -m benchmarks.levers --levers http switch-interval --rounds 5

Each lever is an environment variable for the services: a standard OTEL_* one, the
workshop's WORKSHOP_TUNING (common/tuning.py), or one of benchmarks/patched's COST_*
patches for what the workshop does not adopt (see that module). It prints telemetry's
CPU per submission for each, median and spread over the rounds; what `make benchmark`
reports as before and after is the outcome. The native platform must not be running
elsewhere (run it under `flock /tmp/otel-platform.lock`).
"""

import argparse

from benchmarks.form_submission import OFF, round_orders, spread, summarise
from benchmarks.submissions import Run, measure, patchable_root
from common.tuning import TUNING_VARIABLE
from native.run_stack import running_stack

BASELINE = "workshop, untuned"
LEVERS = {
    # One gRPC channel for the three exporters, rather than one each.
    "shared-channel": {"COST_SHARED_CHANNEL": "1"},
    # OTLP/HTTP (protobuf, through requests) rather than gRPC: no gRPC threads at all.
    "http": {"COST_OTLP_HTTP": "1"},
    # Fewer export-thread wake-ups: the SDK's defaults rather than the workshop's.
    "export-delays": {
        "OTEL_BSP_SCHEDULE_DELAY": "5000",
        "OTEL_BLRP_SCHEDULE_DELAY": "1000",
        "OTEL_METRIC_EXPORT_INTERVAL": "60000",
    },
    # Fewer forced GIL hand-offs between threads (Python's default is 5 ms).
    "switch-interval": {"COST_SWITCH_INTERVAL": "0.02"},
    # gc.freeze() after start-up (common/tuning.py; on unless WORKSHOP_TUNING=off).
    "gc-freeze": {TUNING_VARIABLE: "on"},
    # Two waitress request threads rather than four: fewer threads wanting the GIL.
    "waitress-2-threads": {"COST_WAITRESS_THREADS": "2"},
    # hash(Resource) once, not a json.dumps per span at each export (upstream patch).
    "cached-resource-hash": {"COST_CACHED_RESOURCE_HASH": "1"},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levers", nargs="+", choices=list(LEVERS), default=list(LEVERS))
    parser.add_argument("--requests", type=int, default=300, help="submissions per run")
    parser.add_argument("--concurrency", type=int, default=3, help="clients at once")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each")
    arguments = parser.parse_args()

    untuned = {TUNING_VARIABLE: "off"}  # each lever alone, on top of the untuned workshop
    scenarios = {
        OFF: {"OTEL_SDK_DISABLED": "true"},
        BASELINE: untuned,
        **{name: {**untuned, **LEVERS[name]} for name in arguments.levers},
    }
    runs: dict[str, list[Run]] = {name: [] for name in scenarios}
    with running_stack() as stack, patchable_root() as root:
        base = {"OFFLINE": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": stack.urls["otlp_grpc"]}
        for number, order in enumerate(round_orders(list(scenarios), arguments.rounds), 1):
            for name in order:
                env = {**base, **scenarios[name]}
                if "COST_OTLP_HTTP" in env:
                    env["OTEL_EXPORTER_OTLP_ENDPOINT"] = stack.urls["otlp_http"]
                run = measure(env, arguments.requests, arguments.concurrency, root)
                runs[name].append(run)
                print(
                    f"round {number}  {name:<22}{run.cpu_ms:>7.2f} ms/sub  "
                    f"{run.system_ms:5.2f} in the kernel  {run.switches:6.1f} switches/sub  "
                    f"{run.rps:6.1f} req/s",
                    flush=True,
                )
    print(f"\nTelemetry's CPU ms per submission, median (lowest-highest) of {arguments.rounds}:")
    for name, summary in summarise(runs).items():
        print(f"  {name:<22}{spread(summary.cpu_ms):>22}   throughput {spread(summary.throughput)}")


if __name__ == "__main__":
    main()
