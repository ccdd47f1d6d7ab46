"""No backend outlives `make stack`, no service outlives `make run`, and one platform
runs at a time.

native/run_stack.py runs here as a learner runs it, in a process of its own, and is
then stopped by each signal that can end it: Ctrl-C (SIGINT), SIGTERM, and SIGKILL,
which it cannot catch (native/lifeline.py). Linux only: the processes are found
through /proc.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from common.services import SERVICES
from harness.browser import free_ports
from harness.runner import start
from native import lifeline
from native.run_stack import PORTS, ROOT, checkout_data_dir, port_in_use
from tests.test_lifeline import PARENT

if not sys.platform.startswith("linux"):
    pytest.skip("finds processes through /proc", allow_module_level=True)

RUN_STACK = [sys.executable, str(ROOT / "native" / "run_stack.py")]
RUN_SERVICES = [sys.executable, str(ROOT / "native" / "run_services.py")]


def children(pid: int) -> set[int]:
    """Every process below pid (children, their children, ...)."""
    found = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        for child in map(int, (task / "children").read_text().split()):
            found |= {child} | children(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):  # gone before, or while, it was read
        return False
    return state != "Z"  # a zombie has ended, only its exit status is left


def gone_within(pids: set[int], seconds: float) -> set[int]:
    """The pids still alive after `seconds`, or as soon as none is."""
    deadline = time.monotonic() + seconds
    while (living := {pid for pid in pids if alive(pid)}) and time.monotonic() < deadline:
        time.sleep(0.2)
    return living


def start_stack(env: dict | None = None) -> tuple[subprocess.Popen, str]:
    """run_stack.py, once it says the platform is ready; and what it printed."""
    return start(RUN_STACK, "Ctrl-C to stop", env)


@pytest.mark.parametrize(
    "signum", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT], ids=["KILL", "TERM", "INT"]
)
@pytest.mark.platform  # the native platform, started as make stack starts it
def test_no_backend_outlives_the_runner(signum):
    runner, printed = start_stack()
    try:
        backends = children(runner.pid)
        assert len(backends) >= len(PORTS) - 1, printed  # Zipkin only with Java
    finally:
        runner.send_signal(signum)
    runner.wait(30)

    assert gone_within(backends, 10) == set()
    # A process's last threads may still be closing its sockets: allow them a moment.
    deadline = time.monotonic() + 5
    while (busy := [p for ports in PORTS.values() for p in ports if port_in_use(p)]) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.2)
    assert busy == []


@pytest.mark.parametrize(
    "signum", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT], ids=["KILL", "TERM", "INT"]
)
@pytest.mark.platform  # the four services, started as make run starts them
def test_no_service_outlives_make_run(signum):
    ports = free_ports()
    ports = {service.port_variable: str(ports[service.name]) for service in SERVICES}
    env = os.environ | ports | {"OFFLINE": "true", "OTEL_SDK_DISABLED": "true"}
    runner, printed = start(RUN_SERVICES, "The application is at", env)
    try:
        services = children(runner.pid)
        assert len(services) == len(SERVICES), printed
    finally:
        runner.send_signal(signum)
    runner.wait(30)

    assert gone_within(services, 10) == set()


@pytest.mark.platform  # the native platform, started as make stack starts it
def test_a_second_platform_refuses_to_start_and_leaves_the_first_ones_data():
    runner, _ = start_stack()
    try:
        logs = set(checkout_data_dir().iterdir())
        second = subprocess.run(RUN_STACK, capture_output=True, text=True, timeout=60)

        assert second.returncode != 0
        assert "Is a platform running already" in second.stderr
        assert set(checkout_data_dir().iterdir()) == logs
        assert runner.poll() is None
    finally:
        runner.send_signal(signal.SIGINT)
        runner.wait(30)


def test_each_checkout_has_a_data_directory_of_its_own(tmp_path):
    one, other = tmp_path / "a" / "otel-workshop", tmp_path / "b" / "otel-workshop"

    assert checkout_data_dir(one) != checkout_data_dir(other)
    assert checkout_data_dir(one).parent == checkout_data_dir(ROOT).parent
    assert checkout_data_dir(ROOT) == checkout_data_dir(ROOT)


@pytest.mark.platform  # the native platform, started as make stack starts it
def test_without_java_the_platform_runs_without_zipkin_and_says_so():
    # A PATH with no java on it: only this virtualenv's programs.
    env = {**os.environ, "PATH": str(Path(sys.executable).parent)}
    runner, printed = start_stack(env)
    try:
        assert "Java is not installed: the platform runs without Zipkin" in printed
        assert "9411" not in printed.split("platform ready")[1]
        assert not port_in_use(PORTS["zipkin"][0])
        assert port_in_use(PORTS["jaeger"][0])
    finally:
        runner.send_signal(signal.SIGINT)
        runner.wait(30)


# --- native/lifeline.py on its own: a parent that starts `sleep`, and is killed ----------


def orphan_of_a_killed_parent(start: str) -> int:
    """Start a parent that starts `sleep` as `start` says, SIGKILL it; the sleep's pid."""
    code = PARENT.format(start=start)
    parent = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    parent.stdout.readline()  # the child has started

    def the_sleep() -> list[int]:  # through the watchdog, a grandchild, started a little later
        below = children(parent.pid)
        return [pid for pid in below if Path(f"/proc/{pid}/cmdline").read_bytes()[:6] == b"sleep\0"]

    deadline = time.monotonic() + 5
    while not the_sleep() and time.monotonic() < deadline:
        time.sleep(0.1)
    [sleep] = the_sleep()
    parent.kill()
    parent.wait()
    return sleep


@pytest.mark.parametrize("how", ["pdeathsig", "watchdog"])
def test_a_child_dies_with_its_parent(how):
    start = f"lifeline.popen(['sleep', '600'], how={how!r}, start_new_session=True)"

    assert gone_within({orphan_of_a_killed_parent(start)}, 5) == set()


def test_without_the_lifeline_the_child_outlives_its_parent():
    """The control: a child in its own session, as the backends run, is left behind."""
    orphan = orphan_of_a_killed_parent("subprocess.Popen(['sleep', '600'], start_new_session=True)")
    try:
        assert gone_within({orphan}, 2) == {orphan}
    finally:
        os.kill(orphan, signal.SIGKILL)


def test_through_the_watchdog_sigterm_still_stops_the_child_and_its_end_comes_back():
    process = lifeline.popen([sys.executable, "-c", "import time; time.sleep(600)"], how="watchdog")
    time.sleep(1)  # the watchdog has started its child
    [child] = children(process.pid)
    process.terminate()

    assert process.wait(10) == -signal.SIGTERM  # as if there were no watchdog
    assert gone_within({child}, 2) == set()
