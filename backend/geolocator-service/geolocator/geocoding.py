"""Turn a place name into coordinates: Nominatim when online, the gazetteer otherwise.

Nominatim is OpenStreetMap's free geocoder. Its usage policy asks for a descriptive
User-Agent, at most one request per second, and caching of results; we do all three.
A request that would exceed one a second is answered from the gazetteer at once,
labelled as such, rather than made to wait its turn.
"""

import dataclasses
import functools
import logging

from geopy.adapters import RequestsAdapter
from geopy.exc import GeopyError
from geopy.geocoders import Nominatim

from common import faults
from common.contracts import ContractError, check_place
from common.fallback import OnlineSource
from geolocator.gazetteer import Gazetteer
from geolocator.places import Place

logger = logging.getLogger(__name__)

USER_AGENT = "opentelemetry-python-workshop/1.0 (ISS distance demo application)"
CACHE_SIZE = 1024
# Less time than this left in the request: not worth asking Nominatim.
MIN_ONLINE_SECONDS = 0.1


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
        self.nominatim = OnlineSource(enabled=online, min_interval_seconds=1)
        self.timeout = timeout
        self._client = Nominatim(
            user_agent=USER_AGENT,
            domain=nominatim_domain,
            scheme=nominatim_scheme,
            # One try per request. urllib3 would retry twice, each try with the whole
            # timeout (past the request's deadline), and log each retry with the URL.
            adapter_factory=functools.partial(RequestsAdapter, max_retries=0),
        )
        # Nominatim's answers by normalised name, so "Paris" and "paris " share one.
        self._cache: dict[str, Place | None] = {}

    def locate(self, query: str, seconds_left: float) -> Place | None:
        """The place called `query`, or None if nobody knows it."""
        if faults.is_on("wrong-place") and (namesake := self._wrong_namesake(query)):
            return namesake
        key = " ".join(query.split()).casefold()
        if key in self._cache:
            return self._cache[key]
        timeout = min(self.timeout, seconds_left)
        if timeout >= MIN_ONLINE_SECONDS and self.nominatim.try_now():
            try:
                place = self._ask_nominatim(key, timeout)
            except (GeopyError, ContractError) as error:
                self.nominatim.failed()
                # The kind of failure, not its message: geopy's messages quote the URL,
                # and the URL holds the place typed, which is personal data (section 12).
                logger.warning(
                    "Nominatim failed (%s); using the offline gazetteer", type(error).__name__
                )
            else:
                self.nominatim.succeeded()
                self._remember(key, place)
                return place
        return self.gazetteer.lookup(query)

    def _wrong_namesake(self, query: str) -> Place | None:
        """The wrong-place fault (section 8): of several cities with that name, the least
        populous. A valid answer, quick and without an error: only this log says why."""
        places = self.gazetteer.namesakes(query)
        if len(places) < 2:
            return None
        # The gazetteer's name of the place, never the text typed: that is personal data
        # (section 12), and the collector only redacts it where it knows to look.
        faults.warn(
            "wrong-place",
            "answering %s, the least populous of %d namesakes",
            places[-1].name,
            len(places),
        )
        return places[-1]

    def _ask_nominatim(self, key: str, timeout: float) -> Place | None:
        found = self._client.geocode(key, timeout=timeout)
        if found is None:
            return None
        place = Place(found.address, found.latitude, found.longitude, "nominatim")
        check_place(dataclasses.asdict(place))  # a broken answer counts as a failure
        return place

    def _remember(self, key: str, place: Place | None) -> None:
        if len(self._cache) >= CACHE_SIZE:
            self._cache.pop(next(iter(self._cache)), None)  # the oldest entry
        self._cache[key] = place
