"""Section 12: once the collector removes it, the place a user types reaches no backend.

A made-up place, unique to each test, is submitted through the form. The geolocator
knows no such place (404), but the place travels all the same: in the URLs that the
frontend and the gateway call, which the HTTP instrumentations record on their spans.
The services log no URL; a log line that quotes one, as an access log would, is sent to
the collector beside them. Then every native backend is searched for the place:
Jaeger (the whole trace, every attribute and event, and its search by tag),
VictoriaLogs (every field of every record) and Prometheus (every label of every series,
and the exemplars).

With the collector config at the start of section 12 the place is found, so the search
can fail; with the finished config it is found nowhere, and `location=REDACTED` is where
it was. `make check SECTION=12` fails before and passes after.
"""

import json
import time
import uuid

import pytest
import requests
from opentelemetry._logs import LogRecord
from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource

from tests.browser_like import submit, trace_id_of
from tests.self_checks import check_env, collector_from, run_check, services, until_passes
from workshop.backends import Jaeger, Prometheus, VictoriaLogs, wait_for
from workshop.checkpoints import write_checkpoint

REDACTED = "location=REDACTED"
# The services that a request for an unknown place passes through.
ON_THE_WAY = {"frontend", "gateway", "geolocator-service"}


def new_place() -> str:
    return f"Zzplace{uuid.uuid4().hex[:12]}"


def log_a_url(stack, place: str) -> None:
    """Send a log record that quotes a URL with the place, as an access log would."""
    provider = LoggerProvider(resource=Resource.create({"service.name": "access-log"}))
    exporter = OTLPLogExporter(endpoint=stack.urls["otlp_grpc"], insecure=True, timeout=5)
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    url = f"/?location={place}"
    provider.get_logger("access").emit(
        LogRecord(body=f"GET {url} 404", attributes={"url.path": "/", "url.query": url[2:]})
    )
    provider.shutdown()


def submit_place(stack, frontend: str, place: str) -> str:
    """Submit the form with `place`, log a URL with it; return the request's trace id."""
    response = submit(frontend, place)
    assert response.status_code == 404  # no such place: the telemetry carries it all the same
    log_a_url(stack, place)
    return trace_id_of(response)


def whole_trace(jaeger: Jaeger, trace_id: str) -> str:
    """The trace as Jaeger's API answers it (every attribute, event and process tag),
    once the spans of every service on the way have arrived; else ""."""
    if {span["service"] for span in jaeger.trace(trace_id)} != ON_THE_WAY:
        return ""
    return requests.get(f"{jaeger.url}/api/traces/{trace_id}", timeout=5).text


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


# The tests run in this order on the module's platform: the check of section 12 looks
# at the last 15 minutes, so the collector without the section's work comes first.


def test_before_section_12_the_typed_place_is_stored_and_the_check_fails(stack, backends, tmp_path):
    place = new_place()
    checkpoint = write_checkpoint(12, tmp_path / "checkpoint")
    with collector_from(stack, checkpoint), services(stack, tmp_path) as running:
        trace_id = submit_place(stack, running.urls["frontend"], place)
        stored = wait_for(lambda: whole_trace(backends["jaeger"], trace_id))
        searched = wait_for(
            lambda: backends["jaeger"].search("gateway", {"url.query": f"location={place}"})
        )
        logged = wait_for(lambda: backends["logs"].query(f'"location={place}"'))
        check = run_check(12, check_env(stack, running))

    assert place in stored
    assert searched == [trace_id]
    assert [record["_msg"] for record in logged] == [f"GET /?location={place} 404"]
    assert check.returncode == 1, check.stdout
    assert "transform/personal_data" in check.stdout


def test_after_section_12_no_backend_holds_the_typed_place(stack, backends, tmp_path):
    place = new_place()
    with services(stack, tmp_path) as running:
        trace_id = submit_place(stack, running.urls["frontend"], place)
        # Arrived, and redacted: the gateway's server span shows where the place was.
        stored = wait_for(lambda: whole_trace(backends["jaeger"], trace_id))
        gateway = [
            span
            for span in backends["jaeger"].trace(trace_id)
            if (span["service"], span["kind"]) == ("gateway", "server")
        ]
        logged = wait_for(lambda: backends["logs"].query(f'"{REDACTED}"'))
        check = until_passes(12, check_env(stack, running))

    assert stored and place not in stored
    assert [span["tags"]["url.query"] for span in gateway] == [REDACTED]
    assert backends["jaeger"].search("gateway", {"url.query": f"location={place}"}) == []
    assert "GET /?location=REDACTED 404" in [record["_msg"] for record in logged]
    every_record = backends["logs"].query("*", limit=100_000)
    assert every_record and place not in json.dumps(every_record)
    assert place not in everything_in_prometheus(backends["prometheus"])
    assert check.returncode == 0, check.stdout
