"""One deadline per request, handed on from service to service.

The frontend gives each request a total budget. A service that calls another waits a
margin less than it has left, and tells the other service a margin less again, in the
X-Request-Budget-Ms header. So the innermost timeout always fires first, and each
service still has time to answer which dependency was too slow.
"""

import re
import time

BUDGET_HEADER = "X-Request-Budget-Ms"

# Time kept back at each hop to answer "too slow" before the caller gives up.
HOP_MARGIN_SECONDS = 0.2

_MILLISECONDS = re.compile(r"[0-9]{1,7}")


class Deadline:
    def __init__(self, seconds: float):
        self._ends_at = time.monotonic() + seconds

    @classmethod
    def from_header(cls, value: str | None, own_budget: float) -> "Deadline":
        """The budget the caller sent, but never more than this service's own."""
        if value is None or not _MILLISECONDS.fullmatch(value):
            return cls(own_budget)
        return cls(min(int(value) / 1000, own_budget))

    def remaining(self) -> float:
        return max(0.0, self._ends_at - time.monotonic())

    def for_call(self) -> float:
        """How long a call to another service may take: a margin less than is left."""
        return self.remaining() - HOP_MARGIN_SECONDS

    def header_for_call(self) -> dict[str, str]:
        """What to tell the called service: a margin less than we wait for it."""
        budget = max(0.0, self.for_call() - HOP_MARGIN_SECONDS)
        return {BUDGET_HEADER: str(int(budget * 1000))}
