"""What the services' answers must look like. A caller checks every answer it gets
against these, so a broken upstream becomes a clear 502, not "nan km" on the page."""

import math

# Half the way round the Earth, the furthest two points on its surface can be.
MAX_SURFACE_DISTANCE_KM = 20_040
MAX_NAME_LENGTH = 500
# SGP4 drifts by kilometres within days, but the bundled orbital elements keep answering
# offline for as long as the workshop lives. A century rules out only nonsense.
MAX_TLE_AGE_DAYS = 36_500


class ContractError(ValueError):
    """An answer that breaks its contract."""


def check_place(answer: object) -> dict:
    """The geolocator's answer: {"name", "latitude", "longitude", "source"}."""
    check_point(answer)
    _check_text(answer.get("name"), "name")
    _check_choice(answer.get("source"), {"nominatim", "gazetteer"}, "source")
    return answer


def check_iss(answer: object) -> dict:
    """The ISS distance service's answer: {"distance", "location", "source", "time"},
    and "tle_age_days" when the position was computed offline (source "sgp4")."""
    _check_object(answer)
    check_number(answer.get("distance"), 0, MAX_SURFACE_DISTANCE_KM, "distance")
    check_point(answer.get("location"))
    _check_choice(answer.get("source"), {"api", "sgp4"}, "source")
    _check_text(answer.get("time"), "time")
    if answer["source"] == "sgp4":
        check_whole_number(answer.get("tle_age_days"), 0, MAX_TLE_AGE_DAYS, "tle_age_days")
    elif "tle_age_days" in answer:
        raise ContractError("tle_age_days is only for a position computed offline")
    return answer


def check_point(point: object) -> None:
    """{"latitude": .., "longitude": .., ...}, in degrees."""
    _check_object(point)
    check_number(point.get("latitude"), -90, 90, "latitude")
    check_number(point.get("longitude"), -180, 180, "longitude")


def check_number(value: object, low: float, high: float, field: str) -> None:
    # bool is an int in Python, but true is no distance.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ContractError(f"{field} is not a number")
    if not (math.isfinite(value) and low <= value <= high):
        raise ContractError(f"{field} is out of range")


def check_whole_number(value: object, low: int, high: int, field: str) -> None:
    check_number(value, low, high, field)
    if not isinstance(value, int):
        raise ContractError(f"{field} is not a whole number")


def check_gateway_answer(answer: object) -> dict:
    """The gateway's answer: {"place": <a place>, "iss": <an ISS distance>}."""
    _check_object(answer)
    check_place(answer.get("place"))
    check_iss(answer.get("iss"))
    return answer


def _check_object(value: object) -> None:
    if not isinstance(value, dict):
        raise ContractError("not an object")


def _check_text(value: object, field: str) -> None:
    if not isinstance(value, str) or not 0 < len(value) <= MAX_NAME_LENGTH:
        raise ContractError(f"{field} is not a short text")


def _check_choice(value: object, choices: set[str], field: str) -> None:
    # Only a string can be in a set of strings; `[] in choices` would raise TypeError.
    if not isinstance(value, str) or value not in choices:
        raise ContractError(f"{field} is not one of {sorted(choices)}")
