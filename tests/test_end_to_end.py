"""The four services as real processes, exporting OTLP over gRPC to a real endpoint.

This is how they run in the workshop, minus Docker: waitress, one process per
service, W3C trace context on the wire, and the batch exporters of the SDK.
"""

import socket

import pytest

from common.services import SERVICES
from harness.browser import free_ports, submit, trace_id_of
from native.run_services import start_services, stop
from tests.otlp_receiver import THE_CALL_CHAIN, OtlpReceiver, callers

# A platform test (pyproject.toml): it needs the services, as processes.
pytestmark = pytest.mark.platform

FAST_EXPORT = {
    "OFFLINE": "true",
    "OTEL_METRIC_EXPORT_INTERVAL": "1000",
    "OTEL_BSP_SCHEDULE_DELAY": "200",
}


@pytest.fixture(scope="module")
def receiver():
    receiver = OtlpReceiver()
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture
def own_receiver():
    """A receiver of its own, for a test that starts its own services."""
    receiver = OtlpReceiver()
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="module")
def running(receiver, tmp_path_factory):
    env = {**FAST_EXPORT, "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint}
    with start_services(env, free_ports(), tmp_path_factory.mktemp("logs")) as running:
        yield running


def test_one_form_submission_is_one_trace_across_four_services(running, receiver):
    response = submit(running.urls["frontend"])
    assert response.status_code == 200
    trace_id = bytes.fromhex(trace_id_of(response))

    def whole_trace():
        spans = [r for r in receiver.spans if r.item.trace_id == trace_id]
        return spans if len({r.service for r in spans}) == 4 and len(spans) >= 8 else None

    spans = receiver.wait_for(whole_trace)
    assert spans, "the trace did not arrive from all four services"

    assert callers(spans) == THE_CALL_CHAIN

    position = next(r for r in spans if r.item.name == "iss.position")
    parent = next(r for r in spans if r.item.span_id == position.item.parent_span_id)
    assert position.service == "iss-distance-service"
    assert parent.item.kind == parent.item.SPAN_KIND_SERVER and parent.service == position.service


def test_metrics_arrive_from_every_service(running, receiver):
    submit(running.urls["frontend"])

    def names_by_service():
        found = {(r.service, r.item.name) for r in receiver.metrics}
        wanted = {(s.name, "http.server.request.duration") for s in SERVICES}
        wanted |= {
            ("iss-distance-service", "iss.requests"),
            ("iss-distance-service", "incoming.requests"),
        }
        return wanted <= found

    assert receiver.wait_for(names_by_service)
    duration = next(
        r.item for r in receiver.metrics if r.item.name == "http.server.request.duration"
    )
    assert duration.unit == "s"
    assert duration.histogram.data_points


def test_histograms_carry_exemplars_with_trace_ids(running, receiver):
    trace_id = bytes.fromhex(trace_id_of(submit(running.urls["frontend"])))

    def exemplar_with_trace():
        return any(
            exemplar.trace_id == trace_id
            for r in receiver.metrics
            if r.item.name == "http.server.request.duration"
            for point in r.item.histogram.data_points
            for exemplar in point.exemplars
        )

    assert receiver.wait_for(exemplar_with_trace)


def test_logs_arrive_with_the_trace_context(running, receiver):
    trace_id = bytes.fromhex(trace_id_of(submit(running.urls["frontend"], "Lima")))

    logs = receiver.wait_for(lambda: receiver.logs_in_trace(trace_id, "ISS position"))
    assert logs
    assert {r.service for r in logs} == {"iss-distance-service"}
    assert all(len(r.item.span_id) == 8 for r in logs)


def test_telemetry_is_flushed_when_the_services_are_stopped(own_receiver, tmp_path):
    # Batches that would not be sent for ten minutes: only the flush on SIGTERM sends them.
    env = {
        **FAST_EXPORT,
        "OTEL_EXPORTER_OTLP_ENDPOINT": own_receiver.endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "600000",
        "OTEL_BLRP_SCHEDULE_DELAY": "600000",
        "OTEL_METRIC_EXPORT_INTERVAL": "600000",
    }
    with start_services(env, free_ports(), tmp_path) as running:
        trace_id = bytes.fromhex(trace_id_of(submit(running.urls["frontend"])))
        assert not any(r.item.trace_id == trace_id for r in own_receiver.spans)
        stop(running.processes.values())
        # waitress turns the SystemExit from our SIGTERM handler into a clean shutdown.
        assert [p.returncode for p in running.processes.values()] == [0, 0, 0, 0]

    services = {r.service for r in own_receiver.spans if r.item.trace_id == trace_id}
    assert services == {s.name for s in SERVICES}
    assert any(r.item.name == "iss.requests" for r in own_receiver.metrics)
    assert any(r.item.trace_id == trace_id for r in own_receiver.logs)


def test_otel_sdk_disabled_turns_telemetry_off(own_receiver, tmp_path):
    env = {
        **FAST_EXPORT,
        "OTEL_EXPORTER_OTLP_ENDPOINT": own_receiver.endpoint,
        "OTEL_SDK_DISABLED": "true",
    }
    with start_services(env, free_ports(), tmp_path) as running:
        response = submit(running.urls["frontend"])

    assert response.status_code == 200
    assert 'id="distance"' in response.text
    assert 'id="trace-id"' not in response.text
    received = own_receiver.spans + own_receiver.metrics + own_receiver.logs
    assert received == []  # and the services flushed on the way out: nothing was buffered


def test_the_application_keeps_working_when_the_collector_is_down(tmp_path):
    with socket.socket() as sock:  # a port where nothing listens
        sock.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{sock.getsockname()[1]}"
    env = {**FAST_EXPORT, "OTEL_EXPORTER_OTLP_ENDPOINT": nowhere}

    with start_services(env, free_ports(), tmp_path) as running:
        responses = [
            submit(running.urls["frontend"], place)
            for place in ["Paris", "Oslo", "Lima", "Tokyo"] * 5
        ]

    assert [r.status_code for r in responses] == [200] * 20
    assert all(trace_id_of(r) for r in responses)
