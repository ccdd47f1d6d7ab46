"""The custom telemetry of the ISS distance service: what the workshop adds by hand.

The meter and the tracer come from the global providers that common.telemetry installs.
Getting them at import time is fine: until the providers exist, they are proxies.
"""

from opentelemetry import metrics, trace

meter = metrics.get_meter("iss_distance")

# An attribute name. It has a handful of possible values: a metric attribute must never
# hold something unbounded, such as a place name or a coordinate.
SOURCE = "iss.position.source"  # "api" or "sgp4"

incoming_requests = meter.create_counter(
    "incoming.requests",
    unit="{request}",
    description="Requests received by the ISS distance service, by response status",
)
iss_requests = meter.create_counter(
    "iss.requests",
    unit="{request}",
    description="Lookups of the ISS position, by source and error type",
)

# A duration: a histogram in seconds, named <what>.duration as the semantic conventions
# name theirs (http.server.request.duration). Its buckets are chosen where the SDK is
# set up, by a View in common/telemetry.py.
position_duration = meter.create_histogram(
    "iss.position.duration",
    unit="s",
    description="How long a lookup of the ISS position takes, by source",
)

tracer = trace.get_tracer("iss_distance")
