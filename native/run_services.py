"""Run the four services natively, without Docker: `make run` calls this.

Each service runs in its own process under waitress, the same production WSGI server
as in the containers. Their output is shown with the service's name in front, and
Ctrl-C stops them all.

    python native/run_services.py            # frontend on http://127.0.0.1:8080
    FRONTEND_PORT=9000 python native/run_services.py

The end-to-end tests and the benchmark start the services through start_services().
"""

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Service:
    name: str
    directory: str  # relative to the repository root
    package: str  # the Python package with create_app()
    port: int
    # Which other services it calls: environment variable -> service name.
    calls: dict[str, str] = field(default_factory=dict)


SERVICES = [
    Service("geolocator-service", "backend/geolocator-service", "geolocator", 8082),
    Service("iss-distance-service", "backend/iss-distance-service", "iss_distance", 8083),
    Service(
        "gateway",
        "backend/gateway",
        "gateway",
        8081,
        calls={"GEOLOCATOR_URL": "geolocator-service", "ISS_DISTANCE_URL": "iss-distance-service"},
    ),
    Service("frontend", "frontend", "webapp", 8080, calls={"GATEWAY_URL": "gateway"}),
]


def default_ports() -> dict[str, int]:
    ports = {service.name: service.port for service in SERVICES}
    ports["frontend"] = int(os.environ.get("FRONTEND_PORT", ports["frontend"]))
    return ports


@dataclass
class Running:
    urls: dict[str, str]
    processes: dict[str, subprocess.Popen]


@contextlib.contextmanager
def start_services(
    env: dict[str, str] | None = None,
    ports: dict[str, int] | None = None,
    log_dir: Path | None = None,
    ready_timeout: float = 60,
    root: Path = ROOT,
) -> Iterator[Running]:
    """Start the four services, wait until each is healthy, stop them all afterwards.

    `env` is added to this process's environment. Output goes to `log_dir/<name>.log`
    when given, else to this terminal with the service's name in front. `root` is the
    tree to run the code from: this repository, or a workshop checkpoint of it.
    """
    ports = ports or default_ports()
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    base_env = {
        **os.environ,
        "OTEL_EXPORTER_OTLP_ENDPOINT": os.environ.get(
            "OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317"
        ),
        "PYTHONPATH": str(root),  # for the shared `common` package
        "PYTHONUNBUFFERED": "1",
        **(env or {}),
    }
    processes: dict[str, subprocess.Popen] = {}
    try:
        for service in SERVICES:
            service_env = base_env | {var: urls[name] for var, name in service.calls.items()}
            port = ports[service.name]
            processes[service.name] = _launch(service, root, port, service_env, log_dir)
        for service in SERVICES:
            _wait_until_healthy(service.name, urls[service.name], processes, ready_timeout)
        yield Running(urls, processes)
    finally:
        stop(processes.values())


def _launch(
    service: Service, root: Path, port: int, env: dict, log_dir: Path | None
) -> subprocess.Popen:
    command = [
        sys.executable, "-m", "waitress",
        f"--listen=127.0.0.1:{port}",
        "--call", f"{service.package}:create_app",
    ]  # fmt: skip
    output = open(log_dir / f"{service.name}.log", "wb") if log_dir else subprocess.PIPE  # noqa: SIM115
    process = subprocess.Popen(
        command,
        cwd=root / service.directory,
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    if output is subprocess.PIPE:
        threading.Thread(target=_prefix_lines, args=(service.name, process), daemon=True).start()
    return process


def _prefix_lines(name: str, process: subprocess.Popen) -> None:
    for line in process.stdout:
        sys.stdout.write(f"[{name:>20}] {line.decode(errors='replace')}")
        sys.stdout.flush()


def _wait_until_healthy(name: str, url: str, processes: dict, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if processes[name].poll() is not None:
            raise RuntimeError(f"{name} exited with code {processes[name].returncode}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{url}/healthz", timeout=1).ok:
                return
        time.sleep(0.2)
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


def main() -> None:
    # Treat SIGTERM like Ctrl-C, so that the services are stopped either way.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        with start_services() as running:
            print(f"\nThe application is at {running.urls['frontend']} (Ctrl-C stops it)")
            print(
                f"Telemetry goes to {os.environ.get('OTEL_EXPORTER_OTLP_ENDPOINT', 'http://127.0.0.1:4317')}\n"
            )
            while all(p.poll() is None for p in running.processes.values()):
                time.sleep(0.5)
            print("A service stopped; stopping the others.", file=sys.stderr)
            sys.exit(1)
    except KeyboardInterrupt:
        print("\nStopping the services.")


if __name__ == "__main__":
    main()
