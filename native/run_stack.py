"""Run the telemetry platform natively, without Docker: `make stack` calls this.

Starts the OpenTelemetry Collector, Prometheus, Jaeger v2 (traces) and VictoriaLogs
(logs) on 127.0.0.1. The collector and Prometheus run from the same config files as
in docker-compose.yml; Jaeger and VictoriaLogs stand in for Tempo and Loki, whose
source is under the AGPL. Binaries missing from the cache are built first
(native/build_backends.py). Ctrl-C stops them all.

    python native/run_stack.py
    ROOM=1 python native/run_stack.py   # room mode: the collector's OTLP ports on every
                                        # interface, for a room of learners; the rest
                                        # stays on 127.0.0.1
    ROOM=1 ROOM_VIEWS=1 python native/run_stack.py   # and a read-only view of the UIs
                                        # and query APIs for the room (read_only_front.py)

The end-to-end tests start the platform through running_stack().
"""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

try:  # imported as native.run_stack (pytest)
    from native import build_backends, read_only_front
    from native.run_services import stop as stop_processes
except ImportError:  # run as a script: python native/run_stack.py
    import build_backends
    import read_only_front
    from run_services import stop as stop_processes

ROOT = Path(__file__).resolve().parent.parent

# The collector config's ${env:VAR:-default} defaults are the Docker Compose
# addresses. Natively every process shares one host, so these move them to loopback.
NATIVE_ENV = {
    "LISTEN_HOST": "127.0.0.1",
    "METRICS_OTLP_URL": "http://127.0.0.1:9090/api/v1/otlp",
    "TRACES_OTLP_ENDPOINT": "127.0.0.1:4417",  # Jaeger's OTLP gRPC (see jaeger/jaeger.yml)
    "LOGS_OTLP_URL": "http://127.0.0.1:9428/insert/opentelemetry",  # VictoriaLogs
}

# Room mode: a whole room of learners sends to this machine. Only the collector's two
# OTLP ports (the receivers' LISTEN_HOST) open to the network; Prometheus, Jaeger and
# VictoriaLogs stay on 127.0.0.1, since anyone who reaches them could read or write.
ROOM_ENV = {"LISTEN_HOST": "0.0.0.0"}
ROOM_PORTS = {"otlp_grpc": 4317, "otlp_http": 4318}

# Every port the processes listen on, all on 127.0.0.1 (but for room mode's OTLP ports).
PORTS = {
    "otelcol": [4317, 4318, 8888],  # OTLP gRPC, OTLP HTTP, the collector's own metrics
    "prometheus": [9090],
    "jaeger": [16686, 16685, 4417, 13133, 14269],  # query HTTP, gRPC, OTLP, health, metrics
    "victoria-logs": [9428],  # ingestion, LogsQL queries and the web UI
}

# What the platform offers, for the applications, the learner and the tests.
URLS = {
    "otlp_grpc": "http://127.0.0.1:4317",
    "otlp_http": "http://127.0.0.1:4318",
    "prometheus": "http://127.0.0.1:9090",
    "jaeger": "http://127.0.0.1:16686",
    "victoria_logs": "http://127.0.0.1:9428",
}

# The Prometheus flags of docker-compose.yml, less the two paths that differ natively.
PROMETHEUS_FLAGS = [
    "--web.enable-otlp-receiver",  # the collector pushes metrics over OTLP
    "--web.enable-remote-write-receiver",  # Tempo's metrics generator (Docker only)
    "--enable-feature=exemplar-storage",  # keep trace ids attached to samples
]

# What `make stack` prints once the platform is ready.
WHERE_TO_LOOK = {
    URLS["otlp_grpc"]: "OTLP in (gRPC): where the services send",
    URLS["prometheus"] + "/api/v1/query": "Prometheus: PromQL (API only, no web UI)",
    URLS["jaeger"] + "/api/traces/<trace id>": "Jaeger: a trace by id (API; no real UI)",
    URLS["victoria_logs"] + "/select/vmui/": "VictoriaLogs: the logs, in its web UI",
}


@dataclass
class Process:
    name: str
    command: list[str]
    ready_url: str | None  # an HTTP endpoint that answers 200 when ready ...
    ready_port: int | None = None  # ... or else a port that accepts connections
    popen: subprocess.Popen | None = None
    log: Path | None = None


def processes(data: Path, root: Path = ROOT) -> list[Process]:
    """The four processes, each with its flags, its data directory, and its config
    from `root` (a workshop checkpoint may hold an earlier collector config)."""
    backends = build_backends.backends()
    binary = {name: str(build_backends.build(backends[name])) for name in PORTS}
    return [
        Process(
            "prometheus",
            [
                binary["prometheus"],
                f"--config.file={root / 'prometheus.yml'}",
                f"--storage.tsdb.path={data / 'prometheus'}",
                "--web.listen-address=127.0.0.1:9090",
                *PROMETHEUS_FLAGS,
            ],
            "http://127.0.0.1:9090/-/ready",
        ),
        Process(
            "jaeger",
            [binary["jaeger"], f"--config={root / 'jaeger' / 'jaeger.yml'}"],
            "http://127.0.0.1:13133/status",
        ),
        Process(
            "victoria-logs",
            [
                binary["victoria-logs"],
                "-httpListenAddr=127.0.0.1:9428",
                f"-storageDataPath={data / 'victoria-logs'}",
                "-retentionPeriod=1d",  # a workshop's logs; the default keeps 7 days
                "-loggerLevel=WARN",
            ],
            "http://127.0.0.1:9428/health",
        ),
        Process(
            "otelcol",
            [binary["otelcol"], f"--config={root / 'otel-collector-config.yml'}"],
            None,
            ready_port=4317,  # the collector has no health endpoint without an extension
        ),
    ]


def is_ready(process: Process) -> bool:
    if process.ready_url:
        try:
            with urllib.request.urlopen(process.ready_url, timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False
    try:
        socket.create_connection(("127.0.0.1", process.ready_port), timeout=1).close()
        return True
    except OSError:
        return False


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def last_lines(process: Process, count: int = 20) -> str:
    lines = process.log.read_text().splitlines()[-count:]
    return f"--- last lines of {process.log}:\n" + "\n".join(lines)


def wait_until_ready(started: list[Process], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    waiting = list(started)
    while waiting:
        for process in waiting:
            if process.popen.poll() is not None:
                raise RuntimeError(f"{process.name} exited early\n{last_lines(process)}")
        waiting = [p for p in waiting if not is_ready(p)]
        if waiting and time.monotonic() > deadline:
            logs = "\n".join(last_lines(p) for p in waiting)
            raise TimeoutError(f"not ready after {timeout:.0f} s\n{logs}")
        time.sleep(0.5)


def launch(process: Process, env: dict, cwd: Path) -> None:
    # A session of its own: Ctrl-C reaches only us, and we stop the children in order.
    with open(process.log, "a") as log:
        process.popen = subprocess.Popen(
            process.command,
            cwd=cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


@dataclass
class Stack:
    """The running platform: its URLs, and a way to stop and restart one part."""

    urls: dict[str, str]
    processes: dict[str, Process]
    env: dict[str, str]
    data_dir: Path

    def stop(self, name: str) -> None:
        stop_processes([self.processes[name].popen])

    def start(self, name: str, timeout: float = 120) -> None:
        process = self.processes[name]
        launch(process, self.env, self.data_dir)
        wait_until_ready([process], timeout)

    def restart(self, name: str, root: Path = ROOT) -> None:
        """Restart one part with its config from `root`, a workshop checkpoint say."""
        self.stop(name)
        [again] = [p for p in processes(self.data_dir, root) if p.name == name]
        self.processes[name].command = again.command
        self.start(name)


@contextlib.contextmanager
def running_stack(
    timeout: float = 120,
    data_dir: Path | None = None,
    root: Path = ROOT,
    room: bool = False,
    views: bool = False,
) -> Iterator[Stack]:
    """Start the platform, wait until every part is ready, yield it, then stop it.

    Data and logs go to data_dir, or to a temporary directory removed afterwards. The
    configs are read from `root`: the repository, or a workshop checkpoint of it.
    With `room`, the collector receives OTLP on every interface (see ROOM_ENV); with
    `views` too, the room's read-only front serves the UIs and queries (urls["room_view"]).
    """
    busy = [port for ports in PORTS.values() for port in ports if port_in_use(port)]
    if busy:
        raise RuntimeError(f"ports already in use on 127.0.0.1: {busy} (is a stack running?)")
    with contextlib.ExitStack() as cleanup:
        if data_dir is None:
            data_dir = Path(
                cleanup.enter_context(tempfile.TemporaryDirectory(prefix="otel-stack-"))
            )
        env = {**os.environ, **NATIVE_ENV, **(ROOM_ENV if room else {})}
        started: list[Process] = []
        # The collector stops first, so that it can flush what it holds to the backends.
        cleanup.callback(lambda: [stop_processes([p.popen]) for p in reversed(started)])
        for process in processes(data_dir, root):
            process.log = data_dir / f"{process.name}.log"
            launch(process, env, data_dir)
            started.append(process)
        wait_until_ready(started, timeout)
        urls = dict(URLS)
        if room and views:
            address = network_address()
            front = read_only_front.start(address, {p.name for p in started})
            cleanup.callback(front.server_close)
            cleanup.callback(front.shutdown)
            urls["room_view"] = f"http://{address}:{read_only_front.PORT}"
        yield Stack(urls, {p.name: p for p in started}, env, data_dir)


def room_mode(environ=os.environ, variable: str = "ROOM") -> bool:
    """Whether ROOM (or ROOM_VIEWS) asks for it: 1, true or yes; unset, empty, 0, false or
    no do not."""
    value = environ.get(variable, "").strip().lower()
    if value in ("1", "true", "yes"):
        return True
    if value in ("", "0", "false", "no"):
        return False
    raise ValueError(f"{variable}={value[:20]!r}: use {variable}=1, or leave {variable} unset")


def room_views(environ=os.environ) -> bool:
    """Whether ROOM_VIEWS=1 asks for the room's read-only view; only in room mode."""
    views = room_mode(environ, "ROOM_VIEWS")
    if views and not room_mode(environ):
        raise ValueError("ROOM_VIEWS=1 is for room mode: ROOM=1 ROOM_VIEWS=1 make stack")
    return views


def network_address() -> str:
    """This machine's address on its network, as the learners' machines would reach it.

    Connecting a UDP socket sends nothing; it only picks the interface of the route out.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # a documentation address: never a real host
            return probe.getsockname()[0]
        except OSError:  # no network: the learners cannot reach this machine either
            return "<this machine's address>"


def print_room_instructions(room_view: str | None) -> None:
    address = network_address()
    print(
        f"Room mode: the collector receives OTLP from the room's network on {address}, "
        f"ports {ROOM_PORTS['otlp_grpc']} (gRPC) and {ROOM_PORTS['otlp_http']} (HTTP)."
    )
    if room_view:
        print(
            f"The room's read-only view is at {room_view}: everyone's workshop telemetry, "
            "in the UIs and query APIs, and nothing that writes (start again without "
            "ROOM_VIEWS=1 to stop sharing it). Give this address out; each learner runs:\n"
            f"  ROOM_URL={room_view} LEARNER=<their name> make run\n"
            f"  ROOM_URL={room_view} LEARNER=<their name> make check SECTION=<n>"
        )
    else:
        print(
            "Everything else stays on 127.0.0.1 (ROOM_VIEWS=1 shares a read-only view). "
            "Each learner runs:\n"
            f"  OTEL_EXPORTER_OTLP_ENDPOINT=http://{address}:{ROOM_PORTS['otlp_grpc']} "
            "LEARNER=<their name> make run"
        )
    print("`make room` shows each learner's progress.")


def main() -> None:
    # Ctrl-C (SIGINT) and SIGTERM both unwind through running_stack(), which
    # stops the processes. Set explicitly: a shell starting us in the
    # background would otherwise leave SIGINT ignored.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.default_int_handler)
    try:
        room, views = room_mode(), room_views()
    except ValueError as error:
        raise SystemExit(str(error)) from None
    # A fixed place, so the logs are easy to find; emptied at every start.
    data_dir = build_backends.cache_root() / "stack"
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    started = time.monotonic()
    try:
        with running_stack(data_dir=data_dir, room=room, views=views) as stack:
            print(f"platform ready in {time.monotonic() - started:.0f} s (logs in {data_dir}):")
            width = max(map(len, WHERE_TO_LOOK))
            for url, what in WHERE_TO_LOOK.items():
                print(f"  {url:<{width}}  {what}")
            if room:
                print_room_instructions(stack.urls.get("room_view"))
            print("Ctrl-C to stop.")
            signal.pause()
    except KeyboardInterrupt:
        print("stopped")


if __name__ == "__main__":
    main()
