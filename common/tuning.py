"""Process tuning for the services, applied once the application is built.

Telemetry allocates a few hundred objects per request (spans, attributes, metric
points, log records), so Python's cyclic garbage collector runs more often, and its
full collections walk every object the process holds: Flask, the SDK, gRPC, the
gazetteer. gc.freeze() moves everything built at start-up out of its reach, so those
collections walk only what requests leave behind. The objects stay alive as before.

WORKSHOP_TUNING=off leaves the process untouched: `make benchmark` compares the two.
"""

import gc
import os

TUNING_VARIABLE = "WORKSHOP_TUNING"


def tune_after_start_up() -> None:
    """Call once the application is built, before serving the first request."""
    if os.environ.get(TUNING_VARIABLE, "").strip().lower() == "off":
        return
    gc.collect()  # what start-up left as garbage goes now, not into the frozen set
    gc.freeze()
