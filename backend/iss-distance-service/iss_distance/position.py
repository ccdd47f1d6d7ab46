"""The ISS position: from a public API when it answers, computed with SGP4 otherwise.

The answer always says which source it came from, so a fallback is never silent.
"""

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from opentelemetry import trace
from opentelemetry.semconv.attributes.error_attributes import ERROR_TYPE

from common import faults
from common.deadline import Deadline
from common.fallback import OnlineSource
from iss_distance.orbit import Orbit
from iss_distance.position_api import DEFAULT_API_URL, IssApiError, fetch_from_api
from iss_distance.telemetry import SOURCE, iss_requests, position_duration, tracer

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class IssPosition:
    latitude: float
    longitude: float
    source: str  # "api" or "sgp4"
    time: datetime
    tle_age_days: int | None = None  # how old the orbital elements are, for "sgp4"


class IssTracker:
    def __init__(
        self,
        orbit: Orbit,
        online: bool = True,
        api_url: str = DEFAULT_API_URL,
        timeout: float = 2.0,
    ):
        self.orbit = orbit
        self.api = OnlineSource(enabled=online)
        self.api_url = api_url
        self.timeout = timeout
        self.stale_tle_reported = False

    def position(self, deadline: Deadline) -> IssPosition:
        """Where the ISS is now, asking the API only within the request's deadline."""
        with tracer.start_as_current_span("iss.position") as span:
            started = time.perf_counter()  # a monotonic clock, for durations
            position = self._lookup(deadline)
            span.set_attributes({
                SOURCE: position.source,
                "iss.latitude": position.latitude,
                "iss.longitude": position.longitude,
            })  # fmt: skip
            record_duration(time.perf_counter() - started, position)
            return position

    def _lookup(self, deadline: Deadline) -> IssPosition:
        # The troubleshooting exercise's faults (section 8), off unless switched on.
        faults.delay("iss-latency", 1.5)
        faults.fail_sometimes("iss-errors", 0.25)
        # The API gets its own timeout, or what is left of the request's, if less.
        api_deadline = Deadline(min(self.timeout, deadline.remaining()))
        position = self._from_api(api_deadline) if self.api.try_now() else None
        return position or self._from_orbit()

    def _from_api(self, deadline: Deadline) -> IssPosition | None:
        try:
            latitude, longitude, when = fetch_from_api(self.api_url, deadline)
        except IssApiError as error:
            self.api.failed()
            # Recorded, but the span is not an error: the orbit answers instead.
            trace.get_current_span().record_exception(error)
            iss_requests.add(1, {SOURCE: "api", ERROR_TYPE: error.error_type})
            logger.warning("ISS position API failed (%s); computing the position with SGP4", error)
            return None
        self.api.succeeded()
        iss_requests.add(1, {SOURCE: "api"})
        logger.info("ISS position from the API")
        return IssPosition(latitude, longitude, "api", when)

    def _from_orbit(self) -> IssPosition:
        now = datetime.now(UTC)
        latitude, longitude = self.orbit.subpoint(now)
        iss_requests.add(1, {SOURCE: "sgp4"})
        age_days = (now - self.orbit.epoch).days
        trace.get_current_span().set_attribute("iss.tle.age_days", age_days)
        logger.info("ISS position computed with SGP4 from a TLE %d days old", age_days)
        if age_days > 14 and not self.stale_tle_reported:
            # Said once: every offline answer shows the age of its elements on the page.
            self.stale_tle_reported = True
            logger.warning("The ISS TLE is %d days old; run `make update-tle` online", age_days)
        # A clock a little behind the elements' epoch would make them -1 days old.
        return IssPosition(latitude, longitude, "sgp4", now, tle_age_days=max(age_days, 0))


def record_duration(seconds: float, position: IssPosition) -> None:
    """Count the lookup into the duration histogram, inside the iss.position span: the
    histogram keeps the span's trace id as an exemplar."""
    attributes = {SOURCE: position.source}
    if position.tle_age_days is not None:
        # Worth knowing on a span; on a metric, a new series every day. The View in
        # common/telemetry.py drops it, as it would from a library you cannot edit.
        attributes["iss.tle.age_days"] = position.tle_age_days
    position_duration.record(seconds, attributes)
