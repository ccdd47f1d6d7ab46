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
- the functions of OpenTelemetry (and gRPC, protobuf) that take the largest share of
  the samples, counting a function once per sample however deep it recurses.

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
from pathlib import Path

import requests

from benchmarks.submissions import PLACES, usage
from harness.browser import free_ports
from native.run_services import start_services
from native.run_stack import running_stack

TELEMETRY_CODE = re.compile(r"site-packages/(opentelemetry|grpc|google/protobuf)/")
FRAME = re.compile(r"(?P<function>.*) \((?P<path>.*):\d+\)")
WRAPPERS = ("_rewrapped_app", "_instrument.<locals>.instrumented_send")
# py-spy --threads puts the thread first: "thread (1234): waitress-3". The number after
# the name tells threads of one kind apart; they are counted together.
THREAD = re.compile(r"thread \(\d+\)(?:: (?P<name>.*?))?(?:[-_]\d+)?$")
RATE = 100  # py-spy's samples a second


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


def threads(folder: Path) -> tuple[int, collections.Counter]:
    """All samples, and the samples of each kind of thread."""
    total, counts = 0, collections.Counter()
    for profile_file in folder.glob("*.txt"):
        for line in profile_file.read_text().splitlines():
            stack, _, samples = line.rpartition(" ")
            total += int(samples)
            counts[thread_name(stack.split(";", 1)[0])] += int(samples)
    return total, counts


def telemetry_functions(folder: Path) -> tuple[int, collections.Counter, int]:
    """All samples, the samples in which each telemetry function was on the stack, and
    the samples with any of them on the stack."""
    total, counts, any_telemetry = 0, collections.Counter(), 0
    for profile_file in folder.glob("*.txt"):
        for line in profile_file.read_text().splitlines():
            stack, _, samples = line.rpartition(" ")
            total += int(samples)
            frames = [FRAME.match(frame) for frame in stack.split(";")[1:]]
            seen = {
                f"{m['function']}  ({m['path'].split('site-packages/')[1]})"
                for m in frames
                if m
                and TELEMETRY_CODE.search(m["path"])
                # The Flask and requests instrumentations wrap the whole request and
                # the whole outgoing call: their inclusive time is not their own cost.
                and not m["function"].startswith(WRAPPERS)
            }
            counts.update(dict.fromkeys(seen, int(samples)))
            any_telemetry += int(samples) if seen else 0
    return total, counts, any_telemetry


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20, help="how long to sample")
    parser.add_argument("--top", type=int, default=15, help="how many functions to list")
    parser.add_argument(
        "--idle", action="store_true", help="sample every thread, waiting or not (not --gil)"
    )
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch, running_stack() as stack:
        base = {"OFFLINE": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": stack.urls["otlp_grpc"]}
        for name, env in {
            "telemetry on": base,
            "OTEL_SDK_DISABLED=true": {**base, "OTEL_SDK_DISABLED": "true"},
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
                print(
                    f"  Python holding the GIL: {total * per_request:.2f} ms per request, "
                    f"telemetry code on the stack in {any_telemetry * per_request:.2f} ms of them"
                )
            if counts:
                print(f"  telemetry functions, share of {total} samples (inclusive):")
                for function, samples in counts.most_common(arguments.top):
                    print(f"  {100 * samples / total:5.1f}%  {function}")


if __name__ == "__main__":
    main()
