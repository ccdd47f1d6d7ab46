"""Where does telemetry's CPU go? Profile the four services under load with py-spy.

    make profile        (or: python benchmarks/profile_services.py --seconds 20)

Runs the native platform and the four services (offline data), submits the form from
three threads (as `make benchmark` does), and meanwhile samples each service with
py-spy in --gil mode: only the thread that holds the GIL is sampled, so the samples are
CPU time spent in Python, not time spent waiting. (With --idle, every thread is sampled,
waiting or not: where the threads wait.) It does this with telemetry on and with
OTEL_SDK_DISABLED=true, and prints for each:

- the CPU time per request of every process, from /proc (services and backends);
- the share of the samples of each kind of thread (waitress' request threads, the
  batch processors', the metric reader's, gRPC's, the main thread's), by thread name;
- the functions of telemetry (OpenTelemetry, gRPC, protobuf, OpenFeature's tracing
  hook) that take the largest share of the samples, counting a function once per
  sample however deep it recurses.

Last, it splits what telemetry adds to the services' CPU per request: telemetry's own
code; the application's own code, which runs slower beside telemetry (the two share the
CPU's caches); and what is not Python (the kernel, gRPC's own threads).

Linux only (/proc, and py-spy needs to attach to the processes: run as root or allow
ptrace). It is a measurement, not a test.
"""

import argparse
import collections
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import requests

from benchmarks.submissions import PLACES, usage
from common.services import SERVICES
from harness.browser import free_ports
from native.run_services import start_services
from native.run_stack import running_stack

# OpenTelemetry's code, the exporters' (gRPC, protobuf), and OpenFeature's hook that
# adds the flag evaluation events (common/telemetry.py).
TELEMETRY_CODE = re.compile(
    r"site-packages/(opentelemetry|grpc|google/protobuf|openfeature/contrib/hook/opentelemetry)/"
)
FRAME = re.compile(r"(?P<function>.*) \((?P<path>.*):\d+\)")
WRAPPERS = ("_rewrapped_app", "_instrument.<locals>.instrumented_send")
# py-spy --threads puts the thread first: "thread (1234): waitress-3". The number after
# the name tells threads of one kind apart; they are counted together.
THREAD = re.compile(r"thread \(\d+\)(?:: (?P<name>.*?))?(?:[-_]\d+)?$")
RATE = 100  # py-spy's samples a second
ON, OFF = "telemetry on", "OTEL_SDK_DISABLED=true"


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used so far."""
    used = usage(pid)
    return used.user + used.system


def load(url: str, stop: threading.Event, counter: list[int]) -> None:
    session = requests.Session()
    while not stop.is_set():
        session.post(url, data={"location": PLACES[counter[0] % len(PLACES)]}, timeout=30)
        counter[0] += 1


def profile(env: dict, stack, seconds: int, out: Path, idle: bool) -> tuple[dict, int]:
    """Profile the services under load; return CPU ms per request by process, and how
    many requests were handled while sampling."""
    with start_services(env, free_ports(), out) as running:
        stop, counter = threading.Event(), [0]
        threads = [
            threading.Thread(target=load, args=(running.urls["frontend"], stop, counter))
            for _ in range(3)  # a fourth would get 503s: common/upstream.py
        ]
        for thread in threads:
            thread.start()
        time.sleep(3)  # past the first requests' one-off work
        pids = {name: p.pid for name, p in running.processes.items()}
        pids |= {name: p.popen.pid for name, p in stack.processes.items()}
        before, requests_before = {n: cpu_seconds(p) for n, p in pids.items()}, counter[0]
        spies = [
            subprocess.Popen(
                [
                    Path(sys.executable).parent / "py-spy",
                    "record",
                    "--idle" if idle else "--gil",
                    "--threads",
                    "--nonblocking",
                    "--full-filenames",
                    "--format",
                    "raw",
                    "--rate",
                    str(RATE),
                    "--duration",
                    str(seconds),
                    "--pid",
                    str(running.processes[name].pid),
                    "--output",
                    str(out / f"{name}.txt"),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )  # fmt: skip
            for name in running.processes
        ]
        for spy in spies:
            spy.wait()
        after, handled = {n: cpu_seconds(p) for n, p in pids.items()}, counter[0] - requests_before
        stop.set()
        for thread in threads:
            thread.join()
    return {name: 1000 * (after[name] - before[name]) / handled for name in pids}, handled


def thread_name(frame: str) -> str:
    """The kind of thread from py-spy's first frame: "waitress", "OtelBatchSpanRecordProcessor"."""
    match = THREAD.match(frame)
    return (match["name"] or "(unnamed)") if match else frame


def stacks(folder: Path) -> Iterator[tuple[str, int]]:
    """Each stack py-spy recorded ("thread;frame;frame"), and its samples. A line that
    is not one (py-spy's word that a process has gone away) is left out."""
    for profile_file in folder.glob("*.txt"):
        for line in profile_file.read_text().splitlines():
            stack, _, samples = line.rpartition(" ")
            if stack and samples.isdigit():
                yield stack, int(samples)


def threads(folder: Path) -> tuple[int, collections.Counter]:
    """All samples, and the samples of each kind of thread."""
    total, counts = 0, collections.Counter()
    for stack, samples in stacks(folder):
        total += samples
        counts[thread_name(stack.split(";", 1)[0])] += samples
    return total, counts


def telemetry_functions(folder: Path) -> tuple[int, collections.Counter, int]:
    """All samples, the samples in which each telemetry function was on the stack, and
    the samples with any of them on the stack."""
    total, counts, any_telemetry = 0, collections.Counter(), 0
    for stack, samples in stacks(folder):
        total += samples
        frames = [FRAME.match(frame) for frame in stack.split(";")[1:]]
        seen = {
            f"{m['function']}  ({m['path'].split('site-packages/')[1]})"
            for m in frames
            if m
            and TELEMETRY_CODE.search(m["path"])
            # The Flask and requests instrumentations wrap the whole request and the
            # whole outgoing call: their inclusive time is not their own cost.
            and not m["function"].startswith(WRAPPERS)
        }
        counts.update(dict.fromkeys(seen, samples))
        any_telemetry += samples if seen else 0
    return total, counts, any_telemetry


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20, help="how long to sample")
    parser.add_argument("--top", type=int, default=15, help="how many functions to list")
    parser.add_argument(
        "--idle", action="store_true", help="sample every thread, waiting or not (not --gil)"
    )
    arguments = parser.parse_args()

    figures: dict[str, Figures] = {}
    with tempfile.TemporaryDirectory() as scratch, running_stack() as stack:
        base = {"OFFLINE": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": stack.urls["otlp_grpc"]}
        for name, env in {
            ON: base,
            OFF: {**base, "OTEL_SDK_DISABLED": "true"},
        }.items():
            out = Path(scratch) / name.replace(" ", "-")
            out.mkdir()
            cpu, handled = profile(env, stack, arguments.seconds, out, arguments.idle)
            print(f"\n{name}: CPU ms per request, {sum(cpu.values()):.2f} in all")
            print("  " + ", ".join(f"{process} {ms:.2f}" for process, ms in cpu.items()))
            total, by_thread = threads(out)
            print(f"  threads, share of {total} samples:")
            shares = (f"{kind} {100 * n / total:.1f}%" for kind, n in by_thread.most_common())
            print("  " + ", ".join(shares))
            total, counts, any_telemetry = telemetry_functions(out)
            if not arguments.idle:  # each sample is 1/RATE s of a thread holding the GIL
                per_request = 1000 / RATE / handled
                figures[name] = Figures(
                    services_ms=sum(cpu[service.name] for service in SERVICES),
                    python_ms=total * per_request,
                    telemetry_ms=any_telemetry * per_request,
                )
                print(
                    f"  Python holding the GIL: {total * per_request:.2f} ms per request, "
                    f"telemetry code on the stack in {any_telemetry * per_request:.2f} ms of them"
                )
            if counts:
                print(f"  telemetry functions, share of {total} samples (inclusive):")
                for function, samples in counts.most_common(arguments.top):
                    print(f"  {100 * samples / total:5.1f}%  {function}")
    if figures:
        print("", *where_telemetrys_cpu_goes(figures[ON], figures[OFF]), sep="\n")


@dataclass
class Figures:
    """Per request, in ms of CPU: the four services', and Python's holding the GIL in
    them, all of it and in telemetry's own code (TELEMETRY_CODE)."""

    services_ms: float
    python_ms: float
    telemetry_ms: float


def where_telemetrys_cpu_goes(on: Figures, off: Figures) -> list[str]:
    """What telemetry adds to the services' CPU, in parts: its own code; the rest of the
    Python code, the application's, which runs slower beside it (they share the
    caches); and what is not Python (the kernel, gRPC's own threads)."""
    application_on = on.python_ms - on.telemetry_ms
    application_off = off.python_ms - off.telemetry_ms
    return [
        "Telemetry on, against off, per request: the services' CPU "
        f"{on.services_ms - off.services_ms:+.2f} ms",
        f"  Python holding the GIL: {on.python_ms - off.python_ms:+.2f} ms, of which",
        f"    telemetry's own code: {on.telemetry_ms - off.telemetry_ms:.2f} ms",
        f"    the application's own code, slower beside it: {application_off:.2f} -> "
        f"{application_on:.2f} ms, {application_on - application_off:+.2f} ms",
        f"  outside Python (the kernel, gRPC's own threads): "
        f"{(on.services_ms - on.python_ms) - (off.services_ms - off.python_ms):+.2f} ms",
    ]


if __name__ == "__main__":
    main()
