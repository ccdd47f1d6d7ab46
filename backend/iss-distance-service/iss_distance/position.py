"""The ISS position: from a public API when it answers, computed with SGP4 otherwise.

The answer always says which source it came from, so a fallback is never silent.
"""

import logging
import math
from dataclasses import dataclass
from datetime import UTC, datetime

import requests
from opentelemetry.semconv.attributes.error_attributes import ERROR_TYPE
from opentelemetry.trace import Status, StatusCode

from common.fallback import OnlineSource
from iss_distance.orbit import Orbit
from iss_distance.telemetry import SOURCE, iss_requests, tracer

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.wheretheiss.at/v1/satellites/25544"


@dataclass(frozen=True)
class IssPosition:
    latitude: float
    longitude: float
    source: str  # "api" or "sgp4"
    time: datetime


class IssApiError(Exception):
    pass


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

    def position(self) -> IssPosition:
        """Where the ISS is now."""
        with tracer.start_as_current_span("iss.position") as span:
            position = None
            if self.api.should_try():
                position = self._from_api(span)
            if position is None:
                position = self._from_orbit(span)
            span.set_attributes(
                {
                    SOURCE: position.source,
                    "iss.latitude": position.latitude,
                    "iss.longitude": position.longitude,
                }
            )
            return position

    def _from_api(self, span) -> IssPosition | None:
        try:
            position = fetch_from_api(self.api_url, self.timeout)
        except IssApiError as error:
            self.api.failed()
            # Recorded, but the span is not an error: the orbit answers instead.
            span.record_exception(error)
            iss_requests.add(
                1, {SOURCE: "api", ERROR_TYPE: type(error.__cause__ or error).__name__}
            )
            logger.warning("ISS position API failed (%s); computing the position with SGP4", error)
            return None
        self.api.succeeded()
        iss_requests.add(1, {SOURCE: "api"})
        logger.info("ISS position from the API")
        return position

    def _from_orbit(self, span) -> IssPosition:
        now = datetime.now(UTC)
        try:
            latitude, longitude = self.orbit.subpoint(now)
        except Exception as error:
            span.record_exception(error)
            span.set_status(Status(StatusCode.ERROR, "SGP4 propagation failed"))
            iss_requests.add(1, {SOURCE: "sgp4", ERROR_TYPE: type(error).__name__})
            raise
        iss_requests.add(1, {SOURCE: "sgp4"})
        age_days = (now - self.orbit.epoch).days
        span.set_attribute("iss.tle.age_days", age_days)
        logger.info("ISS position computed with SGP4 from a TLE %d days old", age_days)
        if age_days > 14:
            logger.warning("The ISS TLE is %d days old; run `make update-tle` online", age_days)
        return IssPosition(latitude, longitude, "sgp4", now)


def fetch_from_api(url: str, timeout: float) -> IssPosition:
    """Ask the public API where the ISS is. Raises IssApiError."""
    try:
        response = requests.get(url, timeout=timeout)
        response.raise_for_status()
        data = response.json()
        latitude, longitude = float(data["latitude"]), float(data["longitude"])
        time = datetime.fromtimestamp(float(data["timestamp"]), UTC)
    except (requests.RequestException, ValueError, KeyError, TypeError, OverflowError) as error:
        raise IssApiError(f"{type(error).__name__} from {url}") from error
    if not (
        math.isfinite(latitude)
        and math.isfinite(longitude)
        and -90 <= latitude <= 90
        and -180 <= longitude <= 180
    ):
        raise IssApiError(f"coordinates out of range from {url}")
    return IssPosition(latitude, longitude, "api", time)
