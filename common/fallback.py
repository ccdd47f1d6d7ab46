"""Decide, without waiting, whether a request may use an online data source."""

import math
import threading
import time


class OnlineSource:
    """Tracks whether an online source is worth trying right now. Never makes a
    request wait: a request that may not try answers from offline data at once.

    Until the source has answered once, and for a while after it fails, one request
    at a time tries it and the others stay offline, so that bad conference Wi-Fi costs
    one request a timeout, not all of them. `min_interval_seconds` keeps to a usage
    policy such as Nominatim's one request a second: a request that would break it is
    not queued, it is told not to try.
    """

    def __init__(
        self, enabled: bool, retry_after_seconds: float = 60.0, min_interval_seconds: float = 0.0
    ):
        self.enabled = enabled
        self.retry_after_seconds = retry_after_seconds
        self.min_interval_seconds = min_interval_seconds
        self._working = False
        self._failed_at = -math.inf
        self._tried_at = -math.inf
        self._probe_started_at: float | None = None
        self._lock = threading.Lock()  # waitress serves requests from several threads

    def try_now(self) -> bool:
        """Whether this request may use the source. If so, it counts as a try."""
        if not self.enabled:
            return False
        with self._lock:
            now = time.monotonic()
            if now - self._tried_at < self.min_interval_seconds:
                return False
            if not self._working:
                if now - self._failed_at < self.retry_after_seconds or self._probing(now):
                    return False
                self._probe_started_at = now
            self._tried_at = now
            return True

    def succeeded(self) -> None:
        with self._lock:
            self._working, self._probe_started_at = True, None

    def failed(self) -> None:
        with self._lock:
            self._working, self._probe_started_at = False, None
            self._failed_at = time.monotonic()

    def _probing(self, now: float) -> bool:
        # A probe that never reported back (its request crashed) is forgotten in time.
        started = self._probe_started_at
        return started is not None and now - started < self.retry_after_seconds
