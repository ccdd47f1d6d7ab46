"""Run the telemetry platform natively, without Docker: `make stack` calls this.

Starts the OpenTelemetry Collector, Prometheus (with its web UI), Jaeger v2 (traces),
VictoriaLogs (logs) and, where Java 17+ is installed, Zipkin (a trace waterfall in its
web UI) on 127.0.0.1. The collector and Prometheus run from the same config files as
in docker-compose.yml; Jaeger and VictoriaLogs stand in for Tempo and Loki, whose
source is under the AGPL. Binaries missing from the cache are built first
(native/build_backends.py). Ctrl-C stops them all, and none outlives this runner
however it ends (native/lifeline.py).

Each checkout has its data and logs of its own, emptied at every start:
${XDG_CACHE_HOME:-~/.cache}/otel-workshop/stack/<checkout>-<digest of its path>/.
One platform runs on a machine at a time (the ports are fixed): a second refuses to
start, before it touches anything.

    python native/run_stack.py
    ROOM=1 python native/run_stack.py   # room mode: the collector's OTLP ports on every
                                        # interface, for a room of learners; the rest
                                        # stays on 127.0.0.1
    ROOM=1 ROOM_VIEWS=1 python native/run_stack.py   # and a read-only view of the UIs
                                        # and query APIs for the room (read_only_front.py)

The end-to-end tests start the platform through running_stack().
"""

import contextlib
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from native import build_backends, lifeline, read_only_front
from native.run_services import stop as stop_processes

ROOT = Path(__file__).resolve().parent.parent

# The collector config's ${env:VAR:-default} defaults are the Docker Compose
# addresses. Natively every process shares one host, so these move them to loopback.
NATIVE_ENV = {
    "LISTEN_HOST": "127.0.0.1",
    "METRICS_OTLP_URL": "http://127.0.0.1:9090/api/v1/otlp",
    "TRACES_OTLP_ENDPOINT": "127.0.0.1:4417",  # Jaeger's OTLP gRPC (see platform/jaeger/jaeger.yml)
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
    "zipkin": [9411],  # the traces' web UI (and Zipkin's API, where the collector sends)
}

# What the platform offers, for the applications, the learner and the tests.
URLS = {
    "otlp_grpc": "http://127.0.0.1:4317",
    "otlp_http": "http://127.0.0.1:4318",
    "prometheus": "http://127.0.0.1:9090",
    "jaeger": "http://127.0.0.1:16686",
    "victoria_logs": "http://127.0.0.1:9428",
    "zipkin": "http://127.0.0.1:9411",
}

# The Prometheus flags of docker-compose.yml, less the two paths that differ natively.
PROMETHEUS_FLAGS = [
    "--web.enable-otlp-receiver",  # the collector pushes metrics over OTLP
    "--enable-feature=exemplar-storage",  # keep trace ids attached to samples
]

# What `make stack` prints once the platform is ready.
WHERE_TO_LOOK = {
    URLS["otlp_grpc"]: "OTLP in (gRPC): where the services send",
    URLS["prometheus"] + "/query": "Prometheus: PromQL, as a graph or a table",
    URLS["prometheus"] + "/alerts": "Prometheus: the alerting rules, and which fire",
    URLS["zipkin"] + "/zipkin/": "Zipkin: the traces, as a waterfall",
    URLS["victoria_logs"] + "/select/vmui/": "VictoriaLogs: the logs, in its web UI",
    URLS["jaeger"] + "/api/traces/<trace id>": "Jaeger: a trace by id, as JSON (make check)",
}

# Natively, where Zipkin runs, the collector also reads this file: it sends the traces
# to Zipkin too. The feature gate appends its lists to the main config's lists.
ZIPKIN_COLLECTOR_CONFIG = ROOT / "platform" / "otel-collector-zipkin.yml"
APPEND_LISTS = "--feature-gates=confmap.enableMergeAppendOption"

# Zipkin's server: in memory, on 127.0.0.1. Its heap is capped, and so is what it
# keeps: 90,000 spans, about Jaeger's 10,000 traces of nine spans each.
ZIPKIN_FLAGS = [
    "--armeria.ports[0].ip=127.0.0.1",
    "--armeria.ports[0].port=9411",
    "--zipkin.storage.mem.max-spans=90000",
]
ZIPKIN_JAVA_OPTIONS = ["-Xmx256m"]


@dataclass
class Process:
    name: str
    command: list[str]
    ready_url: str | None  # an HTTP endpoint that answers 200 when ready ...
    ready_port: int | None = None  # ... or else a port that accepts connections
    popen: subprocess.Popen | None = None
    log: Path | None = None


def java_for_zipkin() -> tuple[str | None, str]:
    """The java that can run Zipkin (17 or later), or None and why not."""
    java = shutil.which("java")
    if java is None:
        return None, "Java is not installed"
    version = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    found = re.search(r'version "(\d+)(?:\.(\d+))?', version)
    major = int(found[1]) if found else 0
    major = int(found[2]) if major == 1 else major  # 1.8 is Java 8
    if major < 17:
        return None, f"Zipkin needs Java 17 or later, and {java} is Java {major or '?'}"
    return java, ""


def collector_command(otelcol: str, root: Path, zipkin: bool) -> list[str]:
    """The collector, with its config from `root`, and natively Zipkin's addition."""
    command = [otelcol, f"--config={root / 'platform/otel-collector-config.yml'}"]
    if zipkin:
        command += [f"--config={ZIPKIN_COLLECTOR_CONFIG}", APPEND_LISTS]
    return command


def processes(data: Path, root: Path = ROOT, java: str | None = None) -> list[Process]:
    """The processes, each with its flags, its data directory, and its config from
    `root` (a workshop checkpoint may hold an earlier collector config). Zipkin runs
    only with a `java` to run it."""
    backends = build_backends.backends() | (build_backends.jars() if java else {})
    binary = {name: str(build_backends.build(backend)) for name, backend in backends.items()}
    started = [
        Process(
            "prometheus",
            [
                binary["prometheus"],
                f"--config.file={root / 'platform/prometheus.yml'}",
                f"--storage.tsdb.path={data / 'prometheus'}",
                "--web.listen-address=127.0.0.1:9090",
                *PROMETHEUS_FLAGS,
            ],
            "http://127.0.0.1:9090/-/ready",
        ),
        Process(
            "jaeger",
            [binary["jaeger"], f"--config={root / 'platform' / 'jaeger' / 'jaeger.yml'}"],
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
    ]
    if java:
        zipkin = [java, *ZIPKIN_JAVA_OPTIONS, "-jar", binary["zipkin"], *ZIPKIN_FLAGS]
        started.append(Process("zipkin", zipkin, "http://127.0.0.1:9411/health"))
    # The collector last, once there is somewhere to send to.
    started.append(
        Process(
            "otelcol",
            collector_command(binary["otelcol"], root, zipkin=bool(java)),
            None,
            ready_port=4317,  # the collector has no health endpoint without an extension
        )
    )
    return started


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
    # Should we end without stopping them (SIGKILL), they die with us (lifeline).
    with open(process.log, "a") as log:
        process.popen = lifeline.popen(
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
    java: str | None  # the java that runs Zipkin; None: no Zipkin

    def stop(self, name: str) -> None:
        stop_processes([self.processes[name].popen])

    def start(self, name: str, timeout: float = 120) -> None:
        process = self.processes[name]
        launch(process, self.env, self.data_dir)
        wait_until_ready([process], timeout)

    def restart(self, name: str, root: Path = ROOT) -> None:
        """Restart one part with its config from `root`, a workshop checkpoint say."""
        self.stop(name)
        [again] = [p for p in processes(self.data_dir, root, self.java) if p.name == name]
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
    Zipkin runs where java_for_zipkin() finds a java to run it.
    """
    refuse_a_second_platform()
    java, _ = java_for_zipkin()
    with contextlib.ExitStack() as cleanup:
        if data_dir is None:
            data_dir = Path(
                cleanup.enter_context(tempfile.TemporaryDirectory(prefix="otel-stack-"))
            )
        env = {**os.environ, **NATIVE_ENV, **(ROOM_ENV if room else {})}
        started: list[Process] = []
        # The collector stops first, so that it can flush what it holds to the backends.
        cleanup.callback(lambda: [stop_processes([p.popen]) for p in reversed(started)])
        for process in processes(data_dir, root, java):
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
        yield Stack(urls, {p.name: p for p in started}, env, data_dir, java)


def refuse_a_second_platform() -> None:
    busy = [port for ports in PORTS.values() for port in ports if port_in_use(port)]
    if busy:
        raise RuntimeError(
            f"ports already in use on 127.0.0.1: {busy}. Is a platform running already, "
            "from this checkout or another? Stop it first (Ctrl-C where `make stack` runs)."
        )


def checkout_data_dir(root: Path = ROOT) -> Path:
    """This checkout's own place for the platform's data and logs, named after it."""
    digest = hashlib.sha256(str(root).encode()).hexdigest()[:8]
    return build_backends.cache_root() / "stack" / f"{root.name}-{digest}"


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
        # Before anything is emptied: another platform's data is not ours to delete.
        refuse_a_second_platform()
    except (ValueError, RuntimeError) as error:
        raise SystemExit(str(error)) from None
    java, why_not = java_for_zipkin()
    if java is None:
        print(
            f"{why_not}: the platform runs without Zipkin, so without a trace waterfall. "
            "The traces still reach Jaeger, whose API shows each one as JSON, and every "
            "self-check works. Install Java 17 or later for the waterfall.",
            file=sys.stderr,
        )
    # This checkout's place, so the logs are easy to find; emptied at every start.
    data_dir = checkout_data_dir()
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    started = time.monotonic()
    try:
        with running_stack(data_dir=data_dir, room=room, views=views) as stack:
            print(f"platform ready in {time.monotonic() - started:.0f} s (logs in {data_dir}):")
            where = {u: w for u, w in WHERE_TO_LOOK.items() if java or "zipkin" not in u}
            width = max(map(len, where))
            for url, what in where.items():
                print(f"  {url:<{width}}  {what}")
            if room:
                print_room_instructions(stack.urls.get("room_view"))
            print("Ctrl-C to stop.")
            while True:  # time.sleep wakes for Ctrl-C on Windows too (signal.pause is POSIX)
                time.sleep(3600)
    except KeyboardInterrupt:
        print("stopped")


if __name__ == "__main__":
    main()
