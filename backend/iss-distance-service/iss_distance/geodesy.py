"""Distances along the Earth's surface."""

from geographiclib.geodesic import Geodesic


def surface_distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The shortest distance between two points on the WGS84 ellipsoid (a geodesic)."""
    return Geodesic.WGS84.Inverse(lat1, lon1, lat2, lon2)["s12"] / 1000
