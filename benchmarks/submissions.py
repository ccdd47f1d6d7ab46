"""Form submissions through the four services, started as real processes: the load and
the measurements that benchmarks/form_submission.py and benchmarks/levers.py share.

The CPU time is the four service processes' own (user + system, from /proc), over the
timed submissions only, so the load generator's share and the start-up are left out.
"""

import contextlib
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import requests

from native.run_services import ROOT, start_services, stop

PLACES = ["Paris", "Tokyo", "Nairobi", "Lima", "Oslo", "Sydney", "Toronto", "Delhi"]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# Levers the workshop does not adopt, applied in the services by a sitecustomize module.
PATCHES = Path(__file__).resolve().parent / "patched"


@dataclass
class Usage:
    """What a process has used so far (Linux, from /proc)."""

    user: float  # CPU seconds in the process's own code
    system: float  # CPU seconds in the kernel on its behalf
    switches: int  # context switches of its threads: waits, and preemptions

    def __sub__(self, other: "Usage") -> "Usage":
        return Usage(
            self.user - other.user, self.system - other.system, self.switches - other.switches
        )

    def __add__(self, other: "Usage") -> "Usage":
        return Usage(
            self.user + other.user, self.system + other.system, self.switches + other.switches
        )


def usage(pid: int) -> Usage:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    switches = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            status = (task / "status").read_text()
        except FileNotFoundError:  # a thread that has just ended
            continue
        switches += sum(
            int(line.split()[1]) for line in status.splitlines() if "ctxt_switches" in line
        )
    return Usage(int(fields[11]) / CLOCK_TICKS, int(fields[12]) / CLOCK_TICKS, switches)


def total_usage(pids: list[int]) -> Usage:
    return sum((usage(pid) for pid in pids), Usage(0, 0, 0))


@dataclass
class Run:
    rps: float
    p50: float  # ms
    p99: float  # ms
    cpu_ms: float  # the four services' CPU per submission
    system_ms: float  # the part of it spent in the kernel
    switches: float  # the four services' context switches per submission
    stop: float  # seconds to stop (they flush their telemetry)


@contextlib.contextmanager
def patchable_root() -> Iterator[Path]:
    """This repository, seen through a folder that also holds benchmarks/patched's
    sitecustomize.py: the services run from it with it on their PYTHONPATH, so that the
    COST_* variables of that module take effect. Without them, it changes nothing."""
    with tempfile.TemporaryDirectory(prefix="cost-root-") as folder:
        root = Path(folder)
        for entry in ROOT.iterdir():
            (root / entry.name).symlink_to(entry)
        (root / "sitecustomize.py").symlink_to(PATCHES / "sitecustomize.py")
        yield root


def measure(env: dict, total: int, concurrency: int, root: Path = ROOT) -> Run:
    """Submit the form `total` times from `concurrency` threads (after a warm-up)."""
    with (
        tempfile.TemporaryDirectory() as logs,
        start_services(env, log_dir=Path(logs), root=root) as running,
    ):
        url = running.urls["frontend"]
        pids = [process.pid for process in running.processes.values()]
        session = requests.Session()  # keep-alive, as a browser does

        def submit(i: int) -> float:
            started = time.perf_counter()
            response = session.post(url, data={"location": PLACES[i % len(PLACES)]}, timeout=30)
            response.raise_for_status()  # a failed request fails the benchmark
            return time.perf_counter() - started

        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(submit, range(concurrency * 10)))  # warm up
            before = total_usage(pids)
            started = time.perf_counter()
            latencies = sorted(pool.map(submit, range(total)))
            elapsed = time.perf_counter() - started
            used = total_usage(pids) - before

        # Stopping flushes what is buffered; Docker kills what takes longer than 10 s.
        stopping = time.perf_counter()
        stop(running.processes.values())
        stop_seconds = time.perf_counter() - stopping

    return Run(
        rps=total / elapsed,
        p50=statistics.median(latencies) * 1000,
        p99=latencies[int(len(latencies) * 0.99) - 1] * 1000,
        cpu_ms=1000 * (used.user + used.system) / total,
        system_ms=1000 * used.system / total,
        switches=used.switches / total,
        stop=stop_seconds,
    )
