"""Start a child process that dies with its parent, however the parent ends.

native/run_stack.py stops its backends in order when it is asked to (Ctrl-C, SIGTERM).
This covers the cases where it cannot: killed with SIGKILL, or crashed. The backends
run in sessions of their own (so that Ctrl-C reaches only the runner), and nothing
else would stop them.

- Linux: the kernel sends the child SIGKILL when its parent dies (prctl's
  PR_SET_PDEATHSIG), set in the child between fork and exec.
- Other POSIX systems (macOS): a watchdog, this file run as a script, starts the
  child and kills it when its standard input, a pipe from the parent, closes. The
  kernel closes that pipe whenever the parent ends. SIGTERM and SIGINT are passed on,
  so the parent stops the child through the watchdog as it would directly.
- Windows: the child joins a job object that kills its processes when its last handle
  closes (JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE). This process holds the only handle, and
  Windows closes it whenever this process ends.

    popen(command, **popen_arguments)   # like subprocess.Popen(command, ...)
"""

import ctypes
import os
import signal
import subprocess
import sys
import threading

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>

# Loaded before any fork: the child, between fork and exec, only calls into it.
_libc = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def popen(command: list[str], how: str | None = None, **arguments) -> subprocess.Popen:
    """subprocess.Popen(command, **arguments), for a child that dies with this process.

    `how` is "pdeathsig" (Linux), "watchdog" (any POSIX system) or "job" (Windows): by
    default, the first that this system has. Through the watchdog, the Popen is the
    watchdog's.
    """
    how = how or ("pdeathsig" if _libc else "watchdog" if os.name == "posix" else "job")
    if how == "pdeathsig":
        return subprocess.Popen(command, preexec_fn=_die_with(os.getpid()), **arguments)
    if how == "watchdog":
        command = [sys.executable, __file__, *command]
        return subprocess.Popen(command, stdin=subprocess.PIPE, **arguments)
    child = subprocess.Popen(command, **arguments)
    _join_the_job(child)
    return child


def _die_with(parent: int):
    def set_death_signal() -> None:  # runs in the child, before exec
        if _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL) != 0:
            os._exit(126)
        # The kernel acts only on a death after the call: a parent already gone
        # has left us to another parent.
        if os.getppid() != parent:
            os._exit(126)

    # The signal comes when the thread that started the child ends: start children
    # from the main thread (as native/run_stack.py does), not from a passing one.
    return set_death_signal


# --- Windows: a job object ------------------------------------------------------------
# The structures SetInformationJobObject reads (winnt.h), with fixed-size fields, so that
# their layout can be checked on any system (tests/test_stack_lifecycle.py).
DWORD = ctypes.c_uint32
JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE = 0x2000
JOB_OBJECT_EXTENDED_LIMIT_INFORMATION = 9  # the JOBOBJECTINFOCLASS value


class BasicLimits(ctypes.Structure):  # JOBOBJECT_BASIC_LIMIT_INFORMATION
    _fields_ = [
        ("PerProcessUserTimeLimit", ctypes.c_int64),
        ("PerJobUserTimeLimit", ctypes.c_int64),
        ("LimitFlags", DWORD),
        ("MinimumWorkingSetSize", ctypes.c_size_t),
        ("MaximumWorkingSetSize", ctypes.c_size_t),
        ("ActiveProcessLimit", DWORD),
        ("Affinity", ctypes.c_size_t),
        ("PriorityClass", DWORD),
        ("SchedulingClass", DWORD),
    ]


class ExtendedLimits(ctypes.Structure):  # JOBOBJECT_EXTENDED_LIMIT_INFORMATION
    _fields_ = [
        ("BasicLimitInformation", BasicLimits),
        ("IoInfo", ctypes.c_uint64 * 6),  # IO_COUNTERS: six counters
        ("ProcessMemoryLimit", ctypes.c_size_t),
        ("JobMemoryLimit", ctypes.c_size_t),
        ("PeakProcessMemoryUsed", ctypes.c_size_t),
        ("PeakJobMemoryUsed", ctypes.c_size_t),
    ]


_job = None  # this process's job object, made on first use; its handle is never closed


def _join_the_job(child: subprocess.Popen) -> None:
    """Put the child in this process's kill-on-close job."""
    global _job
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    # Handles are pointer-sized: ctypes' default, a C int, would cut them.
    kernel32.CreateJobObjectW.restype = ctypes.c_void_p
    kernel32.SetInformationJobObject.argtypes = [
        ctypes.c_void_p,
        ctypes.c_int,
        ctypes.c_void_p,
        DWORD,
    ]
    kernel32.AssignProcessToJobObject.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    if _job is None:
        job = kernel32.CreateJobObjectW(None, None)
        limits = ExtendedLimits()
        limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
        size = ctypes.sizeof(limits)
        kind = JOB_OBJECT_EXTENDED_LIMIT_INFORMATION
        if not job or not kernel32.SetInformationJobObject(job, kind, ctypes.byref(limits), size):
            raise ctypes.WinError(ctypes.get_last_error())
        _job = job
    if not kernel32.AssignProcessToJobObject(_job, int(child._handle)):
        error = ctypes.WinError(ctypes.get_last_error())
        child.kill()  # a child that would outlive us is not started at all
        raise error


def _watch(command: list[str]) -> None:
    """Run command; kill it when our standard input closes (our parent has ended)."""
    child = subprocess.Popen(command, stdin=subprocess.DEVNULL)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda signum, frame: child.send_signal(signum))

    def kill_when_the_parent_ends() -> None:
        while os.read(0, 4096):  # b"" at end of file: no one holds the pipe's other end
            pass
        child.kill()

    threading.Thread(target=kill_when_the_parent_ends, daemon=True).start()
    code = child.wait()
    if code < 0:  # ended by a signal: end by the same one, so our parent sees what it saw
        if -code != signal.SIGKILL:  # SIGKILL has no handler to reset, and needs none
            signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    sys.exit(code)


if __name__ == "__main__":
    _watch(sys.argv[1:])
