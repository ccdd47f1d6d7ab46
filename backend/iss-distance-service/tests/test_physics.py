"""The orbit and distance computations, checked against independent references."""

from datetime import UTC, datetime, timedelta

import pytest
from pyproj import Geod
from skyfield.api import EarthSatellite, load, wgs84

from iss_distance.geodesy import surface_distance_km
from iss_distance.orbit import DEFAULT_TLE_PATH, Orbit, OrbitError

TLE = DEFAULT_TLE_PATH.read_text()


@pytest.mark.parametrize("hours_after_epoch", [0, 0.37, 1.5, 6, 24, 24 * 7, 24 * 30])
def test_subpoint_matches_skyfield(hours_after_epoch):
    """Skyfield does its own frame conversions; the two must agree to within a kilometre."""
    orbit = Orbit.from_tle(TLE)
    when = orbit.epoch + timedelta(hours=hours_after_epoch)
    _name, line1, line2 = TLE.strip().splitlines()
    timescale = load.timescale(builtin=True)
    reference = wgs84.subpoint_of(EarthSatellite(line1, line2).at(timescale.from_datetime(when)))

    latitude, longitude = orbit.subpoint(when)

    km = surface_distance_km(
        latitude, longitude, reference.latitude.degrees, reference.longitude.degrees
    )
    assert km < 1.0


def test_tle_epoch_is_read():
    # Day 259.85263506 of 2026 is 16 September, 20:27:47.67 UTC.
    epoch = Orbit.from_tle(TLE).epoch
    assert abs(epoch - datetime(2026, 9, 16, 20, 27, 47, 670000, UTC)) < timedelta(milliseconds=1)


def test_a_tle_without_its_two_lines_is_refused():
    with pytest.raises(OrbitError):
        Orbit.from_tle("ISS (ZARYA)\nnot a TLE\nat all")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ((48.8566, 2.3522), (40.7128, -74.0060)),  # Paris - New York
        ((-33.8688, 151.2093), (51.5074, -0.1278)),  # Sydney - London
        ((0.0, 0.0), (0.0, 179.5)),  # nearly antipodal on the equator
        ((90.0, 0.0), (-90.0, 0.0)),  # pole to pole
        ((10.0, 179.9), (10.0, -179.9)),  # across the antimeridian
    ],
)
def test_distance_matches_proj(a, b):
    expected = Geod(ellps="WGS84").inv(a[1], a[0], b[1], b[0])[2] / 1000
    assert surface_distance_km(*a, *b) == pytest.approx(expected, abs=1e-3)


def test_known_distances():
    # Paris - New York: 5852.9 km on the ellipsoid; a sphere (haversine) would say 5837 km.
    assert surface_distance_km(48.8566, 2.3522, 40.7128, -74.0060) == pytest.approx(5852.9, abs=0.1)
    assert surface_distance_km(90, 0, -90, 0) == pytest.approx(20003.93, abs=0.01)  # meridian arc
