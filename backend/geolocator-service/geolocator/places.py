"""A place on Earth, as the geolocator answers it."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Place:
    name: str
    latitude: float
    longitude: float
    source: str  # "nominatim" (online) or "gazetteer" (offline)
