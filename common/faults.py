"""Faults for the troubleshooting exercise (section 8), switched by feature flags.

Each fault is a boolean flag in one file, faults/flags.json, written in flagd's
flag-definition format. OpenFeature's flagd provider evaluates the flags inside each
service (in-process file mode: no flagd server to run) and re-reads the file when it
changes, so a fault goes on and off while the services run:

    make fault NAME=iss-latency       # workshop/fault.py rewrites faults/flags.json
    make fault NAME=off

FLAGD_OFFLINE_FLAG_SOURCE_PATH, the provider's own variable, points at another file.
An evaluation is a lookup in memory: it never waits for the file. While the file is
missing or broken, every fault is off, and the service says so once.
"""

import contextlib
import logging
import os
import random
import threading
import time
from pathlib import Path

from openfeature import api
from openfeature.contrib.provider.flagd import FlagdProvider
from openfeature.contrib.provider.flagd.config import ResolverType
from openfeature.event import EventDetails, ProviderEvent
from openfeature.provider import ProviderStatus

logger = logging.getLogger(__name__)

# Each fault, and what it does. Each is a flag of the same name.
FAULTS = {
    "iss-latency": "the ISS position takes 1.5 s longer to find",
    "iss-errors": "one ISS position lookup in four fails",
    "slow-geocoder": "the geolocator takes 2 s longer to answer",
    "wrong-place": "the geolocator answers the least populous of several places of a name",
}

# The repository's faults/flags.json, the same path in the containers (/app/faults).
DEFAULT_FLAGS_FILE = Path(__file__).resolve().parent.parent / "faults" / "flags.json"
FLAGS_FILE_VARIABLE = "FLAGD_OFFLINE_FLAG_SOURCE_PATH"
# The semantic conventions' name for a flag's key, on the log records of a fault.
FLAG_KEY = "feature_flag.key"

# OpenFeature binds providers to domains: the faults' flags have a client of their own.
DOMAIN = "workshop-faults"
_client = api.get_client(DOMAIN)


class InjectedFaultError(Exception):
    pass


def flags_file() -> Path:
    """The flag file that the services watch and `make fault` writes."""
    return Path(os.environ.get(FLAGS_FILE_VARIABLE) or DEFAULT_FLAGS_FILE)


def is_on(fault: str) -> bool:
    """Whether the fault's flag is on. False while the flag file cannot be read."""
    # An unreadable file leaves the provider in error with the flags it read last:
    # ask it nothing then, so that a broken file means every fault off.
    if _client.get_provider_status() != ProviderStatus.READY:
        return False
    return _client.get_boolean_value(fault, False)


def warn(fault: str, message: str, *args) -> None:
    """Log that a fault acted, as a warning that names its flag in the attribute
    feature_flag.key: section 8's check counts these records (log_records_total)."""
    logger.warning(f"Injected fault {fault}: {message}", *args, extra={FLAG_KEY: fault})


def delay(fault: str, seconds: float) -> None:
    if is_on(fault):
        warn(fault, "waiting %.1f s", seconds)
        time.sleep(seconds)


def fail_sometimes(fault: str, probability: float) -> None:
    if is_on(fault) and random.random() < probability:
        raise InjectedFaultError(f"injected fault {fault}")


# --- Watching the flag file --------------------------------------------------------------

_lock = threading.Lock()
_watched: Path | None = None


def watch(path: Path | None = None) -> None:
    """Evaluate the faults' flags from `path` (by default flags_file()) from now on.

    Each service calls this once, in its application factory; a later call without a
    path changes nothing. The file is read before this returns, then checked for
    changes every half second by the provider's thread.
    """
    global _watched
    with _lock:
        if _watched is not None and path is None:
            return
        path = Path(path or flags_file())
        if path == _watched:
            return
        _watched = path
        _status.watching(path)
        provider = FlagdProvider(
            resolver_type=ResolverType.FILE, offline_flag_source_path=str(path)
        )
        # A missing or broken file raises here; _status has said so, and the provider
        # keeps checking the file.
        with contextlib.suppress(Exception):
            api.set_provider_and_wait(provider, domain=DOMAIN)


class _Status:
    """Says once when the flag file cannot be read, and once when it can again.

    The provider's file watcher reports a missing or broken file at every check, twice
    a second, with a traceback; these handlers turn that into one warning.
    """

    def __init__(self):
        self.path: Path | None = None
        self.failing = False
        self.lock = threading.Lock()

    def watching(self, path: Path) -> None:
        with self.lock:
            self.path, self.failing = path, False

    def failed(self, details: EventDetails) -> None:
        with self.lock:
            if self.failing:
                return
            self.failing = True
        reason = details.message if self.path.is_file() else "no such file"
        logger.warning(
            "Cannot read the fault flags in %s (%s): every fault is off until it is fixed",
            self.path,
            reason,
        )

    def ready(self, _details: EventDetails) -> None:
        with self.lock:
            recovered, self.failing = self.failing, False
        if recovered:
            logger.info("The fault flags in %s can be read again", self.path)

    def changed(self, details: EventDetails) -> None:
        changed = ", ".join(sorted(details.flags_changed or [])) or "none"
        logger.info("Fault flags read from %s (flags changed: %s)", self.path, changed)


_status = _Status()
_client.add_handler(ProviderEvent.PROVIDER_ERROR, _status.failed)
_client.add_handler(ProviderEvent.PROVIDER_READY, _status.ready)
_client.add_handler(ProviderEvent.PROVIDER_CONFIGURATION_CHANGED, _status.changed)
# Quiet the provider's own report of the same failure (see _Status).
logging.getLogger("openfeature.contrib").setLevel(logging.CRITICAL)
