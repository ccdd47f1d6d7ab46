"""The docs' native links: each opens the very query its page shows (workshop/look_at.py).

These tests read the links back as a browser would (the URL's own parameters), so a
query edited in a page without its link, or a link edited by hand, fails here. What the
links show in a real browser is tested in tests/test_platform.py.
"""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from native.run_services import native_trace_ui
from native.run_stack import java_for_zipkin
from tests.grafana_queries import dashboard_queries
from tests.readme import blocks, body, section_pages
from workshop import look_at

LINK_UNDER = re.compile(r"\n[ \t]*Natively: \[[^\]]*\]\((?P<url>[^)]*)\)\.\n")


def opened_query(url: str) -> str:
    """The query a native UI runs from its address: Prometheus' first panel, or vmui's."""
    parts = urlsplit(url)
    if parts.path == "/query":
        return parse_qs(parts.query)["g0.expr"][0]
    assert parts.path == "/select/vmui/", url
    return parse_qs(urlsplit(parts.fragment).query)["query"][0]


def drifted(text: str) -> list[str]:
    """The page's PromQL and LogsQL blocks without a link under them to the same query."""
    wrong = []
    for language in look_at.VIEWS:
        for block in blocks(text, language):
            link = LINK_UNDER.match(text, block.end())
            if not link or opened_query(link["url"]) != body(block).strip():
                wrong.append(body(block).strip())
    return wrong


PAGES = list(section_pages().values())


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_each_query_shown_has_a_link_that_opens_that_query(page):
    assert drifted(page.read_text()) == []


def test_some_pages_have_queries_to_link():
    linked = [page for page in PAGES if LINK_UNDER.search(page.read_text())]
    assert len(linked) >= 8


def test_a_query_edited_without_its_link_is_caught():
    text = (section_pages()[1]).read_text()
    edited = text.replace("rate(iss_requests_total[1m])", "rate(iss_requests_total[5m])", 1)
    assert edited != text
    assert drifted(edited) == ["sum by (iss_position_source) (rate(iss_requests_total[5m]))"]
    assert drifted(look_at.with_links(edited)) == []  # which the generator mends


def test_a_block_without_a_link_is_caught():
    text = 'Run:\n\n```logsql\n{service.name="frontend"}\n```\n\nThen.\n'
    assert drifted(text) == ['{service.name="frontend"}']
    assert look_at.with_links(look_at.with_links(text)) == look_at.with_links(text)
    assert drifted(look_at.with_links(text)) == []


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_each_page_is_as_python_m_workshop_look_at_writes_it(page):
    assert look_at.with_links(page.read_text()) == page.read_text()


def opened_queries(url: str) -> list[str]:
    params = parse_qs(urlsplit(url).query)
    return [params[f"g{n}.expr"][0] for n in range(len(params)) if f"g{n}.expr" in params]


def test_section_6_links_every_prometheus_query_of_the_dashboard():
    text = section_pages()[6].read_text().split(look_at.DASHBOARD_LIST, 1)[1].split("\n\n")[0]
    linked = [q for url in re.findall(r"\]\((http://127.0.0.1:9090/query\?[^)]*)\)", text)
              for q in opened_queries(url)]  # fmt: skip
    shown = [q.replace("$learner", ".*") for kind, q in dashboard_queries() if kind == "prometheus"]
    assert len(shown) >= 10
    assert set(linked) == set(shown)


def test_alert_descriptions_name_what_both_platforms_have():
    rules = yaml.safe_load((look_at.ROOT / "platform" / "prometheus" / "alerts.yml").read_text())
    for rule in [rule for group in rules["groups"] for rule in group["rules"]]:
        description = rule["annotations"]["description"]
        assert "Prometheus" in description and "Zipkin" in description, rule["alert"]
        assert "Dashboard" not in description and "panel" not in description, rule["alert"]


ZIPKIN_PAGES = re.compile(r"http://127\.0\.0\.1:9411/zipkin/(?:dependency)?\?[^\s`)<>]*")


def test_the_docs_zipkin_searches_are_as_look_at_writes_them():
    """Zipkin's pages search from their address only with a time range: each search and
    dependencies address of the docs is the one workshop/look_at.py builds."""
    found = ZIPKIN_PAGES.findall("\n".join(page.read_text() for page in PAGES))
    assert len(found) >= 8
    for url in found:
        params = {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}
        if urlsplit(url).path.endswith("/dependency"):
            assert url == look_at.zipkin_dependencies()
        else:
            rebuilt = look_at.zipkin_search(
                params["serviceName"],
                params.get("spanName", ""),
                params.get("annotationQuery", ""),
                int(params["limit"]),
            )
            assert url == rebuilt


def test_natively_the_page_links_to_zipkin_or_without_java_to_jaegers_api():
    assert look_at.trace_ui(java=True) == (
        "http://127.0.0.1:9411/zipkin/traces/{trace_id}",
        "Zipkin",
    )
    assert look_at.trace_ui(java=False) == (
        "http://127.0.0.1:16686/api/traces/{trace_id}",
        "Jaeger's API",
    )
    java, _why_not = java_for_zipkin()
    assert native_trace_ui() == look_at.trace_ui(java=java is not None)
