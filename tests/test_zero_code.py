"""Zero-code instrumentation: the application without OpenTelemetry code, under
`opentelemetry-instrument`, as `make zero-code` runs it.

Checkpoint 0 is the application before the workshop adds any OpenTelemetry code. The
distro and the installed instrumentations alone give it traces across the four
services, HTTP metrics and logs; what the workshop makes by hand does not appear.

The same set-up from a configuration file (OTEL_CONFIG_FILE=zero-code/otel-config.yaml,
experimental) gives the same Resource and the same signals.
"""

import re

import pytest

from common.services import SERVICES
from harness.browser import free_ports, submit
from native.run_services import ROOT, start_services
from tests.otlp_receiver import THE_CALL_CHAIN, OtlpReceiver, callers
from tests.working_tree import STATES, clone, in_state, zero_code_tree
from workshop.checkpoints import (
    checkpoint_of,
    committed_snippets,
    committed_solution,
    write_checkpoint,
)

# A platform test (pyproject.toml): it runs the services under opentelemetry-instrument.
pytestmark = pytest.mark.platform

CONFIG_FILE = ROOT / "zero-code" / "otel-config.yaml"
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


def zero_code_services(checkpoint_0, receiver, logs, **env):
    """The services of checkpoint 0 under opentelemetry-instrument, sending to `receiver`."""
    env = {"OFFLINE": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, **env}
    return start_services(env, free_ports(), logs, root=checkpoint_0, zero_code=True)


@pytest.fixture(scope="module")
def running(checkpoint_0, receiver, tmp_path_factory):
    faster = {
        "OTEL_METRIC_EXPORT_INTERVAL": "1000",
        "OTEL_BSP_SCHEDULE_DELAY": "200",
        "OTEL_BLRP_SCHEDULE_DELAY": "200",
    }
    logs = tmp_path_factory.mktemp("logs")
    with zero_code_services(checkpoint_0, receiver, logs, **faster) as running:
        yield running


def one_trace(running, receiver) -> bytes:
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


@pytest.fixture(scope="module")
def trace_id(running, receiver):
    return one_trace(running, receiver)


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


@pytest.mark.parametrize("state", STATES)
def test_make_zero_code_runs_checkpoint_0_whatever_the_working_tree_holds(tmp_path, state):
    """From the last commit: after `make checkout SECTION=7`, or with the learner's own
    code typed in, the working tree holds OpenTelemetry code, which must not run."""
    tree = in_state(clone(tmp_path / "repository"), state)
    stale = tmp_path / "cache" / "otel-workshop" / "zero-code" / "left-over.py"
    stale.parent.mkdir(parents=True)
    stale.write_text("from an older tree\n")

    root = zero_code_tree(tree, tmp_path / "cache")

    assert root == tmp_path / "cache" / "otel-workshop" / "zero-code"
    assert not stale.exists()
    snippets = committed_snippets()
    for path, text in checkpoint_of(committed_solution(snippets), 0, snippets).items():
        assert (root / path).read_text() == text, f"{state}: {path}"
    files = [path for code in SERVICE_CODE for path in (root / code).rglob("*.py")]
    assert len(files) > 10
    assert [path for path in files if OPENTELEMETRY_IMPORT.search(path.read_text())] == []


# --- The same set-up from a configuration file (experimental) -------------------------------


@pytest.fixture(scope="module")
def from_the_file(checkpoint_0, tmp_path_factory):
    """The same services and request, with the SDK set up from zero-code/otel-config.yaml.

    The file sets its own export delays; nothing else tells the SDK anything."""
    receiver = ResourceKeepingReceiver()
    receiver.start()
    logs = tmp_path_factory.mktemp("logs-from-the-file")
    config = {"OTEL_CONFIG_FILE": str(CONFIG_FILE.relative_to(ROOT))}  # as the README says
    try:
        with zero_code_services(checkpoint_0, receiver, logs, **config) as running:
            yield receiver, one_trace(running, receiver)
    finally:
        receiver.stop()


def whole_trace(receiver: OtlpReceiver, trace_id: bytes) -> list:
    spans = [r for r in receiver.spans if r.item.trace_id == trace_id]
    return spans if len({r.service for r in spans}) == 4 and len(spans) >= 7 else []


def test_the_configuration_file_gives_the_same_resource(receiver, trace_id, from_the_file):
    file_receiver, _ = from_the_file
    assert receiver.wait_for(lambda: len(receiver.resources) == 4)
    assert file_receiver.wait_for(lambda: len(file_receiver.resources) == 4)

    for service in SERVICES:
        by_variables = receiver.resources[service.name]
        by_file = file_receiver.resources[service.name]
        # A new service.instance.id for every process, on both paths.
        assert by_variables.pop("service.instance.id") and by_file.pop("service.instance.id")
        assert by_file == by_variables


def test_the_configuration_file_gives_the_same_signals(receiver, trace_id, from_the_file):
    file_receiver, file_trace_id = from_the_file

    assert receiver.wait_for(lambda: whole_trace(receiver, trace_id))
    assert file_receiver.wait_for(lambda: whole_trace(file_receiver, file_trace_id)), (
        "the trace did not arrive from all four services"
    )
    assert callers(whole_trace(file_receiver, file_trace_id)) == THE_CALL_CHAIN

    def span_names(r, trace):
        return {(s.service, s.item.name, s.item.kind) for s in whole_trace(r, trace)}

    def metric_names(r):
        return {(m.service, m.item.name, m.item.unit) for m in r.metrics}

    assert span_names(file_receiver, file_trace_id) == span_names(receiver, trace_id)
    # Each path's metrics arrive with its periodic exports: wait until both have them all.
    assert receiver.wait_for(lambda: metric_names(file_receiver) == metric_names(receiver))
    assert {(s.name, DURATION, "s") for s in SERVICES} <= metric_names(file_receiver)
    logs = file_receiver.wait_for(
        lambda: file_receiver.logs_in_trace(file_trace_id, "ISS position")
    )
    assert {r.service for r in logs} == {"iss-distance-service"}
