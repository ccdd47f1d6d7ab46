"""Faults to switch on for the workshop's troubleshooting exercise (section 8).

    FAULTS=iss-latency make run       the ISS position takes 1.5 s longer to find
    FAULTS=iss-errors make run        one ISS position lookup in four fails
    FAULTS=slow-geocoder make run     the geolocator takes 2 s longer to answer

Several at once: FAULTS=iss-latency,slow-geocoder. With Docker:
FAULTS=iss-errors docker compose up -d. Then find the cause from the dashboard, to a
trace, to its logs.
"""

import logging
import os
import random
import time

logger = logging.getLogger(__name__)

KNOWN = {"iss-latency", "iss-errors", "slow-geocoder"}


class InjectedFaultError(Exception):
    pass


def from_environment() -> frozenset[str]:
    """The faults FAULTS switches on. Unknown names are reported, then ignored."""
    names = {name.strip() for name in os.environ.get("FAULTS", "").split(",") if name.strip()}
    for unknown in sorted(names - KNOWN):
        logger.warning("Unknown fault %r in FAULTS; known: %s", unknown, ", ".join(sorted(KNOWN)))
    return frozenset(names & KNOWN)


def delay(faults: frozenset[str], fault: str, seconds: float) -> None:
    if fault in faults:
        logger.warning("Injected fault %s: waiting %.1f s", fault, seconds)
        time.sleep(seconds)


def fail_sometimes(faults: frozenset[str], fault: str, probability: float) -> None:
    if fault in faults and random.random() < probability:
        raise InjectedFaultError(f"injected fault {fault}")
