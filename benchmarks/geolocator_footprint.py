"""The geolocator's footprint: how soon it is ready, how much memory it holds, how fast
its offline gazetteer answers.

    python benchmarks/geolocator_footprint.py                  # this tree
    python benchmarks/geolocator_footprint.py --root ../old    # another checkout, for "before"

Each run starts the geolocator as `make run` does (`python -m common.server`, waitress)
on a free port, offline and with telemetry off, and times it from the start until its
/healthz answers. It then looks a few places up over HTTP and reads the process's
resident memory (VmRSS) from /proc. Three runs start with an empty cache directory
(XDG_CACHE_HOME), as on a learner's first `make run`; three more reuse it. Last, a
separate process times the gazetteer's lookups without HTTP. The workshop aims for
ready <= 2 s and RSS <= 80 MB. It is a measurement, not a test; it needs Linux (/proc).
"""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from common.services import HEALTH_PATH, service
from harness.polling import wait_for

HERE = Path(__file__).resolve().parent.parent
GEOLOCATOR = service("geolocator-service")
PLACES = ["Paris", "sao paulo", "München", "paris, us", "London, Canada", "Japan", "Tokyo"]
RUNS = 3

# Run in a process of its own, from the service's directory: microseconds per lookup.
TIME_LOOKUPS = f"""
import timeit
import geolocator
gazetteer = geolocator.load_gazetteer()
places = {PLACES!r}
rounds = 2000
seconds = timeit.timeit(lambda: [gazetteer.lookup(place) for place in places], number=rounds)
print(seconds / (rounds * len(places)) * 1e6)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def resident_megabytes(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024  # the line is "VmRSS:   123456 kB"
    raise RuntimeError(f"no VmRSS for process {pid}")


def service_env(root: Path, cache: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(root),  # for the shared `common` package, as make run sets it
        "OTEL_SDK_DISABLED": "true",
        "OFFLINE": "true",
        "XDG_CACHE_HOME": cache,
    }


def start_and_measure(root: Path, cache: str) -> tuple[float, float, float]:
    """Seconds until ready, RSS in MB after a few lookups, and the median lookup in ms."""
    port = free_port()
    command = [sys.executable, "-m", "common.server", GEOLOCATOR.name]
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=root / GEOLOCATOR.directory,
        env=service_env(root, cache) | {GEOLOCATOR.port_variable: str(port)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"

        def healthy() -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"the geolocator exited with code {process.returncode}")
            return requests.get(f"{url}{HEALTH_PATH}", timeout=1).ok

        if not wait_for(healthy, timeout=60, interval=0.01):
            raise TimeoutError("the geolocator was not healthy within 60 s")
        ready = time.perf_counter() - started

        session = requests.Session()
        latencies = []
        for place in PLACES * 3:
            asked = time.perf_counter()
            session.get(url, params={"location": place}, timeout=5).raise_for_status()
            latencies.append(time.perf_counter() - asked)
        return ready, resident_megabytes(process.pid), statistics.median(latencies) * 1000
    finally:
        process.terminate()
        process.wait(10)


def lookup_microseconds(root: Path, cache: str) -> float:
    output = subprocess.run(
        [sys.executable, "-c", TIME_LOOKUPS],
        cwd=root / GEOLOCATOR.directory,
        env=service_env(root, cache),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(output)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=HERE, help="the tree to measure")
    root = parser.parse_args().root.resolve()

    print(f"{'cache':<6} {'ready (s)':>10} {'RSS (MB)':>10} {'HTTP p50 (ms)':>14}")
    with tempfile.TemporaryDirectory() as warm_cache:
        for cache_state in ["cold", "warm"]:
            for _ in range(RUNS):
                with tempfile.TemporaryDirectory() as cold_cache:
                    cache = cold_cache if cache_state == "cold" else warm_cache
                    ready, rss, p50 = start_and_measure(root, cache)
                print(f"{cache_state:<6} {ready:>10.2f} {rss:>10.1f} {p50:>14.2f}")
            if cache_state == "cold":
                start_and_measure(root, warm_cache)  # fills the warm cache, not counted
        microseconds = lookup_microseconds(root, warm_cache)
    print(f"gazetteer lookup, without HTTP: {microseconds:.1f} µs each")
    print("aims: ready <= 2 s, RSS <= 80 MB")


if __name__ == "__main__":
    main()
