"""The geolocator's HTTP contract, its online source and its offline gazetteer."""

import logging
import time
from urllib.parse import urlparse

import pytest
from flask import Flask, abort, request

from geolocator import create_app
from geolocator.gazetteer import normalise

OFFLINE = {"OFFLINE": True}


class FakeNominatim:
    """Stands in for Nominatim and remembers the requests it received."""

    def __init__(self, status=200, results=None, delay=0.0):
        self.requests = []
        self.app = Flask("fake_nominatim")

        @self.app.get("/search")
        def search():
            self.requests.append((time.monotonic(), request.args["q"], request.user_agent.string))
            time.sleep(delay)
            if status != 200:
                abort(status)
            return (
                results
                if results is not None
                else [{"lat": "52.52", "lon": "13.40", "display_name": "Berlin, Deutschland"}]
            )


def online_app(serve, nominatim: FakeNominatim, **config) -> Flask:
    url = urlparse(serve(nominatim.app))
    return create_app({"NOMINATIM_DOMAIN": url.netloc, "NOMINATIM_SCHEME": url.scheme, **config})


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("Paris", "Paris, France"),
        ("  PARIS  ", "Paris, France"),
        ("sao paulo", "São Paulo, Brazil"),
        ("SÃO PAULO", "São Paulo, Brazil"),
        ("München", "Munich, Germany"),
        ("Munich", "Munich, Germany"),
        ("paris, us", "Paris, United States"),
        ("London, Canada", "London, Canada"),
        ("Japan", "Japan"),
    ],
)
def test_offline_gazetteer_finds_cities_and_countries(query, name):
    response = create_app(OFFLINE).test_client().get("/", query_string={"location": query})

    assert response.status_code == 200
    body = response.get_json()
    assert body["name"] == name
    assert body["source"] == "gazetteer"
    assert -90 <= body["latitude"] <= 90 and -180 <= body["longitude"] <= 180


def test_offline_coordinates_are_right():
    body = create_app(OFFLINE).test_client().get("/?location=Tokyo").get_json()
    assert body["latitude"] == pytest.approx(35.69, abs=0.05)
    assert body["longitude"] == pytest.approx(139.69, abs=0.05)


def test_a_country_sits_at_its_capital():
    client = create_app(OFFLINE).test_client()
    france = client.get("/?location=France").get_json()
    paris = client.get("/?location=Paris").get_json()
    assert (france["latitude"], france["longitude"]) == (paris["latitude"], paris["longitude"])


@pytest.mark.parametrize(
    ("query_string", "status"),
    [
        ({}, 400),
        ({"location": ""}, 400),
        ({"location": "   "}, 400),
        ({"location": "x" * 201}, 400),
        ({"location": "Atlantis-under-the-sea"}, 404),
        ({"location": "Paris, Nowhereland"}, 404),
        ({"location": "<script>alert(1)</script>"}, 404),
    ],
)
def test_bad_or_unknown_locations_get_a_clear_error(query_string, status):
    response = create_app(OFFLINE).test_client().get("/", query_string=query_string)

    assert response.status_code == status
    error = response.get_json()["error"]
    assert error and "<script>" not in error


def test_online_answers_come_from_nominatim(serve):
    nominatim = FakeNominatim()
    client = online_app(serve, nominatim).test_client()

    body = client.get("/?location=Berlin").get_json()

    assert body == {
        "name": "Berlin, Deutschland",
        "latitude": 52.52,
        "longitude": 13.40,
        "source": "nominatim",
    }
    _when, query, user_agent = nominatim.requests[0]
    assert query == "berlin"
    assert "opentelemetry-python-workshop" in user_agent  # Nominatim's usage policy


def test_nominatim_answers_are_cached(serve):
    nominatim = FakeNominatim()
    client = online_app(serve, nominatim).test_client()

    for query in ["Berlin", "berlin", "  BERLIN "]:
        assert client.get("/", query_string={"location": query}).status_code == 200

    assert len(nominatim.requests) == 1


def test_nominatim_gets_at_most_one_request_a_second_and_nobody_waits(serve):
    nominatim = FakeNominatim()
    client = online_app(serve, nominatim).test_client()
    client.get("/?location=Berlin")

    started = time.monotonic()
    too_soon = client.get("/?location=Hamburg").get_json()
    waited = time.monotonic() - started
    time.sleep(1)
    client.get("/?location=Munich")

    assert too_soon["source"] == "gazetteer" and waited < 0.5  # answered offline at once
    (first, *_), (second, second_query, _) = nominatim.requests
    assert second - first >= 0.95 and second_query == "munich"


def test_a_place_nominatim_does_not_know_is_a_404(serve):
    client = online_app(serve, FakeNominatim(results=[])).test_client()
    assert client.get("/?location=Paris").status_code == 404


@pytest.mark.parametrize(
    "nominatim",
    [FakeNominatim(status=503), FakeNominatim(delay=1.0)],
    ids=["server-error", "timeout"],
)
def test_a_failing_nominatim_falls_back_to_the_gazetteer(serve, nominatim):
    client = online_app(serve, nominatim, NOMINATIM_TIMEOUT_SECONDS=0.2).test_client()

    body = client.get("/?location=Paris").get_json()

    assert body["source"] == "gazetteer"
    assert body["name"] == "Paris, France"


def test_an_unreachable_nominatim_is_not_retried_on_every_request(serve):
    nominatim = FakeNominatim(status=503)
    client = online_app(serve, nominatim).test_client()

    for place in ["Paris", "Rome", "Oslo"]:
        assert client.get("/", query_string={"location": place}).get_json()["source"] == "gazetteer"

    assert len(nominatim.requests) == 1


def test_an_unreachable_nominatim_is_tried_once_and_no_log_line_quotes_the_place(
    closed_port_url, caplog
):
    """No internet, OFFLINE unset: the usual workshop room. The place typed is personal
    data (section 12): the service logs the kind of failure, and urllib3 no retries."""
    url = urlparse(closed_port_url)
    app = create_app({"NOMINATIM_DOMAIN": url.netloc, "NOMINATIM_SCHEME": url.scheme})
    caplog.set_level(logging.INFO)  # what the services log

    started = time.monotonic()
    body = app.test_client().get("/?location=Oslo").get_json()

    assert body["source"] == "gazetteer"
    assert time.monotonic() - started < 1  # one refused connection, no retries
    messages = [record.getMessage() for record in caplog.records]
    assert "Nominatim failed (GeocoderUnavailable); using the offline gazetteer" in messages
    assert [m for m in messages if "oslo" in m.casefold()] == []


def test_normalise_ignores_case_accents_and_spacing():
    assert normalise("  Zürich   Hauptbahnhof ") == "zurich hauptbahnhof"
    assert normalise("ÅLESUND") == normalise("alesund")
