"""Turn a place name into coordinates: Nominatim when online, the gazetteer otherwise.

Nominatim is OpenStreetMap's free geocoder. Its usage policy asks for a descriptive
User-Agent, at most one request per second, and caching of results; we do all three.
"""

import functools
import logging

from geopy.exc import GeopyError
from geopy.extra.rate_limiter import RateLimiter
from geopy.geocoders import Nominatim

from common.fallback import OnlineSource
from geolocator.gazetteer import Gazetteer
from geolocator.places import Place

logger = logging.getLogger(__name__)

USER_AGENT = "opentelemetry-python-workshop/1.0 (ISS distance demo application)"


class Geocoder:
    def __init__(
        self,
        gazetteer: Gazetteer,
        online: bool = True,
        nominatim_domain: str = "nominatim.openstreetmap.org",
        nominatim_scheme: str = "https",
        timeout: float = 3.0,
    ):
        self.gazetteer = gazetteer
        self.nominatim = OnlineSource(enabled=online)
        client = Nominatim(
            user_agent=USER_AGENT, domain=nominatim_domain, scheme=nominatim_scheme, timeout=timeout
        )
        # At most one request a second; errors are raised, not retried, so we can fall back.
        rate_limited = RateLimiter(
            client.geocode, min_delay_seconds=1, max_retries=0, swallow_exceptions=False
        )
        # One cache entry per normalised name, so "Paris" and "paris " share one.
        self._geocode_online = functools.lru_cache(maxsize=1024)(rate_limited)

    def locate(self, query: str) -> Place | None:
        """The place called `query`, or None if nobody knows it."""
        if self.nominatim.should_try():
            try:
                found = self._geocode_online(" ".join(query.split()).casefold())
            except GeopyError as error:
                self.nominatim.failed()
                logger.warning("Nominatim failed (%s); using the offline gazetteer", error)
            else:
                self.nominatim.succeeded()
                if found is None:
                    return None
                return Place(found.address, found.latitude, found.longitude, "nominatim")
        return self.gazetteer.lookup(query)
