"""native/lifeline.py on Windows: a child joins a job object that Windows ends with its
parent. Linux and macOS have their own ways, tested with the platform's processes in
tests/test_stack_lifecycle.py.

Only Windows can run a job object: the two tests that do run in CI's Windows job
(.github/workflows/ci.yml). The layout of the structure Windows reads is checked
everywhere, against winnt.h's sizes and offsets for 64-bit Windows.
"""

import ctypes
import subprocess
import sys
import time

import pytest

from native import lifeline

# A parent that starts a child as `start` says, prints the child's pid, and waits.
PARENT = """
import subprocess, sys
from native import lifeline
child = {start}
print(child.pid, flush=True)
sys.stdin.read()
"""

windows_only = pytest.mark.skipif(sys.platform != "win32", reason="a job object is Windows'")


@pytest.mark.skipif(ctypes.sizeof(ctypes.c_void_p) != 8, reason="the 64-bit layout")
def test_the_limits_have_the_layout_windows_reads():
    # JOBOBJECT_EXTENDED_LIMIT_INFORMATION on 64-bit Windows: 144 bytes, the basic limits'
    # flags at 16, the I/O counters at 64, the memory limits from 112.
    assert ctypes.sizeof(lifeline.ExtendedLimits) == 144
    assert lifeline.BasicLimits.LimitFlags.offset == 16
    assert lifeline.ExtendedLimits.IoInfo.offset == 64
    assert lifeline.ExtendedLimits.ProcessMemoryLimit.offset == 112


def is_running(pid: int) -> bool:
    listed = subprocess.run(
        ["tasklist", "/FI", f"PID eq {pid}", "/NH", "/FO", "CSV"], capture_output=True, text=True
    )
    return f'"{pid}"' in listed.stdout


def child_of_a_killed_parent(start: str) -> int:
    """Start a parent that starts a sleeping child as `start` says, end the parent as the
    Task Manager would (TerminateProcess); the child's pid."""
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT.format(start=start)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    child = int(parent.stdout.readline())
    parent.kill()
    parent.wait()
    return child


def still_running_after(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while is_running(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    return is_running(pid)


SLEEPER = "[sys.executable, '-c', 'import time; time.sleep(600)']"


@windows_only
def test_on_windows_a_child_dies_with_its_parent():
    child = child_of_a_killed_parent(f"lifeline.popen({SLEEPER})")

    assert not still_running_after(child, 5)


@windows_only
def test_on_windows_without_the_lifeline_the_child_outlives_its_parent():
    """The control: a plain child is left running."""
    child = child_of_a_killed_parent(f"subprocess.Popen({SLEEPER})")
    try:
        assert still_running_after(child, 2)
    finally:
        subprocess.run(["taskkill", "/F", "/PID", str(child)], capture_output=True)
