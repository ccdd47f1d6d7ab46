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
        )
