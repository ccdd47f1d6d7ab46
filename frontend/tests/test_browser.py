"""The page in a real browser: Debian's Chromium, driven by Playwright (tests/chromium.py)."""

import re

import pytest

import gateway
import geolocator
import iss_distance
import webapp
from tests.chromium import chromium, screenshot
from workshop import look_at

# A platform test (pyproject.toml): it needs Chromium.
pytestmark = pytest.mark.platform


@pytest.fixture
def frontend_url(serve):
    """The four services, offline, on local ports."""
    config = {
        "GEOLOCATOR_URL": serve(geolocator.create_app({"OFFLINE": True})),
        "ISS_DISTANCE_URL": serve(iss_distance.create_app({"OFFLINE": True})),
    }
    # The page links its trace to Zipkin, as `make run` sets it up natively.
    trace_ui_url, trace_ui_name = look_at.trace_ui(java=True)
    return serve(
        webapp.create_app(
            {
                "GATEWAY_URL": serve(gateway.create_app(config)),
                "TRACE_UI_URL": trace_ui_url,
                "TRACE_UI_NAME": trace_ui_name,
            }
        )
    )


@pytest.fixture
def page():
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1100, "height": 1000})
        # Collect what the Content-Security-Policy blocks; Chromium reports it both ways.
        page.violations = []
        page.on(
            "console",
            lambda m: "Content Security Policy" in m.text and page.violations.append(m.text),
        )
        page.expose_function("reportViolation", lambda text: page.violations.append(text))
        page.add_init_script(
            "document.addEventListener('securitypolicyviolation',"
            " e => reportViolation(e.violatedDirective + ' ' + e.blockedURI))"
        )
        yield page


def test_a_learner_finds_the_iss_from_a_place(page, frontend_url):
    page.goto(frontend_url)
    page.fill("#location", "Reykjavik")
    page.click("button[type=submit]")

    distance = page.locator("#distance")
    assert re.fullmatch(r"[\d,]+ km", distance.inner_text())
    assert page.locator("#place").inner_text() == "Reykjavík, Iceland"
    trace_id = page.locator("#trace-id").inner_text()
    assert re.fullmatch(r"[0-9a-f]{32}", trace_id)
    # The trace id links to the trace in Zipkin, and the text names it.
    link = page.locator("#trace-link").get_attribute("href")
    assert link.startswith(look_at.ZIPKIN) and trace_id in link
    assert "Open it in Zipkin" in page.locator("main").inner_text()
    # The offline world map really draws: the land outline has a size on the page.
    land = page.locator("svg.map use").bounding_box()
    assert land and land["width"] > 500
    assert page.locator("svg.map circle").count() == 2
    # The page, its stylesheet and its map keep to the strict Content-Security-Policy.
    assert page.violations == []

    screenshot(page, "frontend")


# A common laptop screen, and a phone held upright.
@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)])
def test_the_answer_and_its_trace_id_show_without_scrolling(page, frontend_url, width, height):
    page.set_viewport_size({"width": width, "height": height})
    page.goto(frontend_url)
    page.fill("#location", "Reykjavik")
    page.click("button[type=submit]")

    # The answer, and the trace id with its hint, at the first glance.
    for element in ("#distance", "#place", "#trace-id", ".trace"):
        box = page.locator(element).bounding_box()
        assert box, f"{element} is not shown"
        left, top = box["x"], box["y"]
        assert left >= 0 and left + box["width"] <= width, f"{element} is off to a side"
        assert top >= 0 and top + box["height"] <= height, f"{element} is below the fold"
    assert page.evaluate("window.scrollY") == 0
    assert page.violations == []


def test_an_unknown_place_gets_a_friendly_message(page, frontend_url):
    page.goto(frontend_url)
    page.fill("#location", "<img src=x onerror=alert(1)>")
    page.click("button[type=submit]")

    assert page.locator("[role=alert]").inner_text() == "No place of that name is known."
    assert page.locator("#location").input_value() == "<img src=x onerror=alert(1)>"
    assert page.locator("img").count() == 0  # shown as text, never as markup
