"""Zero-code instrumentation: the application without OpenTelemetry code, under
`opentelemetry-instrument`, as `make zero-code` runs it.

Checkpoint 0 is the application before the workshop adds any OpenTelemetry code. The
distro and the installed instrumentations alone give it traces across the four
services, HTTP metrics and logs; what the workshop makes by hand does not appear.
"""

import re

import pytest

from native import run_services
from native.run_services import SERVICES, start_services
from tests.browser_like import free_ports, submit
from tests.otlp_receiver import THE_CALL_CHAIN, OtlpReceiver, callers
from workshop.checkpoints import write_checkpoint

SERVICE_CODE = ["common", *(f"{s.directory}/{s.package}" for s in SERVICES)]
OPENTELEMETRY_IMPORT = re.compile(r"^\s*(from|import) opentelemetry\b", re.MULTILINE)
DURATION = "http.server.request.duration"


class ResourceKeepingReceiver(OtlpReceiver):
    """An OTLP receiver that also keeps each service's resource attributes."""

    def __init__(self):
        super().__init__()
        self.resources: dict[str, dict[str, str]] = {}

    def Export(self, request, context):  # noqa: N802 (the gRPC method's name)
        for field in ("resource_spans", "resource_metrics", "resource_logs"):
            for resource_items in getattr(request, field, ()):
                attributes = {
                    a.key: a.value.string_value for a in resource_items.resource.attributes
                }
                self.resources[attributes["service.name"]] = attributes
        return super().Export(request, context)


@pytest.fixture(scope="module")
def checkpoint_0(tmp_path_factory):
    return write_checkpoint(0, tmp_path_factory.mktemp("checkpoint-0"))


@pytest.fixture(scope="module")
def receiver():
    receiver = ResourceKeepingReceiver()
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="module")
def running(checkpoint_0, receiver, tmp_path_factory):
    env = {
        "OFFLINE": "true",
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        "OTEL_METRIC_EXPORT_INTERVAL": "1000",
        "OTEL_BSP_SCHEDULE_DELAY": "200",
        "OTEL_BLRP_SCHEDULE_DELAY": "200",
    }
    logs = tmp_path_factory.mktemp("logs")
    with start_services(env, free_ports(), logs, root=checkpoint_0, zero_code=True) as running:
        yield running


@pytest.fixture(scope="module")
def trace_id(running, receiver):
    """The trace of one form submission: the only request the frontend has had."""
    response = submit(running.urls["frontend"], "Lima")
    assert response.status_code == 200
    assert 'id="trace-id"' not in response.text  # the page's trace id is written by hand

    def frontend_request():
        return [
            r.item for r in receiver.spans if (r.service, r.item.name) == ("frontend", "POST /")
        ]

    [span] = receiver.wait_for(frontend_request)
    return span.trace_id


def test_checkpoint_0_has_no_opentelemetry_code(checkpoint_0):
    files = [path for code in SERVICE_CODE for path in (checkpoint_0 / code).rglob("*.py")]
    assert len(files) > 10
    assert [path for path in files if OPENTELEMETRY_IMPORT.search(path.read_text())] == []


def test_one_form_submission_is_one_trace_across_four_services(receiver, trace_id):
    def whole_trace():
        spans = [r for r in receiver.spans if r.item.trace_id == trace_id]
        return spans if len({r.service for r in spans}) == 4 and len(spans) >= 7 else None

    spans = receiver.wait_for(whole_trace)
    assert spans, "the trace did not arrive from all four services"

    assert callers(spans) == THE_CALL_CHAIN
    # Only what the instrumentations make: no span written by hand, such as iss.position.
    kinds = {r.item.kind for r in spans}
    assert kinds == {spans[0].item.SPAN_KIND_SERVER, spans[0].item.SPAN_KIND_CLIENT}
    assert "iss.position" not in {r.item.name for r in receiver.spans}


def test_every_service_measures_its_http_requests_in_seconds(receiver, trace_id):
    def durations():
        found = {r.service for r in receiver.metrics if r.item.name == DURATION}
        return found == {s.name for s in SERVICES}

    assert receiver.wait_for(durations)
    duration = next(r.item for r in receiver.metrics if r.item.name == DURATION)
    assert duration.unit == "s"  # the stable HTTP conventions (OTEL_SEMCONV_STABILITY_OPT_IN)
    # The counters that the workshop adds by hand are not there.
    names = {r.item.name for r in receiver.metrics}
    assert not names & {"iss.requests", "incoming.requests"}


def test_logs_arrive_with_the_trace_context(receiver, trace_id):
    logs = receiver.wait_for(lambda: receiver.logs_in_trace(trace_id, "ISS position"))
    assert logs
    assert {r.service for r in logs} == {"iss-distance-service"}
    assert all(len(r.item.span_id) == 8 for r in logs)


def test_the_resource_says_that_the_instrumentation_is_automatic(receiver, trace_id):
    assert receiver.wait_for(lambda: len(receiver.resources) == 4)
    for service in SERVICES:
        resource = receiver.resources[service.name]
        assert resource["telemetry.auto.version"]  # set by opentelemetry-instrument
        assert resource["telemetry.sdk.language"] == "python"


def test_make_zero_code_writes_checkpoint_0_to_the_cache(tmp_path, monkeypatch, checkpoint_0):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    stale = tmp_path / "otel-workshop" / "zero-code" / "left-over.py"
    stale.parent.mkdir(parents=True)
    stale.write_text("from an older tree\n")

    root = run_services.write_zero_code_tree()

    assert root == tmp_path / "otel-workshop" / "zero-code"
    assert not stale.exists()
    telemetry = "common/telemetry.py"
    assert (root / telemetry).read_text() == (checkpoint_0 / telemetry).read_text()
