"""Decide, without waiting, whether a request may use an online data source."""

import math
import threading
import time


class OnlineSource:
    """Tracks whether an online source is worth trying right now. Never makes a
    request wait: a request that may not try answers from offline data at once.

    After a failure the source is skipped for a while, so that bad conference Wi-Fi
    does not cost every request a timeout; then one request, and only one, tries again.
    `min_interval_seconds` keeps to a usage policy such as Nominatim's one request a
    second: a request that would break it is not queued, it is told not to try.
    """

    def __init__(
        self, enabled: bool, retry_after_seconds: float = 60.0, min_interval_seconds: float = 0.0
    ):
        self.enabled = enabled
        self.retry_after_seconds = retry_after_seconds
        self.min_interval_seconds = min_interval_seconds
        self._failed_at: float | None = None
        self._tried_at = -math.inf
        self._lock = threading.Lock()  # waitress serves requests from several threads

    def try_now(self) -> bool:
        """Whether this request may use the source. If so, it counts as a try."""
        if not self.enabled:
            return False
        with self._lock:
            now = time.monotonic()
            if self._failed_at is not None:
                if now - self._failed_at < self.retry_after_seconds:
                    return False
                self._failed_at = now  # this request retries; the others stay offline
            if now - self._tried_at < self.min_interval_seconds:
                return False
            self._tried_at = now
            return True

    def succeeded(self) -> None:
        self._failed_at = None

    def failed(self) -> None:
        self._failed_at = time.monotonic()
