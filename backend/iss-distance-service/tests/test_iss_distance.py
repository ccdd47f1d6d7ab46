"""The ISS distance service's HTTP contract, its data sources and its telemetry."""

import time
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask, abort
from pyproj import Geod

from common.deadline import Deadline
from iss_distance import create_app
from iss_distance.orbit import DEFAULT_TLE_PATH, Orbit
from iss_distance.position import IssTracker

OFFLINE = {"OFFLINE": True}
TLE_EPOCH = Orbit.from_file(DEFAULT_TLE_PATH).epoch  # when the bundled elements held


def fake_iss_api(latitude=10.0, longitude=20.0, status=200, body=None, delay=0.0) -> Flask:
    """Stands in for the public ISS position API."""
    api = Flask("fake_iss_api")

    @api.get("/")
    def position():
        time.sleep(delay)
        if status != 200:
            abort(status)
        if body is not None:
            return body
        return {"latitude": latitude, "longitude": longitude, "timestamp": 1_790_000_000}

    return api


def wgs84_km(lat1, lon1, lat2, lon2) -> float:
    """An independent geodesic computation (PROJ), to check ours against."""
    return Geod(ellps="WGS84").inv(lon1, lat1, lon2, lat2)[2] / 1000


def test_distance_from_a_point_to_the_iss_offline():
    client = create_app(OFFLINE).test_client()

    response = client.get("/?latitude=48.8566&longitude=2.3522")

    assert response.status_code == 200
    body = response.get_json()
    assert body["source"] == "sgp4"
    assert body["tle_age_days"] == (datetime.now(UTC) - TLE_EPOCH).days
    iss = body["location"]
    assert -52 <= iss["latitude"] <= 52  # the ISS orbit is inclined at 51.6 degrees
    assert -180 <= iss["longitude"] <= 180
    expected = wgs84_km(48.8566, 2.3522, iss["latitude"], iss["longitude"])
    assert body["distance"] == pytest.approx(expected, abs=0.1)


def test_position_and_distance_come_from_the_api_when_it_answers(serve):
    api_url = serve(fake_iss_api(latitude=-33.0, longitude=151.0))
    client = create_app({"ISS_API_URL": api_url}).test_client()

    body = client.get("/?latitude=51.5&longitude=-0.12").get_json()

    assert body["source"] == "api"
    assert "tle_age_days" not in body  # live: no orbital elements involved
    assert body["location"] == {"latitude": -33.0, "longitude": 151.0}
    assert body["distance"] == pytest.approx(wgs84_km(51.5, -0.12, -33.0, 151.0), abs=0.1)


@pytest.mark.parametrize(
    ("api", "error_type"),
    [
        (fake_iss_api(status=503), "503"),
        (fake_iss_api(body="not json"), "InvalidJSON"),
        (fake_iss_api(body={"latitude": "north"}), "ContractError"),
        (fake_iss_api(latitude=95.0), "ContractError"),
        (fake_iss_api(delay=1.0), "ReadTimeout"),  # slower than the 0.5 s timeout below
    ],
    ids=["server-error", "not-json", "malformed", "out-of-range", "timeout"],
)
def test_a_failing_api_falls_back_to_sgp4_visibly(serve, telemetry, api, error_type):
    app = create_app({"ISS_API_URL": serve(api), "ISS_API_TIMEOUT_SECONDS": 0.5})
    failed = {"iss.position.source": "api", "error.type": error_type}
    failures_before = telemetry.count("iss.requests", failed)

    body = app.test_client().get("/?latitude=0&longitude=0").get_json()

    assert body["source"] == "sgp4"
    assert telemetry.count("iss.requests", failed) == failures_before + 1
    assert any("SGP4" in str(log.body) for log in telemetry.logs())


def test_an_unreachable_api_is_not_retried_on_every_request(closed_port_url, telemetry):
    client = create_app({"ISS_API_URL": closed_port_url}).test_client()
    api_calls_before = telemetry.count("iss.requests", {"iss.position.source": "api"})

    sources = [client.get("/?latitude=0&longitude=0").get_json()["source"] for _ in range(3)]

    assert sources == ["sgp4"] * 3
    assert telemetry.count("iss.requests", {"iss.position.source": "api"}) == api_calls_before + 1


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "'latitude' is required."),
        ("latitude=1", "'longitude' is required."),
        ("latitude=%20&longitude=1", "'latitude' is required."),
        ("latitude=north&longitude=1", "'latitude' must be a decimal number, such as 48.85."),
        ("latitude=nan&longitude=1", "'latitude' must be a decimal number, such as 48.85."),
        ("latitude=inf&longitude=1", "'latitude' must be a decimal number, such as 48.85."),
        ("latitude=1e309&longitude=1", "'latitude' must be a decimal number, such as 48.85."),
        ("latitude=90.5&longitude=1", "'latitude' must be between -90 and 90."),
        ("latitude=1&longitude=-180.01", "'longitude' must be between -180 and 180."),
        (
            "latitude=1&longitude=" + "9" * 400,
            "'longitude' must be a decimal number, such as 48.85.",
        ),
    ],
)
def test_bad_coordinates_get_a_clear_400(query, message):
    response = create_app(OFFLINE).test_client().get(f"/?{query}")

    assert response.status_code == 400
    assert response.get_json() == {"error": message}


def test_the_poles_and_the_antimeridian_are_valid():
    client = create_app(OFFLINE).test_client()
    for query in ["latitude=90&longitude=180", "latitude=-90&longitude=-180"]:
        assert client.get(f"/?{query}").status_code == 200


def test_unknown_paths_and_methods_answer_json():
    client = create_app(OFFLINE).test_client()

    not_found = client.get("/nowhere")
    wrong_method = client.post("/")

    assert not_found.status_code == 404
    assert "error" in not_found.get_json()
    assert wrong_method.status_code == 405
    assert "error" in wrong_method.get_json()


def test_health_endpoint_answers_without_tracing(telemetry):
    response = create_app(OFFLINE).test_client().get("/healthz")

    assert response.get_json() == {"status": "ok"}
    assert telemetry.spans() == ()


class ElementsOfLastYear:
    """Orbital elements a year old, wherever the ISS is."""

    epoch = datetime.now(UTC) - timedelta(days=365)

    def subpoint(self, when):
        return 0.0, 0.0


def test_a_stale_tle_is_reported_once_not_on_every_request(telemetry):
    tracker = IssTracker(ElementsOfLastYear(), online=False)

    ages = [tracker.position(Deadline(5)).tle_age_days for _ in range(3)]

    assert ages == [365] * 3  # every answer says how old its elements are
    warnings = [log for log in telemetry.logs() if "make update-tle" in str(log.body)]
    assert len(warnings) == 1
