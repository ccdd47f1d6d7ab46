"""Pause an online data source after it fails, so that an offline laptop stays fast."""

import time


class OnlineSource:
    """Tracks whether an online source is worth trying right now.

    Without this, every request on bad conference Wi-Fi would wait for a timeout before
    falling back to offline data. After a failure the source is skipped for a while.
    """

    def __init__(self, enabled: bool, retry_after_seconds: float = 60.0):
        self.enabled = enabled
        self.retry_after_seconds = retry_after_seconds
        self._failed_at: float | None = None

    def should_try(self) -> bool:
        if not self.enabled:
            return False
        if self._failed_at is None:
            return True
        return time.monotonic() - self._failed_at >= self.retry_after_seconds

    def succeeded(self) -> None:
        self._failed_at = None

    def failed(self) -> None:
        self._failed_at = time.monotonic()
