"""How much memory the platform and the services take: what a learner's laptop needs.

    make footprint      (or: python benchmarks/footprint.py --runs 1 --seconds 30)

Each run starts the native platform as `make stack` does (the collector, Prometheus,
Jaeger, VictoriaLogs) and the four services as `make run` does (OFFLINE=true, telemetry
on), and reads every process's resident memory (VmRSS in /proc, a process together
with its children) four times a second:

- first start: the services start with an empty cache, so that the geolocator builds
  its gazetteer index, as on a learner's first `make run`; they are then restarted
  with the index in place, as at every later start, for the rest of the run;
- idle: once start-up has settled, with nothing to do;
- under load: the load generator (loadgen/generate_load.py, as `make load RATE=...`)
  for --seconds at each rate in turn: 1 a second (`make load`), 5 (what the docs
  suggest offline) and 20 (more than a room of learners clicking). The load
  generator's own memory is counted too: Docker runs it as a container.

For each phase it prints the steady figure (the median of the phase's second half)
and the peak (the highest sample), and the peak of each process's whole life (VmHWM).
Totals are summed sample by sample, so they are not sums of peaks taken at different
moments. Last comes the spread over the runs. The platform keeps what it receives, so
its memory grows from phase to phase, as in a workshop.

Linux only (/proc). It is a measurement, not a test: figures depend on the machine.
"""

import argparse
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from common.services import SERVICES
from native.run_services import start_services, stop
from native.run_stack import PORTS, running_stack

ROOT = Path(__file__).resolve().parent.parent
LOAD_GENERATOR = "load generator"
PLATFORM = list(PORTS)  # otelcol, prometheus, jaeger, victoria-logs, zipkin
APPLICATION = [service.name for service in SERVICES]
SAMPLES_PER_SECOND = 4


def status_kib(pid: int, field: str) -> int:
    """A field of /proc/<pid>/status in KiB (VmRSS: now, VmHWM: the peak so far); 0 if gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])  # "VmRSS:   123456 kB"
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def descendants(pid: int) -> list[int]:
    """The process and its children, grandchildren and so on, from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # "pid (name) state ppid ...": the name may hold spaces, so split after ")".
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(stat.parent.name))
    family, unseen = [], [pid]
    while unseen:
        family.append(unseen.pop())
        unseen.extend(children.get(family[-1], []))
    return family


def mib(pid: int) -> float:
    """Resident memory now, in MiB."""
    return sum(status_kib(member, "VmRSS") for member in descendants(pid)) / 1024


def peak_mib(pid: int) -> float:
    """The most resident memory so far, in MiB. The kernel updates VmHWM lazily, so it
    may be a little below the current VmRSS: the larger of the two."""
    members = descendants(pid)
    return sum(max(status_kib(m, "VmHWM"), status_kib(m, "VmRSS")) for m in members) / 1024


class Recorder:
    """Samples the memory of the watched processes in a background thread."""

    def __init__(self) -> None:
        self.pids: dict[str, int] = {}
        self.samples: list[tuple[float, dict[str, float]]] = []  # (monotonic time, MiB by name)
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> "Recorder":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stopped.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stopped.wait(1 / SAMPLES_PER_SECOND):
            pids = dict(self.pids)
            self.samples.append((time.monotonic(), {name: mib(pid) for name, pid in pids.items()}))

    def phase(self, seconds: float) -> dict[str, tuple[float, float]]:
        """Wait `seconds`; (steady, peak) MiB of each process and total over that time."""
        start = time.monotonic()
        time.sleep(seconds)
        samples = [sample for at, sample in self.samples if at >= start]
        second_half = samples[len(samples) // 2 :]
        figures = {}
        for name in self.pids:
            figures[name] = (
                statistics.median(s.get(name, 0) for s in second_half),
                max(s.get(name, 0) for s in samples),
            )
        for total, names in totals(list(self.pids)).items():
            per_sample = [sum(s.get(name, 0) for name in names) for s in samples]
            figures[total] = (
                statistics.median(per_sample[len(per_sample) // 2 :]),
                max(per_sample),
            )
        return figures


def totals(names: list[str]) -> dict[str, list[str]]:
    return {
        "total: platform": [name for name in names if name in PLATFORM],
        "total: services": [name for name in names if name in APPLICATION],
        "total: everything": names,
    }


def first_start(env: dict, settle: float) -> dict[str, tuple[float, float]]:
    """The services' first start, with an empty cache: (RSS once settled, peak) in MiB."""
    with tempfile.TemporaryDirectory() as logs, start_services(env, log_dir=Path(logs)) as running:
        time.sleep(settle)
        figures = {
            name: (mib(process.pid), peak_mib(process.pid))
            for name, process in running.processes.items()
        }
        stop(running.processes.values())  # before the log directory goes
    return figures


def under_load(recorder: Recorder, url: str, rate: float, seconds: float) -> tuple[dict, float]:
    """Run the load generator at `rate`; the figures, and the rate it really achieved."""
    generator = subprocess.Popen(
        [sys.executable, str(ROOT / "loadgen" / "generate_load.py"), f"--rate={rate:g}",
         f"--url={url}"],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    recorder.pids[LOAD_GENERATOR] = generator.pid
    try:
        figures = recorder.phase(seconds)
    finally:
        del recorder.pids[LOAD_GENERATOR]
        generator.send_signal(signal.SIGINT)  # it prints a summary of the whole run
        output, _ = generator.communicate(timeout=30)
    # The last line: "whole run, 60 s: sent 59, ok 53, ..."
    summary = re.search(r"whole run, (\d+) s: sent (\d+)", output)
    achieved = int(summary[2]) / max(int(summary[1]), 1) if summary else float("nan")
    return figures, achieved


def one_run(arguments) -> dict:
    """One run's figures: {phase: {process or total: (steady, peak)}}."""
    results: dict = {}
    with tempfile.TemporaryDirectory() as scratch, running_stack() as stack:
        env = {
            "OFFLINE": "true",
            "OTEL_EXPORTER_OTLP_ENDPOINT": stack.urls["otlp_grpc"],
            "XDG_CACHE_HOME": scratch,  # empty: the geolocator's first start builds its index
        }
        results["first start"] = first_start(env, arguments.settle)
        logs = Path(scratch) / "logs"
        logs.mkdir()
        with start_services(env, log_dir=logs) as running, Recorder() as recorder:
            recorder.pids |= {name: p.popen.pid for name, p in stack.processes.items()}
            recorder.pids |= {name: p.pid for name, p in running.processes.items()}
            time.sleep(arguments.settle)
            results["idle"] = recorder.phase(arguments.idle)
            for rate in arguments.rates:
                figures, achieved = under_load(
                    recorder, running.urls["frontend"], rate, arguments.seconds
                )
                results[f"{rate:g}/s"] = figures
                results.setdefault("achieved", {})[f"{rate:g}/s"] = achieved
            pids = recorder.pids.items()
            results["lifetime peak"] = {name: peak_mib(pid) for name, pid in pids}
    return results


ROWS = [*PLATFORM, *APPLICATION, LOAD_GENERATOR, "total: platform", "total: services",
        "total: everything"]  # fmt: skip


def table(runs: list[dict], cell) -> list[str]:
    """Rows of figures, steady and peak for each phase, each cell made by `cell`."""
    phases = [phase for phase in runs[0] if phase not in ("first start", "achieved")]
    phases.remove("lifetime peak")
    lines = [
        f"{'MiB':<22}" + "".join(f"{phase:<18}" for phase in phases) + "whole life",
        f"{'':<22}" + f"{'steady':>8}{'peak':>8}  " * len(phases) + f"{'peak':>8}",
    ]
    for row in ROWS:
        line = f"{row:<22}"
        for phase in phases:
            for column in (0, 1):
                line += f"{cell([run[phase][row][column] for run in runs if row in run[phase]]):>8}"
            line += "  "
        lifetime = [run["lifetime peak"][row] for run in runs if row in run["lifetime peak"]]
        lines.append(line + f"{cell(lifetime):>8}")
    return lines


def spread(values: list[float]) -> str:
    if not values:
        return "-"
    low, high = min(values), max(values)
    return f"{low:.0f}" if round(low) == round(high) else f"{low:.0f}-{high:.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=60, help="of load at each rate")
    parser.add_argument("--rates", type=float, nargs="+", default=[1, 5, 20])
    parser.add_argument("--idle", type=float, default=30, help="seconds measured idle")
    parser.add_argument("--settle", type=float, default=10, help="seconds after start-up")
    arguments = parser.parse_args()

    runs = []
    for number in range(1, arguments.runs + 1):
        run = one_run(arguments)
        runs.append(run)
        done = ", ".join(f"{rate} asked, {real:.1f} done" for rate, real in run["achieved"].items())
        print(f"\nrun {number} of {arguments.runs} (load per second: {done})")
        print("\n".join(table([run], spread)))
        first = run["first start"]["geolocator-service"]
        print(f"geolocator, first start (its index): {first[0]:.0f} MiB, peak {first[1]:.0f}")

    print(f"\nover {arguments.runs} runs, lowest-highest")
    print("\n".join(table(runs, spread)))
    print("services' first start, empty cache: RSS once settled, and peak (lowest-highest)")
    for name in APPLICATION:
        settled = [run["first start"][name][0] for run in runs]
        peak = [run["first start"][name][1] for run in runs]
        print(f"  {name:<22}{spread(settled):>10}{spread(peak):>12}")


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)  # each run's table as soon as it is done
    main()
