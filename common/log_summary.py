"""A logging filter that shows a repeated message once, then once a minute with a count.

With the collector down, the OpenTelemetry SDK logs "Failed to export ..." after every
failed batch, for as long as the service runs, and the console fills with it:

    handler = logging.StreamHandler()
    handler.addFilter(SummariseRepeats())

Messages are alike when they come from the same logger with the same format string
("Failed to export %s to %s, ..."), whatever their arguments.
"""

import logging
import threading
import time
from collections.abc import Callable


class SummariseRepeats(logging.Filter):
    """Let the first of alike records through; of the rest, one per `interval` seconds,
    saying how many were held back since the last one shown."""

    def __init__(self, interval: float = 60, clock: Callable[[], float] = time.monotonic):
        super().__init__()
        self.interval = interval
        self.clock = clock  # tests pass a fake one
        self._shown_at: dict[tuple[str, object], float] = {}
        self._held_back: dict[tuple[str, object], int] = {}
        # The SDK's export threads, one per signal, may log at the same time.
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        alike = (record.name, record.msg)
        now = self.clock()
        with self._lock:
            shown_at = self._shown_at.get(alike)
            if shown_at is not None and now - shown_at < self.interval:
                self._held_back[alike] = self._held_back.get(alike, 0) + 1
                return False
            self._shown_at[alike] = now
            held_back = self._held_back.pop(alike, 0)
        if held_back:
            # A filter may change the record: the handler formats it afterwards.
            seconds = round(now - shown_at)
            record.msg = f"{record.msg} ({held_back} more like this in the last {seconds} s)"
        return True
