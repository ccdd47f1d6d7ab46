"""Section 12: once the collector removes them, neither the place a user types nor its
coordinates reach a backend.

A made-up place, unique to each path, is submitted through the form on each of these
paths:

- offline (OFFLINE=true): the geolocator asks only its gazetteer. The place travels in
  the URLs that the frontend and the gateway call (`?location=`), which the HTTP
  instrumentations record on their spans.
- online: the geolocator asks Nominatim (a stand-in on loopback, run by the test), with
  the place in its own URL (`?q=`), recorded on the client span. The stand-in answers
  with coordinates unique to the place, and the gateway sends them to the ISS distance
  service in its URL (`?latitude=..&longitude=..`): they find the place as well as its
  name does, and its client span and the ISS distance service's server span record them.
- online but failing (OFFLINE unset, no internet: the usual workshop room): the call to
  Nominatim fails, and the failure quotes the URL in the span's status and exception
  event. The services themselves log no URL (the geolocator logs the kind of failure,
  and urllib3 makes no retries to log); on every path, log lines that quote the URLs
  with the place and its coordinates, as an access log or a library would, are sent to
  the collector beside them.
- online, with the ISS distance service down: the gateway's call to it fails, and the
  failure quotes the URL, coordinates and all, in the span's status and exception event.

Then every native backend is searched for the place and its coordinates: Jaeger (the
whole trace, every attribute and event, and its search by tag), VictoriaLogs (every
field of every record) and Prometheus (every label of every series, and the exemplars).

With the collector config at the start of section 12 the place is found on every path,
and the coordinates wherever they travel, so the search can fail, and `make check
SECTION=12` fails (on the failing path, the plausible decoy); with the finished config
neither is found anywhere, `location=REDACTED`, `q=REDACTED`, `latitude=REDACTED` and
`longitude=REDACTED` are where they were, and the check passes. A rule that redacts only
`location=` and `q=` fails the search for the coordinates.
"""

import json
import random
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
from native.run_services import stop
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

PATHS = ["offline", "online", "failing", "iss_down"]
# The paths where the geolocator asks Nominatim, and the coordinates reach the gateway.
ONLINE = {"online", "iss_down"}
GEOLOCATOR = "geolocator-service"
ISS_DISTANCE = "iss-distance-service"
# The services that a request passes through, on each path: a place that the gazetteer
# does not know is a 404 from the geolocator; the stand-in Nominatim knows every place.
ON_THE_WAY = {"frontend", "gateway", GEOLOCATOR}
EVERY_SERVICE = ON_THE_WAY | {ISS_DISTANCE}
REDACTED_COORDINATES = "latitude=REDACTED&longitude=REDACTED"


def new_place() -> str:
    # In lower case: the geolocator asks Nominatim for the place in lower case.
    return f"zzplace{uuid.uuid4().hex[:12]}"


def new_coordinates() -> tuple[str, str]:
    """A latitude and a longitude as the gateway sends them (seven decimals), drawn at
    random: ten digits and a point that appear nowhere else in the backends."""
    return f"{random.uniform(-80, 80):.7f}", f"{random.uniform(-170, 170):.7f}"


class StandInNominatim:
    """Answers a search for a place of `coordinates` with its coordinates, and any other
    with one place; remembers what it was asked."""

    def __init__(self):
        self.queries: list[str] = []
        self.coordinates: dict[str, tuple[str, str]] = {}
        self.app = Flask("stand_in_nominatim")

        @self.app.get("/search")
        def search():
            query = request.args["q"]
            self.queries.append(query)
            latitude, longitude = self.coordinates.get(query, ("-1.29", "36.82"))
            # The name holds the query, so that the search for the place would find
            # the geolocator's answer too, were it recorded.
            return [{"lat": latitude, "lon": longitude, "display_name": f"{query}, Kenya"}]


RETRYING = "Retrying after connection broken: "  # what urllib3 logs, with the URL


def log_urls(stack, place: str, coordinates: str) -> None:
    """Send log records that quote URLs with the place or its coordinates, as an access
    log, or a library such as urllib3 when it retries, would."""
    provider = LoggerProvider(resource=Resource.create({"service.name": "access-log"}))
    exporter = OTLPLogExporter(endpoint=stack.urls["otlp_grpc"], insecure=True, timeout=5)
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    logger = provider.get_logger("access")
    url = f"/?location={place}"
    logger.emit(LogRecord(body=f"GET {url} 404", attributes={"url.query": url[2:]}))
    logger.emit(LogRecord(body=f"{RETRYING}/search?q={place}&limit=1"))
    logger.emit(LogRecord(body=f"GET /?{coordinates} 200", attributes={"url.query": coordinates}))
    provider.shutdown()


def logged(logs: VictoriaLogs, word: str) -> set[str]:
    """The messages of the log records that hold `word`."""
    return {record["_msg"] for record in logs.query(f'"{word}"')}


@dataclass
class Sent:
    """A place sent through one path, with the coordinates that the stand-in Nominatim
    gives it, and what Jaeger holds of its request."""

    path: str
    place: str
    latitude: str
    longitude: str
    trace_id: str
    stored: str  # the whole trace, as Jaeger's API answers it
    spans: list[dict]

    @property
    def markers(self) -> tuple[str, str, str]:
        """What must reach no backend: the place, its latitude and its longitude."""
        return self.place, self.latitude, self.longitude

    @property
    def coordinates(self) -> str:
        """The query of the gateway's call to the ISS distance service."""
        return f"latitude={self.latitude}&longitude={self.longitude}"

    def span(self, service: str, kind: str) -> dict:
        [span] = [s for s in self.spans if (s["service"], s["kind"]) == (service, kind)]
        return span

    def nominatim_call(self) -> dict:
        """The geolocator's client span: its call to Nominatim."""
        return self.span(GEOLOCATOR, "client")

    def iss_call(self) -> dict:
        """The gateway's client span for its call to the ISS distance service."""
        [span] = iss_calls(self.spans)
        return span


def iss_calls(spans: list[dict]) -> list[dict]:
    return [
        s
        for s in spans
        if (s["service"], s["kind"]) == ("gateway", "client")
        and "/?latitude=" in s["tags"]["url.full"]
    ]


def whole_trace(jaeger: Jaeger, trace_id: str, path: str) -> list[dict]:
    """The trace's spans once those of every service on the way have arrived, with the
    geolocator's call to Nominatim on the online paths, and the gateway's call to the
    ISS distance service where the geolocator found the place; else []."""
    spans = jaeger.trace(trace_id)
    services = {s["service"] for s in spans}
    called = (GEOLOCATOR, "client") in {(s["service"], s["kind"]) for s in spans}
    if path == "offline":
        return spans if services == ON_THE_WAY else []
    expected = EVERY_SERVICE if path == "online" else ON_THE_WAY
    iss_asked = len(iss_calls(spans)) == (1 if path in ONLINE else 0)
    return spans if services == expected and called and iss_asked else []


def path_env(path: str, nominatim_url: str, closed_port_url: str) -> dict[str, str]:
    """The services' environment on a path: Nominatim is the stand-in or nowhere."""
    if path == "offline":
        return {}  # self_checks.services() runs the services with OFFLINE=true
    nominatim = urlsplit(nominatim_url if path in ONLINE else closed_port_url)
    return without_internet(closed_port_url) | {
        "NOMINATIM_SCHEME": nominatim.scheme,
        "NOMINATIM_DOMAIN": nominatim.netloc,
    }


# What the frontend answers on each path: the place and the ISS's distance, or no such
# place (the gazetteer knows none of the made-up ones), or the ISS distance service's
# failure, passed on.
STATUS = {"offline": 404, "online": 200, "failing": 404, "iss_down": 502}


def send(path: str, stack, tmp_path, nominatim: tuple, closed_port_url: str) -> Sent:
    """Run the services on `path`, submit a new place, and return what Jaeger stored."""
    jaeger = Jaeger(stack.urls["jaeger"])
    stand_in, nominatim_url = nominatim
    place = new_place()
    latitude, longitude = stand_in.coordinates[place] = new_coordinates()
    env = path_env(path, nominatim_url, closed_port_url)
    # Failing, the place must be the geolocator's first request: after a failure, it
    # leaves Nominatim alone for a minute.
    places = [] if path == "failing" else PLACES
    log_dir = tmp_path / path
    log_dir.mkdir()
    with services(stack, log_dir, env=env, places=places) as running:
        if path in ONLINE:
            time.sleep(1.1)  # Nominatim is asked at most once a second
        if path == "iss_down":
            stop([running.processes[ISS_DISTANCE]])
        response = submit(running.urls["frontend"], place)
        assert response.status_code == STATUS[path]
        log_urls(stack, place, f"latitude={latitude}&longitude={longitude}")
        trace_id = trace_id_of(response)
        spans = wait_for(lambda: whole_trace(jaeger, trace_id, path))
    assert spans, f"{path}: the trace of {place} did not arrive"
    stored = requests.get(f"{jaeger.url}/api/traces/{trace_id}", timeout=5).text
    return Sent(path, place, latitude, longitude, trace_id, stored, spans)


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
    stand_in, _url = nominatim
    sent = {path: send(path, stack, tmp_path, nominatim, closed_port_url) for path in PATHS}
    assert {sent[path].place for path in ONLINE} <= set(stand_in.queries)  # it went online
    return sent


def base_url(span: dict) -> str:
    url = urlsplit(span["tags"]["url.full"])
    return f"{url.scheme}://{url.netloc}"


def searches(jaeger: Jaeger, sent: Sent) -> dict[str, list[str]]:
    """Jaeger's search by tag for the URLs that held the place or its coordinates: the
    trace ids found."""
    found = {
        "url.query": jaeger.search("gateway", {"url.query": f"location={sent.place}"}),
    }
    if sent.path != "offline":
        typed = f"{base_url(sent.nominatim_call())}/search?q={sent.place}&format=json&limit=1"
        found["url.full"] = jaeger.search(GEOLOCATOR, {"url.full": typed})
    if sent.path in ONLINE:
        to_iss = f"{base_url(sent.iss_call())}/?{sent.coordinates}"
        found["gateway's url.full"] = jaeger.search("gateway", {"url.full": to_iss})
    if sent.path == "online":
        query = {"url.query": sent.coordinates}
        found["ISS distance url.query"] = jaeger.search(ISS_DISTANCE, query)
    return found


def failure_of(call: dict) -> list[str]:
    """What a failed call says on its client span: its status description and its
    exception event's message."""
    [exception] = [event for event in call["events"] if event.get("event") == "exception"]
    return [call["tags"]["otel.status_description"], exception["exception.message"]]


# The tests run in this order on the module's platform: the check of section 12 looks
# at the last 15 minutes, so the collector without the section's work comes first.


def test_before_section_12_the_place_and_its_coordinates_are_stored_and_the_check_fails(
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
        # The coordinates: in the trace wherever the geolocator found the place, and in
        # the access log's record on every path.
        in_trace = one.latitude in one.stored and one.longitude in one.stored
        assert in_trace == (path in ONLINE), path
        access_log = {f"GET /?{one.coordinates} 200"}
        assert wait_for(lambda one=one, log=access_log: logged(logs, one.latitude) == log), path
    online, iss_down = sent["online"], sent["iss_down"]
    assert f"q={online.place}&" in online.nominatim_call()["tags"]["url.full"]
    assert online.iss_call()["tags"]["url.full"].endswith(f"/?{online.coordinates}")
    assert online.span(ISS_DISTANCE, "server")["tags"]["url.query"] == online.coordinates
    assert all(iss_down.coordinates in said for said in failure_of(iss_down.iss_call()))
    failing = sent["failing"]
    assert all(f"q={failing.place}&" in said for said in failure_of(failing.nominatim_call()))
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


def test_after_section_12_no_backend_holds_the_place_or_its_coordinates(
    stack, backends, tmp_path, nominatim, closed_port_url
):
    sent = send_every_path(stack, tmp_path, nominatim, closed_port_url)
    check = until_passes(12, platform_env(stack))

    jaeger, logs = backends["jaeger"], backends["logs"]
    for path, one in sent.items():
        for marker in one.markers:
            assert marker not in one.stored, (path, marker)
        # Where it was, the trace says REDACTED.
        gateway = one.span("gateway", "server")
        assert gateway["tags"]["url.query"] == "location=REDACTED", path
        assert all(found == [] for found in searches(jaeger, one).values()), path
        if path != "offline":
            assert "?q=REDACTED&format=json" in one.nominatim_call()["tags"]["url.full"], path
        if path in ONLINE:
            assert one.iss_call()["tags"]["url.full"].endswith(f"/?{REDACTED_COORDINATES}"), path
    iss_server = sent["online"].span(ISS_DISTANCE, "server")
    assert iss_server["tags"]["url.query"] == REDACTED_COORDINATES
    assert all("q=REDACTED&" in said for said in failure_of(sent["failing"].nominatim_call()))
    assert all(REDACTED_COORDINATES in said for said in failure_of(sent["iss_down"].iss_call()))
    quoted = {
        "GET /?location=REDACTED 404",
        f"{RETRYING}/search?q=REDACTED&limit=1",
        f"GET /?{REDACTED_COORDINATES} 200",
    }
    assert wait_for(lambda: logged(logs, "REDACTED") == quoted)
    every_record = json.dumps(logs.query("*", limit=100_000))
    every_series = everything_in_prometheus(backends["prometheus"])
    for one in sent.values():
        for marker in one.markers:
            assert marker not in every_record, marker
            assert marker not in every_series, marker
    assert check.returncode == 0, check.stdout
