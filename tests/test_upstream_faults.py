"""Upstreams that misbehave on real sockets: every request still ends by its deadline,
with a status and a message that say what went wrong and where."""

import math
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from flask import Flask, request

import gateway
import geolocator
import iss_distance
import webapp
from harness.raw_upstreams import (
    answers,
    answers_json,
    answers_json_after,
    never_answers,
    raw_upstream,
    sends_a_huge_body,
    sends_garbage,
    trickles,
)

BUDGET = 1.0  # the gateway's whole budget per request, in seconds
PLACE = {"name": "Paris, France", "latitude": 48.85, "longitude": 2.35, "source": "gazetteer"}
ISS = {
    "distance": 1234.5,
    "location": {"latitude": 10.0, "longitude": 20.0},
    "source": "sgp4",
    "time": "2026-11-21T12:00:00+00:00",
    "tle_age_days": 69,
}
TOO_SLOW = "The ISS distance service did not answer in time."


@pytest.fixture(scope="module")
def geolocator_url(serve_with_waitress):
    """The real geolocator, offline, under waitress, shared by this module's tests."""
    host, port = serve_with_waitress(geolocator.create_app({"OFFLINE": True}))
    return f"http://{host}:{port}"


def ask_gateway(geolocator_url: str, iss_url: str, budget: float = BUDGET):
    app = gateway.create_app(
        {
            "GEOLOCATOR_URL": geolocator_url,
            "ISS_DISTANCE_URL": iss_url,
            "REQUEST_BUDGET_SECONDS": budget,
        }
    )
    started = time.monotonic()
    response = app.test_client().get("/?location=Paris")
    return response, time.monotonic() - started


def failed(status: int) -> str:
    return f"The ISS distance service failed (HTTP {status})."


INVALID = "The ISS distance service sent an invalid answer."
OUT_OF_RANGE = ISS | {"location": {"latitude": 91, "longitude": 0}}


@pytest.mark.parametrize(
    ("behaviour", "status", "error"),
    [
        pytest.param(never_answers, 504, TOO_SLOW, id="never-answers"),
        pytest.param(trickles, 504, TOO_SLOW, id="trickles"),
        pytest.param(sends_garbage, 502, "The ISS distance service is unreachable.", id="garbage"),
        pytest.param(
            answers(200, b"\x00garbage"),
            502,
            "The ISS distance service sent an answer that is not JSON.",
            id="not-json",
        ),
        pytest.param(answers_json(200, ISS | {"distance": math.nan}), 502, INVALID, id="nan"),
        pytest.param(answers_json(200, ISS | {"distance": "NaN"}), 502, INVALID, id="nan-text"),
        pytest.param(answers_json(200, OUT_OF_RANGE), 502, INVALID, id="out-of-range"),
        pytest.param(answers_json(200, [ISS]), 502, INVALID, id="not-an-object"),
        pytest.param(answers_json(200, ISS | {"source": []}), 502, INVALID, id="source-a-list"),
        pytest.param(
            answers_json(200, ISS | {"tle_age_days": "<b>69</b>"}), 502, INVALID, id="age-markup"
        ),
        pytest.param(answers_json(200, ISS | {"tle_age_days": 6.9}), 502, INVALID, id="age-float"),
        pytest.param(
            answers_json(200, ISS | {"source": "api"}), 502, INVALID, id="age-of-a-live-position"
        ),
        pytest.param(
            answers_json(200, {k: v for k, v in ISS.items() if k != "tle_age_days"}),
            502,
            INVALID,
            id="offline-without-its-age",
        ),
        pytest.param(
            sends_a_huge_body,
            502,
            "The ISS distance service sent an answer that is too big.",
            id="huge-body",
        ),
        pytest.param(answers_json(418, {"error": "I'm a teapot"}), 502, failed(418), id="418"),
        pytest.param(answers_json(401, {"error": "Log in first"}), 502, failed(401), id="401"),
        pytest.param(answers_json(500, {"error": "Traceback..."}), 502, failed(500), id="500"),
        pytest.param(answers_json(400, {"error": "Bad latitude."}), 400, "Bad latitude.", id="400"),
        pytest.param(
            answers_json(404, {"error": "x" * 5000}),
            404,
            "The ISS distance service could not answer.",
            id="404-with-a-long-message",
        ),
    ],
)
def test_a_misbehaving_upstream_ends_in_time_with_a_clear_error(
    geolocator_url, behaviour, status, error
):
    with raw_upstream(behaviour) as iss_url:
        response, elapsed = ask_gateway(geolocator_url, iss_url)

    assert (response.status_code, response.get_json()) == (status, {"error": error})
    assert elapsed < BUDGET + 0.5


def test_two_slow_upstreams_end_at_the_deadline_naming_the_second(geolocator_url):
    slow_place = answers_json_after(0.6, PLACE)
    slow_iss = answers_json_after(0.6, ISS)
    with raw_upstream(slow_place) as place_url, raw_upstream(slow_iss) as iss_url:
        # Each answers well within the budget; together they would take 1.2 s.
        response, elapsed = ask_gateway(place_url, iss_url)

    assert (response.status_code, response.get_json()) == (504, {"error": TOO_SLOW})
    assert elapsed < BUDGET + 0.3


def test_the_frontend_shows_which_dependency_was_slow(serve, geolocator_url):
    with raw_upstream(trickles) as iss_url:
        config = {"GEOLOCATOR_URL": geolocator_url, "ISS_DISTANCE_URL": iss_url}
        frontend = webapp.create_app(
            {"GATEWAY_URL": serve(gateway.create_app(config)), "REQUEST_BUDGET_SECONDS": 1.5}
        )
        started = time.monotonic()
        response = frontend.test_client().post("/", data={"location": "Paris"})
        elapsed = time.monotonic() - started

    # The gateway's deadline came from the frontend's, so the gateway answered first.
    assert response.status_code == 504
    assert TOO_SLOW in response.get_data(as_text=True)
    assert elapsed < 1.5 + 0.5


def test_the_frontend_names_an_unreachable_geolocator(serve, closed_port_url):
    config = {"GEOLOCATOR_URL": closed_port_url, "ISS_DISTANCE_URL": closed_port_url}
    frontend = webapp.create_app({"GATEWAY_URL": serve(gateway.create_app(config))})

    response = frontend.test_client().post("/", data={"location": "Paris"})

    # The gateway's own words, not "The gateway failed (HTTP 502)."
    assert response.status_code == 502
    assert "The geolocator is unreachable." in response.get_data(as_text=True)


def test_the_deadline_travels_in_a_header(serve):
    seen = []
    echo = Flask("echo")

    @echo.get("/")
    def remember():
        seen.append(int(request.headers["X-Request-Budget-Ms"]))
        return ISS

    frontend = webapp.create_app({"GATEWAY_URL": serve(echo), "REQUEST_BUDGET_SECONDS": 3})
    frontend.test_client().post("/", data={"location": "Paris"})

    # 3 s, less a margin for the frontend's own wait and one for the gateway's answer.
    assert 2000 < seen[0] <= 2600


@pytest.mark.parametrize("behaviour", [trickles, never_answers, sends_a_huge_body])
def test_a_misbehaving_iss_api_falls_back_to_sgp4_in_time(behaviour):
    with raw_upstream(behaviour) as api_url:
        app = iss_distance.create_app({"ISS_API_URL": api_url, "ISS_API_TIMEOUT_SECONDS": 0.5})
        started = time.monotonic()
        body = app.test_client().get("/?latitude=0&longitude=0").get_json()
        elapsed = time.monotonic() - started

    assert body["source"] == "sgp4"
    assert elapsed < 0.5 + 0.5


def test_a_real_client_sees_the_same(serve_with_waitress, geolocator_url):
    with raw_upstream(never_answers) as iss_url:
        config = {"GEOLOCATOR_URL": geolocator_url, "ISS_DISTANCE_URL": iss_url}
        host, port = serve_with_waitress(
            gateway.create_app(config | {"REQUEST_BUDGET_SECONDS": BUDGET})
        )
        response = requests.get(f"http://{host}:{port}/?location=Paris", timeout=5)

    assert response.status_code == 504
    assert response.json() == {"error": TOO_SLOW}


def test_only_one_request_waits_for_a_silent_online_source(serve_with_waitress):
    with raw_upstream(never_answers) as api_url:
        app = iss_distance.create_app({"ISS_API_URL": api_url, "ISS_API_TIMEOUT_SECONDS": 1})
        host, port = serve_with_waitress(app)

        def timed_request(_):
            started = time.monotonic()
            body = requests.get(f"http://{host}:{port}/?latitude=1&longitude=2", timeout=5).json()
            return body["source"], time.monotonic() - started

        with ThreadPoolExecutor(4) as pool:
            answers = sorted(pool.map(timed_request, range(4)), key=lambda answer: answer[1])

    assert [source for source, _ in answers] == ["sgp4"] * 4
    *at_once, waited = [seconds for _, seconds in answers]
    assert max(at_once) < 0.5  # answered offline while one request tried the API
    assert waited < 1 + 0.5
