"""Run the four services natively, without Docker: `make run` calls this.

Each service runs in its own process under waitress, the same production WSGI server
with the same limits as in the containers (common/server.py). Their output is shown
with the service's name in front, and Ctrl-C stops them all.

    python native/run_services.py            # frontend on http://127.0.0.1:8080
    FRONTEND_PORT=9000 python native/run_services.py
    LEARNER=ada python native/run_services.py   # room mode: see workshop/learners.py
    ROOM_URL=http://192.168.1.10:8000 LEARNER=ada python native/run_services.py
                                     # to the room's platform: workshop/room_address.py
    python native/run_services.py --zero-code   # see below; `make zero-code`

With --zero-code, it runs the application as it is before the workshop adds any
OpenTelemetry code (checkpoint 0), under `opentelemetry-instrument`: zero-code
instrumentation, to compare with what the workshop does by hand. The checkpoint is
made from the last commit, whatever the working tree holds, and written to
${XDG_CACHE_HOME:-~/.cache}/otel-workshop/zero-code first. The SDK is set up
from ZERO_CODE_SETTINGS below, or, with OTEL_CONFIG_FILE=zero-code/otel-config.yaml,
from that file (experimental).

The end-to-end tests and the benchmark start the services through start_services().
"""

import argparse
import contextlib
import io
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import requests

from common import settings
from common.sdk_defaults import EXPORT_DELAYS_MS
from common.services import HEALTH_PATH, SERVICES, Service
from harness.polling import wait_for
from native import lifeline
from workshop import learners, look_at, room_address
from workshop.checkpoints import checkpoint_of, committed_snippets, committed_solution

ROOT = Path(__file__).resolve().parent.parent

# What `opentelemetry-instrument` is told, besides each service's OTEL_SERVICE_NAME. The
# environment and start_services(env=...) override these, as they do the code's defaults.
ZERO_CODE_SETTINGS = {
    # The distro's defaults, spelled out: all three signals over OTLP (gRPC).
    "OTEL_TRACES_EXPORTER": "otlp",
    "OTEL_METRICS_EXPORTER": "otlp",
    "OTEL_LOGS_EXPORTER": "otlp",
    # As by hand: the stable HTTP conventions (http.server.request.duration, in seconds),
    # exports within a second, and no traces of the health checks.
    "OTEL_SEMCONV_STABILITY_OPT_IN": "http",
    **EXPORT_DELAYS_MS,
    "OTEL_PYTHON_FLASK_EXCLUDED_URLS": HEALTH_PATH,
    # The logging instrumentation sends log records over OTLP in any case; this also
    # shows INFO records on the console, with their trace and span ids.
    "OTEL_PYTHON_LOG_CORRELATION": "true",
}


def default_ports() -> dict[str, int]:
    """The service table's ports, or those of FRONTEND_PORT and the like."""
    return {service.name: settings.port(service.name) for service in SERVICES}


@dataclass
class Running:
    urls: dict[str, str]
    processes: dict[str, subprocess.Popen]


def native_trace_ui() -> tuple[str, str]:
    """Where `make stack` shows traces: Zipkin's waterfall where Java runs it, else
    Jaeger's API (see workshop/look_at.py)."""
    from native.run_stack import java_for_zipkin  # here: run_stack imports this module

    java, _why_not = java_for_zipkin()
    return look_at.trace_ui(java=java is not None)


@contextlib.contextmanager
def start_services(
    env: dict[str, str] | None = None,
    ports: dict[str, int] | None = None,
    log_dir: Path | None = None,
    ready_timeout: float = 60,
    root: Path = ROOT,
    zero_code: bool = False,
) -> Iterator[Running]:
    """Start the four services, wait until each is healthy, stop them all afterwards.

    `env` is added to this process's environment; a LEARNER there becomes the Resource's
    service.namespace (room mode), and a bad one raises LearnerNameError; a ROOM_URL
    there sets where they send and link their traces (RoomURLError if bad). Output goes to
    `log_dir/<name>.log` when given, else to this terminal with the service's name in
    front. `root` is the tree to run the code from: this repository, or a workshop
    checkpoint of it. `zero_code` runs each service under `opentelemetry-instrument`:
    give it a `root` without OpenTelemetry code of its own, such as checkpoint 0.
    """
    ports = ports or default_ports()
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    base_env = room_address.with_room({**os.environ, **(env or {})})
    base_env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": settings.DEFAULT_OTLP_ENDPOINT,
        **base_env,
        # The code of `root`, which may be a checkpoint: before this installed tree's.
        "PYTHONPATH": str(root),
        "PYTHONUNBUFFERED": "1",
    }
    base_env = learners.with_namespace(base_env)
    if not base_env.get("TRACE_UI_URL"):  # the page's trace link: this machine's trace UI
        url, name = native_trace_ui()
        base_env |= {"TRACE_UI_URL": url, "TRACE_UI_NAME": name}
    if base_env.get("OTEL_CONFIG_FILE"):
        # A configuration file for the SDK (see zero-code/otel-config.yaml), named from
        # where the command runs: each service runs in a directory of its own.
        base_env["OTEL_CONFIG_FILE"] = str(Path(base_env["OTEL_CONFIG_FILE"]).resolve())
    processes: dict[str, subprocess.Popen] = {}
    try:
        for service in SERVICES:
            service_env = base_env | {var: urls[name] for var, name in service.calls.items()}
            if zero_code:
                defaults = ZERO_CODE_SETTINGS | {"OTEL_SERVICE_NAME": service.name}
                service_env = defaults | service_env
            port = ports[service.name]
            processes[service.name] = _launch(service, root, port, service_env, log_dir, zero_code)
        for service in SERVICES:
            _wait_until_healthy(service.name, urls[service.name], processes, ready_timeout)
        yield Running(urls, processes)
    finally:
        stop(processes.values())


def _launch(
    service: Service, root: Path, port: int, env: dict, log_dir: Path | None, zero_code: bool
) -> subprocess.Popen:
    # The port goes as the service's own variable, as compose gives it in a container.
    env = env | {service.port_variable: str(port)}
    command = [sys.executable, "-m", "common.server", service.name]
    if zero_code:
        # `opentelemetry-instrument python -m common.server ...` sets up the SDK and instruments
        # Flask, requests and logging before the service's own code runs.
        command = [_opentelemetry_instrument(), *command]
    output = open(log_dir / f"{service.name}.log", "wb") if log_dir else subprocess.PIPE  # noqa: SIM115
    # A service dies with its runner, however the runner ends (native/lifeline.py):
    # SIGTERM and Ctrl-C stop it cleanly through stop(); SIGKILL leaves no orphan either.
    process = lifeline.popen(
        command,
        cwd=root / service.directory,
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    if output is subprocess.PIPE:
        threading.Thread(target=_prefix_lines, args=(service.name, process), daemon=True).start()
    return process


def _opentelemetry_instrument() -> str:
    """The virtualenv's `opentelemetry-instrument` (from opentelemetry-distro)."""
    found = shutil.which("opentelemetry-instrument", path=Path(sys.executable).parent)
    if found is None:
        raise RuntimeError(
            f"opentelemetry-instrument is not installed beside {sys.executable}: pip install -e ."
        )
    return found


def _prefix_lines(name: str, process: subprocess.Popen) -> None:
    for line in process.stdout:
        sys.stdout.write(f"[{name:>20}] {line.decode(errors='replace')}")
        sys.stdout.flush()


def _wait_until_healthy(name: str, url: str, processes: dict, timeout: float) -> None:
    def healthy() -> bool:
        if processes[name].poll() is not None:
            raise RuntimeError(f"{name} exited with code {processes[name].returncode}")
        return requests.get(f"{url}{HEALTH_PATH}", timeout=1).ok

    if not wait_for(healthy, timeout, interval=0.2):
        raise TimeoutError(f"{name} was not healthy at {url} within {timeout} s")


def stop(processes, timeout: float = 15) -> None:
    """SIGTERM first, so that each service flushes its telemetry; kill what lingers."""
    processes = [p for p in processes if p.poll() is None]
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def write_zero_code_tree() -> Path:
    """Write checkpoint 0, the application without OpenTelemetry code, to the cache.

    It is made from the last commit, whatever the working tree holds: after `make
    checkout`, or with your own code typed in, the working tree already has OpenTelemetry
    code, and it would run beside opentelemetry-instrument's, twice over.
    """
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    destination = cache / "otel-workshop" / "zero-code"
    shutil.rmtree(destination, ignore_errors=True)  # no files left over from an older tree
    destination.mkdir(parents=True)
    # Every file of the last commit...
    archive = subprocess.run(
        ["git", "archive", "--format=tar", "HEAD"], cwd=ROOT, capture_output=True, check=True
    )
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(destination, filter="data")
    # ...with the code that the workshop's snippets edit as it is at checkpoint 0.
    snippets = committed_snippets()
    for path, text in checkpoint_of(committed_solution(snippets), 0, snippets).items():
        (destination / path).write_bytes(text.encode())
    return destination


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the four services natively.")
    parser.add_argument(
        "--zero-code",
        action="store_true",
        help="run the application without its OpenTelemetry code (checkpoint 0) "
        "under opentelemetry-instrument",
    )
    zero_code = parser.parse_args().zero_code
    try:
        learner = learners.learner()
        default_ports()  # a port variable that cannot be read, said before anything starts
        room = room_address.with_room(os.environ)
    except (learners.LearnerNameError, settings.SettingError, room_address.RoomURLError) as error:
        sys.exit(str(error))  # before anything starts, with no traceback
    root = ROOT
    if zero_code:
        root = write_zero_code_tree()
        print("Zero-code: the code of checkpoint 0, the application before the workshop adds")
        print("any OpenTelemetry code, made from the last commit (not your working tree),")
        print(f"in {root}, runs under opentelemetry-instrument.\n")

    # Treat SIGTERM like Ctrl-C, so that the services are stopped either way.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        with start_services(root=root, zero_code=zero_code) as running:
            print(f"\nThe application is at {running.urls['frontend']} (Ctrl-C stops it)")
            endpoint = room.get("OTEL_EXPORTER_OTLP_ENDPOINT") or settings.otlp_endpoint()
            whose = f", as learner {learner} ({learners.ATTRIBUTE})" if learner else ""
            print(f"Telemetry goes to {endpoint}{whose}\n")
            if not learner and urlsplit(endpoint).hostname not in ("127.0.0.1", "localhost", "::1"):
                print("Another machine's platform, and no LEARNER: your telemetry will not")
                print("show as yours. In a room, start again with LEARNER=<your name>.\n")
            while all(p.poll() is None for p in running.processes.values()):
                time.sleep(0.5)
            print("A service stopped; stopping the others.", file=sys.stderr)
            sys.exit(1)
    except KeyboardInterrupt:
        print("\nStopping the services.")


if __name__ == "__main__":
    main()
