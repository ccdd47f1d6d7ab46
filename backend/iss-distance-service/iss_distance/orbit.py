"""Where the ISS is, computed offline from its orbital elements with SGP4.

A TLE ("two-line element set") describes an orbit at one moment, its epoch. SGP4 is
the model TLEs are made for: it propagates the orbit to any other time. The result
drifts by a few kilometres a day, so refresh the TLE now and then (`make update-tle`).
"""

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sgp4.api import SGP4_ERRORS, Satrec, jday
from sgp4.propagation import gstime

DEFAULT_TLE_PATH = Path(__file__).parent / "data" / "iss.tle"

# The WGS84 ellipsoid, in kilometres.
WGS84_A = 6378.137
WGS84_F = 1 / 298.257223563
WGS84_E2 = WGS84_F * (2 - WGS84_F)


class OrbitError(Exception):
    pass


@dataclass(frozen=True)
class Orbit:
    satellite: Satrec
    epoch: datetime

    @classmethod
    def from_tle(cls, text: str) -> "Orbit":
        """Read a TLE, with or without its name line."""
        lines = [line.strip() for line in text.strip().splitlines()]
        line1, line2 = lines[-2:]
        if not (line1.startswith("1 ") and line2.startswith("2 ")):
            raise OrbitError("A TLE needs a line starting with '1 ' and one starting with '2 '.")
        satellite = Satrec.twoline2rv(line1, line2)
        epoch = datetime.fromtimestamp(
            (satellite.jdsatepoch + satellite.jdsatepochF - 2440587.5) * 86400, UTC
        )
        return cls(satellite, epoch)

    @classmethod
    def from_file(cls, path: Path = DEFAULT_TLE_PATH) -> "Orbit":
        return cls.from_tle(path.read_text())

    def subpoint(self, when: datetime) -> tuple[float, float]:
        """The (latitude, longitude) in degrees of the point on Earth below the satellite."""
        jd, fraction = jday(
            when.year,
            when.month,
            when.day,
            when.hour,
            when.minute,
            when.second + when.microsecond / 1e6,
        )
        error, (x, y, z), _velocity = self.satellite.sgp4(jd, fraction)
        if error:
            raise OrbitError(SGP4_ERRORS[error])

        # SGP4 answers in TEME, a frame fixed to the stars. Turn it with the Earth, by
        # the Greenwich sidereal angle, to get Earth-fixed coordinates.
        theta = gstime(jd + fraction)
        x_earth = x * math.cos(theta) + y * math.sin(theta)
        y_earth = -x * math.sin(theta) + y * math.cos(theta)
        return geodetic_latitude(x_earth, y_earth, z), math.degrees(math.atan2(y_earth, x_earth))


def geodetic_latitude(x: float, y: float, z: float) -> float:
    """Latitude on the WGS84 ellipsoid of an Earth-fixed point, in degrees."""
    p = math.hypot(x, y)
    latitude = math.atan2(z, p * (1 - WGS84_E2))
    for _ in range(5):  # converges to well under a metre for a satellite's height
        n = WGS84_A / math.sqrt(1 - WGS84_E2 * math.sin(latitude) ** 2)
        latitude = math.atan2(z + WGS84_E2 * n * math.sin(latitude), p)
    return math.degrees(latitude)
