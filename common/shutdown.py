"""A stopped service flushes the telemetry it holds, within a deadline.

The SDK's providers flush in atexit hooks, but Python's default handling of SIGTERM
ends the process without running atexit: what a service had buffered would be lost
every time `docker compose stop` or Ctrl-C in `make run` stops it.
"""

import atexit
import os
import signal
import sys
import threading

# Give up on an export after 3 s rather than the exporter's default 10 s. On the way out a
# service flushes three signals one after the other, and Docker kills a container that
# takes more than 10 s to stop: with the collector down, 3 x 10 s would be too long.
EXPORT_TIMEOUT_SECONDS = 3
# A stopped service flushes what it holds for at most this long, then exits anyway.
SHUTDOWN_DEADLINE_SECONDS = 4

_exiting = False


def exit_cleanly_on_sigterm() -> None:
    """Turn SIGTERM into a normal exit, which runs the providers' atexit hooks.

    (This also lets a server running as PID 1 in a container stop at once.) A server
    that installed its own handler already exits cleanly, so leave that one alone.
    """
    in_main_thread = threading.current_thread() is threading.main_thread()
    if in_main_thread and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
    # atexit runs its hooks last in, first out: this one starts before the providers flush.
    atexit.register(_start_the_flush_deadline)


def _exit_on_sigterm(signum, _frame) -> None:
    # Once is enough: a SIGTERM that comes while the process is already on its way out
    # (after a Ctrl-C, say) must not interrupt the flush.
    if not _exiting:
        sys.exit(128 + signum)


def _start_the_flush_deadline() -> None:
    # A reachable collector takes the last batches in well under a second. An unreachable
    # one would keep each batch retrying, batch after batch: give up after the deadline.
    global _exiting
    _exiting = True
    deadline = threading.Timer(SHUTDOWN_DEADLINE_SECONDS, _give_up_flushing)
    deadline.daemon = True
    deadline.start()


def _give_up_flushing() -> None:
    print(f"Telemetry not flushed after {SHUTDOWN_DEADLINE_SECONDS} s; exiting.", file=sys.stderr)
    os._exit(1)
