"""Waiting for a condition, rather than for a fixed time: the one polling loop that the
tests, the benchmarks and `make run` share."""

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


# Long enough for telemetry to cross a busy platform on a slow laptop; only a failing
# wait lasts this long.
TIMEOUT_SECONDS = 90


def wait_for(
    condition: Callable[[], T], timeout: float = TIMEOUT_SECONDS, interval: float = 0.5
) -> T:
    """Call `condition()` every `interval` s until it returns something truthy, and return
    that; after `timeout` s, return its last, falsy, result.

    While a server starts, connecting to it fails: an OSError (requests' errors are
    OSErrors too) counts as "not yet". Any other exception is a real failure, and stops
    the wait at once.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = condition()
        except OSError:
            result = None
        if result or time.monotonic() > deadline:
            return result
        time.sleep(interval)
