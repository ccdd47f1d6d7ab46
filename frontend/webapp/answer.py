"""What the page shows, read from the gateway's answer."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Point:
    latitude: float
    longitude: float

    @property
    def map_x(self) -> float:
        """Position on the world map (an equirectangular projection, 360 x 180)."""
        return round(self.longitude + 180, 2)

    @property
    def map_y(self) -> float:
        return round(90 - self.latitude, 2)


@dataclass(frozen=True)
class Answer:
    place_name: str
    place: Point
    place_source: str
    iss: Point
    iss_source: str
    distance_km: float
    tle_age_days: int | None = None  # for a position computed offline (iss_source "sgp4")

    @classmethod
    def from_gateway(cls, answer: dict) -> "Answer":
        """From an answer that common.contracts.check_gateway_answer accepted."""
        place, iss = answer["place"], answer["iss"]
        return cls(
            place_name=str(place["name"]),
            place=Point(float(place["latitude"]), float(place["longitude"])),
            place_source=str(place["source"]),
            iss=Point(float(iss["location"]["latitude"]), float(iss["location"]["longitude"])),
            iss_source=str(iss["source"]),
            distance_km=float(iss["distance"]),
            tle_age_days=iss.get("tle_age_days"),
        )

    @property
    def tle_age(self) -> str:
        """How old the orbital elements are, in words: "1 day", "69 days"."""
        return "1 day" if self.tle_age_days == 1 else f"{self.tle_age_days} days"
