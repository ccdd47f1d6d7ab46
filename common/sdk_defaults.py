"""The workshop's defaults for the SDK's standard OTEL_* variables.

Each is set only where the environment leaves it unset: a variable set by the learner,
by Compose or by a test always wins.
"""

import os

# How soon telemetry leaves a service: within a second, so that a learner sees a request
# as soon as it is answered. The SDK's defaults suit production, where fewer and larger
# exports cost less: spans every 5 s, log records every 1 s, metrics every 60 s.
EXPORT_DELAYS_MS = {
    "OTEL_BSP_SCHEDULE_DELAY": "500",  # spans
    "OTEL_BLRP_SCHEDULE_DELAY": "500",  # log records
    "OTEL_METRIC_EXPORT_INTERVAL": "1000",  # metrics
}


def use_workshop_defaults() -> None:
    """Export within a second, and ask for the stable HTTP semantic conventions.

    The instrumentations emit the old HTTP conventions unless asked
    (http.server.duration in ms instead of http.server.request.duration in seconds).
    Every instrumentor reads OTEL_SEMCONV_STABILITY_OPT_IN once, at the first
    instrument() call of any of them (the logging one included), so this must run
    before all of them.
    """
    os.environ.setdefault("OTEL_SEMCONV_STABILITY_OPT_IN", "http")
    for variable, milliseconds in EXPORT_DELAYS_MS.items():
        os.environ.setdefault(variable, milliseconds)


def telemetry_disabled() -> bool:
    """OTEL_SDK_DISABLED=true switches the workshop's telemetry off."""
    return os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true"
