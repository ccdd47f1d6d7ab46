"""Section 12: once the collector removes it, the place a user types reaches no backend.

A made-up place, unique to each path, is submitted through the form on each of the
geolocator's three paths:

- offline (OFFLINE=true): the geolocator asks only its gazetteer. The place travels in
  the URLs that the frontend and the gateway call (`?location=`), which the HTTP
  instrumentations record on their spans.
- online: the geolocator asks Nominatim (a stand-in on loopback, run by the test), with
  the place in its own URL (`?q=`), recorded on the client span.
- online but failing (OFFLINE unset, no internet: the usual workshop room): the call to
  Nominatim fails, and the failure quotes the URL in the span's status and exception
  event. The services themselves log no URL (the geolocator logs the kind of failure,
  and urllib3 makes no retries to log); a log line that quotes one, as an access log or
  a library would, is sent to the collector beside them.

Then every native backend is searched for the place: Jaeger (the whole trace, every
attribute and event, and its search by tag), VictoriaLogs (every field of every record)
and Prometheus (every label of every series, and the exemplars).

With the collector config at the start of section 12 the place is found on every path,
so the search can fail, and `make check SECTION=12` fails (on the failing path, the
plausible decoy); with the finished config it is found nowhere, `location=REDACTED` and
`q=REDACTED` are where it was, and the check passes.
"""

import json
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask, request
from opentelemetry._logs import LogRecord
from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource

from harness.browser import submit, trace_id_of
from harness.polling import wait_for
from tests.self_checks import (
    PLACES,
    collector_from,
    platform_env,
    run_check,
    services,
    until_passes,
    without_internet,
)
from workshop.backends import Jaeger, Prometheus, VictoriaLogs
from workshop.checkpoints import write_checkpoint

# A platform test (pyproject.toml): it needs the native platform.
pytestmark = pytest.mark.platform

PATHS = ["offline", "online", "failing"]
GEOLOCATOR = "geolocator-service"
# The services that a request passes through, on each path: a place that the gazetteer
# does not know is a 404 from the geolocator; the stand-in Nominatim knows every place.
ON_THE_WAY = {"frontend", "gateway", GEOLOCATOR}
EVERY_SERVICE = ON_THE_WAY | {"iss-distance-service"}


def new_place() -> str:
    # In lower case: the geolocator asks Nominatim for the place in lower case.
    return f"zzplace{uuid.uuid4().hex[:12]}"


class StandInNominatim:
    """Answers every search with one place, and remembers what it was asked."""

    def __init__(self):
        self.queries: list[str] = []
        self.app = Flask("stand_in_nominatim")

        @self.app.get("/search")
        def search():
            self.queries.append(request.args["q"])
            return [{"lat": "-1.29", "lon": "36.82", "display_name": "Somewhere, Kenya"}]


RETRYING = "Retrying after connection broken: "  # what urllib3 logs, with the URL


def log_urls(stack, place: str) -> None:
    """Send log records that quote URLs with the place, as an access log, or a library
    such as urllib3 when it retries, would."""
    provider = LoggerProvider(resource=Resource.create({"service.name": "access-log"}))
    exporter = OTLPLogExporter(endpoint=stack.urls["otlp_grpc"], insecure=True, timeout=5)
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    logger = provider.get_logger("access")
    url = f"/?location={place}"
    logger.emit(LogRecord(body=f"GET {url} 404", attributes={"url.query": url[2:]}))
    logger.emit(LogRecord(body=f"{RETRYING}/search?q={place}&limit=1"))
    provider.shutdown()


def logged(logs: VictoriaLogs, word: str) -> set[str]:
    """The messages of the log records that hold `word`."""
    return {record["_msg"] for record in logs.query(f'"{word}"')}


@dataclass
class Sent:
    """A place sent through one path, and what Jaeger holds of its request."""

    path: str
    place: str
    trace_id: str
    stored: str  # the whole trace, as Jaeger's API answers it
    spans: list[dict]

    def span(self, service: str, kind: str) -> dict:
        [span] = [s for s in self.spans if (s["service"], s["kind"]) == (service, kind)]
        return span

    def nominatim_call(self) -> dict:
        """The geolocator's client span: its call to Nominatim."""
        return self.span(GEOLOCATOR, "client")


def whole_trace(jaeger: Jaeger, trace_id: str, path: str) -> list[dict]:
    """The trace's spans once those of every service on the way have arrived, with the
    geolocator's call to Nominatim on the online paths; else []."""
    spans = jaeger.trace(trace_id)
    services = {s["service"] for s in spans}
    called = (GEOLOCATOR, "client") in {(s["service"], s["kind"]) for s in spans}
    if path == "offline":
        return spans if services == ON_THE_WAY else []
    expected = EVERY_SERVICE if path == "online" else ON_THE_WAY
    return spans if services == expected and called else []


def path_env(path: str, nominatim_url: str, closed_port_url: str) -> dict[str, str]:
    """The services' environment on a path: Nominatim is the stand-in or nowhere."""
    if path == "offline":
        return {}  # self_checks.services() runs the services with OFFLINE=true
    nominatim = urlsplit(nominatim_url if path == "online" else closed_port_url)
    return without_internet(closed_port_url) | {
        "NOMINATIM_SCHEME": nominatim.scheme,
        "NOMINATIM_DOMAIN": nominatim.netloc,
    }


def send(path: str, stack, tmp_path, nominatim_url: str, closed_port_url: str) -> Sent:
    """Run the services on `path`, submit a new place, and return what Jaeger stored."""
    jaeger = Jaeger(stack.urls["jaeger"])
    place = new_place()
    env = path_env(path, nominatim_url, closed_port_url)
    # Failing, the place must be the geolocator's first request: after a failure, it
    # leaves Nominatim alone for a minute.
    places = [] if path == "failing" else PLACES
    log_dir = tmp_path / path
    log_dir.mkdir()
    with services(stack, log_dir, env=env, places=places) as running:
        if path == "online":
            time.sleep(1.1)  # Nominatim is asked at most once a second
        response = submit(running.urls["frontend"], place)
        assert response.status_code == (200 if path == "online" else 404)
        log_urls(stack, place)
        trace_id = trace_id_of(response)
        spans = wait_for(lambda: whole_trace(jaeger, trace_id, path))
    assert spans, f"{path}: the trace of {place} did not arrive"
    stored = requests.get(f"{jaeger.url}/api/traces/{trace_id}", timeout=5).text
    return Sent(path, place, trace_id, stored, spans)


def everything_in_prometheus(prometheus: Prometheus) -> str:
    """Every label of every recent series, and every exemplar's, as text."""
    recent = {"match[]": '{__name__=~".+"}', "start": time.time() - 900}
    series = requests.get(f"{prometheus.url}/api/v1/series", params=recent, timeout=10)
    exemplars = requests.get(
        f"{prometheus.url}/api/v1/query_exemplars",
        params={"query": '{__name__=~".+"}', "start": time.time() - 900, "end": time.time()},
        timeout=10,
    )
    series.raise_for_status()
    exemplars.raise_for_status()
    return series.text + exemplars.text


@pytest.fixture(scope="module")
def backends(stack):
    return {
        "jaeger": Jaeger(stack.urls["jaeger"]),
        "logs": VictoriaLogs(stack.urls["victoria_logs"]),
        "prometheus": Prometheus(stack.urls["prometheus"]),
    }


@pytest.fixture
def nominatim(serve) -> tuple[StandInNominatim, str]:
    stand_in = StandInNominatim()
    return stand_in, serve(stand_in.app)


def send_every_path(stack, tmp_path, nominatim, closed_port_url) -> dict[str, Sent]:
    stand_in, url = nominatim
    sent = {path: send(path, stack, tmp_path, url, closed_port_url) for path in PATHS}
    assert sent["online"].place in stand_in.queries  # it went online
    return sent


def searches(jaeger: Jaeger, sent: Sent) -> dict[str, list[str]]:
    """Jaeger's search by tag for the URLs that held the place: the trace ids found."""
    found = {
        "url.query": jaeger.search("gateway", {"url.query": f"location={sent.place}"}),
    }
    if sent.path != "offline":
        url = urlsplit(sent.nominatim_call()["tags"]["url.full"])
        typed = f"{url.scheme}://{url.netloc}/search?q={sent.place}&format=json&limit=1"
        found["url.full"] = jaeger.search(GEOLOCATOR, {"url.full": typed})
    return found


def failure_of(sent: Sent) -> list[str]:
    """What the failed call to Nominatim says on its span: its status description and
    its exception event's message."""
    call = sent.nominatim_call()
    [exception] = [event for event in call["events"] if event.get("event") == "exception"]
    return [call["tags"]["otel.status_description"], exception["exception.message"]]


# The tests run in this order on the module's platform: the check of section 12 looks
# at the last 15 minutes, so the collector without the section's work comes first.


def test_before_section_12_the_typed_place_is_stored_on_every_path_and_the_check_fails(
    stack, backends, tmp_path, nominatim, closed_port_url
):
    checkpoint = write_checkpoint(12, tmp_path / "checkpoint")
    with collector_from(stack, checkpoint):
        sent = send_every_path(stack, tmp_path, nominatim, closed_port_url)
        check = run_check(12, platform_env(stack))  # after the failing path: the decoy

    jaeger, logs = backends["jaeger"], backends["logs"]
    for path, one in sent.items():
        assert one.place in one.stored, path
        found = searches(jaeger, one)
        assert all(ids == [one.trace_id] for ids in found.values()), (path, found)
        quoted = {f"GET /?location={one.place} 404", f"{RETRYING}/search?q={one.place}&limit=1"}
        assert wait_for(lambda one=one, quoted=quoted: logged(logs, one.place) == quoted), path
    assert f"q={sent['online'].place}&" in sent["online"].nominatim_call()["tags"]["url.full"]
    failing = sent["failing"]
    assert all(f"q={failing.place}&" in said for said in failure_of(failing))
    # At the source: the geolocator logs the kind of failure, not the URL; no retries.
    warnings = wait_for(
        lambda: logs.query(f'{{service.name="{GEOLOCATOR}"}} trace_id:="{failing.trace_id}"')
    )
    assert [w["_msg"] for w in warnings] == [
        "Nominatim failed (GeocoderUnavailable); using the offline gazetteer"
    ]
    assert logs.query(f'{{service.name="{GEOLOCATOR}"}} "Retrying"') == []
    assert check.returncode == 1, check.stdout
    assert "transform/personal_data" in check.stdout


def test_after_section_12_no_backend_holds_the_typed_place(
    stack, backends, tmp_path, nominatim, closed_port_url
):
    sent = send_every_path(stack, tmp_path, nominatim, closed_port_url)
    check = until_passes(12, platform_env(stack))

    jaeger, logs = backends["jaeger"], backends["logs"]
    for path, one in sent.items():
        assert one.place not in one.stored, path
        # Where it was, the trace says REDACTED.
        gateway = one.span("gateway", "server")
        assert gateway["tags"]["url.query"] == "location=REDACTED", path
        assert all(found == [] for found in searches(jaeger, one).values()), path
        if path != "offline":
            assert "?q=REDACTED&format=json" in one.nominatim_call()["tags"]["url.full"], path
    assert all("q=REDACTED&" in said for said in failure_of(sent["failing"]))
    quoted = {"GET /?location=REDACTED 404", f"{RETRYING}/search?q=REDACTED&limit=1"}
    assert wait_for(lambda: logged(logs, "REDACTED") == quoted)
    every_record = json.dumps(logs.query("*", limit=100_000))
    every_series = everything_in_prometheus(backends["prometheus"])
    for one in sent.values():
        assert one.place not in every_record
        assert one.place not in every_series
    assert check.returncode == 0, check.stdout
