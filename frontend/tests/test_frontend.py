"""The page: the form, the answer, friendly errors, and nothing unescaped."""

import re

import pytest

from tests.fakes import GATEWAY_ANSWER, fixed_service, slow_service
from webapp import create_app
from webapp.answer import Answer


def frontend_with(serve, gateway) -> object:
    return create_app({"GATEWAY_URL": serve(gateway), "REQUEST_BUDGET_SECONDS": 0.9}).test_client()


def test_the_form_is_shown():
    response = create_app().test_client().get("/")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<form method="post"' in html
    assert 'name="location"' in html


def test_an_answer_shows_distance_place_map_and_trace_id(serve):
    client = frontend_with(serve, fixed_service(200, GATEWAY_ANSWER))

    response = client.post("/", data={"location": "Nairobi"})

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<strong id="distance">4,321 km</strong>' in html
    assert "Nairobi, Kenya" in html
    assert "computed offline with SGP4" in html
    assert "computed offline from orbital elements 69 days old" in html
    # Map markers: x = longitude + 180, y = 90 - latitude.
    assert 'cx="216.82" cy="91.28"' in html
    assert 'cx="159.75" cy="59.5"' in html
    assert re.search(r'<code id="trace-id">[0-9a-f]{32}</code>', html)


def page_with_trace_ui(serve, **settings) -> str:
    client = create_app({"GATEWAY_URL": serve(fixed_service(200, GATEWAY_ANSWER)), **settings})
    return client.test_client().post("/", data={"location": "Nairobi"}).get_data(as_text=True)


def test_the_trace_id_links_to_its_trace_in_the_trace_ui_named_on_the_page(serve):
    html = page_with_trace_ui(
        serve,
        TRACE_UI_URL="http://127.0.0.1:9411/zipkin/traces/{trace_id}",
        TRACE_UI_NAME="Zipkin",
    )

    trace_id = re.search(r'<code id="trace-id">([0-9a-f]{32})</code>', html)[1]
    assert f'<a id="trace-link" href="http://127.0.0.1:9411/zipkin/traces/{trace_id}">' in html
    assert "Open it in Zipkin to see this request." in html
    assert "Grafana" not in html


def test_grafanas_explore_state_is_percent_encoded_in_the_link(serve):
    template = 'http://127.0.0.1:3000/explore?panes={"a":{"queries":[{"query":"{trace_id}"}]}}'
    html = page_with_trace_ui(serve, TRACE_UI_URL=template, TRACE_UI_NAME="Grafana's Explore")

    trace_id = re.search(r'<code id="trace-id">([0-9a-f]{32})</code>', html)[1]
    href = re.search(r'<a id="trace-link" href="([^"]*)"', html)[1]
    assert href == (
        "http://127.0.0.1:3000/explore?panes="
        f"%7B%22a%22:%7B%22queries%22:[%7B%22query%22:%22{trace_id}%22%7D]%7D%7D"
    )
    assert "Open it in Grafana&#39;s Explore to see this request." in html


@pytest.mark.parametrize("template", ["", "javascript:alert(1)//{trace_id}", "/{trace_id}"])
def test_without_a_web_address_the_trace_id_is_plain_text(serve, template):
    html = page_with_trace_ui(serve, TRACE_UI_URL=template, TRACE_UI_NAME="Zipkin")

    assert re.search(r'<code id="trace-id">[0-9a-f]{32}</code>', html)
    assert "trace-link" not in html and "javascript" not in html
    assert "Look it up in your trace UI to see this request." in html


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ("", "Give a place name, for example Paris."),
        ("   ", "Give a place name, for example Paris."),
        ("x" * 201, "A place name has at most 200 characters."),
    ],
)
def test_bad_input_gets_a_friendly_400(location, message):
    response = create_app().test_client().post("/", data={"location": location})

    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_input_is_escaped_in_the_page(serve):
    client = frontend_with(serve, fixed_service(404, {"error": "No place of that name is known."}))

    response = client.post("/", data={"location": '"><script>alert(1)</script>'})

    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "No place of that name is known." in html


def test_a_live_position_has_no_age(serve):
    live = GATEWAY_ANSWER | {"iss": GATEWAY_ANSWER["iss"] | {"source": "api"}}
    del live["iss"]["tle_age_days"]
    client = frontend_with(serve, fixed_service(200, live))

    html = client.post("/", data={"location": "Nairobi"}).get_data(as_text=True)

    assert "live from the ISS position API" in html
    assert "orbital elements" not in html


@pytest.mark.parametrize(("days", "words"), [(0, "0 days"), (1, "1 day"), (69, "69 days")])
def test_the_age_is_said_in_words(days, words):
    offline = GATEWAY_ANSWER | {"iss": GATEWAY_ANSWER["iss"] | {"tle_age_days": days}}

    assert Answer.from_gateway(offline).tle_age == words


def test_an_age_that_is_not_a_number_is_refused_not_shown(serve):
    markup = GATEWAY_ANSWER | {"iss": GATEWAY_ANSWER["iss"] | {"tle_age_days": "<b>69</b>"}}
    client = frontend_with(serve, fixed_service(200, markup))

    response = client.post("/", data={"location": "Nairobi"})

    assert response.status_code == 502
    html = response.get_data(as_text=True)
    assert "The gateway sent an invalid answer." in html
    assert "<b>69</b>" not in html


@pytest.mark.parametrize(
    ("gateway", "status", "message"),
    [
        (slow_service(2), 504, "The gateway did not answer in time."),
        (fixed_service(503), 503, "The gateway failed (HTTP 503)."),
        (fixed_service(500), 502, "The gateway failed (HTTP 500)."),
        (fixed_service(200, {"place": {}}), 502, "The gateway sent an invalid answer."),
    ],
)
def test_gateway_failures_are_explained(serve, gateway, status, message):
    response = frontend_with(serve, gateway).post("/", data={"location": "Paris"})

    assert response.status_code == status
    assert message in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (502, "The geolocator is unreachable."),
        (503, "The geolocator is busy with other requests. Try again in a moment."),
        (504, "The ISS distance service did not answer in time."),
    ],
)
def test_the_page_names_the_service_that_failed_further_down(serve, status, message):
    client = frontend_with(serve, fixed_service(status, {"error": message}))

    response = client.post("/", data={"location": "Paris"})

    assert response.status_code == status
    assert f'<p class="error" role="alert">{message}</p>' in response.get_data(as_text=True)


def test_an_unreachable_gateway_is_explained(closed_port_url):
    client = create_app({"GATEWAY_URL": closed_port_url}).test_client()

    response = client.post("/", data={"location": "Paris"})

    assert response.status_code == 502
    assert "The gateway is unreachable." in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/", "/nowhere", "/static/style.css"])
def test_every_answer_carries_the_security_headers(path):
    response = create_app().test_client().get(path)

    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"


@pytest.mark.parametrize("path", ["//", "/static//style.css", "/healthz/"])
def test_no_redirect_is_built_from_the_host_header(path):
    response = create_app().test_client().get(path, headers={"Host": "evil.example"})

    assert response.status_code in {200, 404}
    assert "Location" not in response.headers
