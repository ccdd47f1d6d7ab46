"""The gateway combines the two backends and turns their failures into clear answers."""

import pytest

import geolocator
import iss_distance
from gateway import create_app
from tests.fakes import fixed_service, slow_service


@pytest.fixture
def backends(serve):
    """The real geolocator and ISS distance services, offline, on local ports."""
    return {
        "GEOLOCATOR_URL": serve(geolocator.create_app({"OFFLINE": True})),
        "ISS_DISTANCE_URL": serve(iss_distance.create_app({"OFFLINE": True})),
    }


def test_combines_the_place_and_the_iss_distance(backends):
    response = create_app(backends).test_client().get("/?location=Nairobi")

    assert response.status_code == 200
    body = response.get_json()
    assert body["place"]["name"] == "Nairobi, Kenya"
    assert body["iss"]["source"] == "sgp4"
    assert isinstance(body["iss"]["tle_age_days"], int)  # passed on, for the page to show
    assert 0 <= body["iss"]["distance"] <= 20_040  # at most half the way round the Earth


@pytest.mark.parametrize(
    ("location", "status", "error"),
    [
        ("", 400, "Give a place name, for example Paris."),
        ("x" * 300, 400, "A place name has at most 200 characters."),
        ("Atlantis-under-the-sea", 404, "No place of that name is known."),
    ],
)
def test_passes_on_the_geolocators_client_errors(backends, location, status, error):
    response = create_app(backends).test_client().get("/", query_string={"location": location})

    assert response.status_code == status
    assert response.get_json() == {"error": error}


def test_an_unreachable_geolocator_is_a_502(backends, closed_port_url):
    config = {**backends, "GEOLOCATOR_URL": closed_port_url}

    response = create_app(config).test_client().get("/?location=Paris")

    assert response.status_code == 502
    assert response.get_json() == {"error": "The geolocator is unreachable."}


def test_a_slow_iss_distance_service_is_a_504(backends, serve):
    config = {
        **backends,
        "ISS_DISTANCE_URL": serve(slow_service(2)),
        "REQUEST_BUDGET_SECONDS": 0.7,
    }

    response = create_app(config).test_client().get("/?location=Paris")

    assert response.status_code == 504
    assert response.get_json() == {"error": "The ISS distance service did not answer in time."}


@pytest.mark.parametrize(
    ("upstream", "error"),
    [
        (fixed_service(500), "The ISS distance service failed (HTTP 500)."),
        (
            fixed_service(200, "<html>not json</html>"),
            "The ISS distance service sent an answer that is not JSON.",
        ),
    ],
)
def test_a_broken_iss_distance_service_is_a_502(backends, serve, upstream, error):
    config = {**backends, "ISS_DISTANCE_URL": serve(upstream)}

    response = create_app(config).test_client().get("/?location=Paris")

    assert response.status_code == 502
    assert response.get_json() == {"error": error}


def test_a_geolocator_answer_without_coordinates_is_a_502(backends, serve):
    config = {**backends, "GEOLOCATOR_URL": serve(fixed_service(200, {"name": "Paris"}))}

    response = create_app(config).test_client().get("/?location=Paris")

    assert response.status_code == 502
