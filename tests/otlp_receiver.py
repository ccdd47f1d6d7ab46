"""A real OTLP/gRPC endpoint for tests: it receives what the services export.

It speaks the same protocol as the OpenTelemetry Collector's OTLP receiver, and keeps
every span, metric and log record it is sent, with the service name of its resource.
"""

import threading
from concurrent import futures
from dataclasses import dataclass

import grpc
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2, metrics_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

from harness.polling import wait_for


@dataclass(frozen=True)
class Received:
    service: str  # service.name of the resource it came with
    item: object  # a Span, Metric or LogRecord protobuf message


def _service_name(resource) -> str:
    for attribute in resource.attributes:
        if attribute.key == "service.name":
            return attribute.value.string_value
    return ""


def callers(spans: list[Received]) -> dict[str, str]:
    """In one trace: each service, and the service that called it ("" for the root).

    A call is a CLIENT span in the caller whose child is the SERVER span of the callee.
    """
    by_id = {r.item.span_id: r for r in spans}
    found = {}
    for r in spans:
        if r.item.kind != r.item.SPAN_KIND_SERVER:
            continue
        client = by_id.get(r.item.parent_span_id)
        if client is None:
            found[r.service] = ""
        elif client.item.kind == client.item.SPAN_KIND_CLIENT:
            found[r.service] = by_id[client.item.parent_span_id].service
    return found


THE_CALL_CHAIN = {
    "frontend": "",
    "gateway": "frontend",
    "geolocator-service": "gateway",
    "iss-distance-service": "gateway",
}


class OtlpReceiver(
    trace_service_pb2_grpc.TraceServiceServicer,
    metrics_service_pb2_grpc.MetricsServiceServicer,
    logs_service_pb2_grpc.LogsServiceServicer,
):
    def __init__(self):
        self.spans: list[Received] = []
        self.metrics: list[Received] = []
        self.logs: list[Received] = []
        self._lock = threading.Lock()
        self._server = None
        self.endpoint = ""

    def start(self, port: int = 0) -> str:
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(self, self._server)
        metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(self, self._server)
        logs_service_pb2_grpc.add_LogsServiceServicer_to_server(self, self._server)
        bound = self._server.add_insecure_port(f"127.0.0.1:{port}")
        self._server.start()
        self.endpoint = f"http://127.0.0.1:{bound}"
        return self.endpoint

    def stop(self) -> None:
        self._server.stop(grace=None)

    def Export(self, request, context):  # noqa: N802 (the gRPC method's name)
        with self._lock:
            if isinstance(request, trace_service_pb2.ExportTraceServiceRequest):
                self._keep(self.spans, request.resource_spans, "scope_spans", "spans")
                return trace_service_pb2.ExportTraceServiceResponse()
            if isinstance(request, metrics_service_pb2.ExportMetricsServiceRequest):
                self._keep(self.metrics, request.resource_metrics, "scope_metrics", "metrics")
                return metrics_service_pb2.ExportMetricsServiceResponse()
            self._keep(self.logs, request.resource_logs, "scope_logs", "log_records")
            return logs_service_pb2.ExportLogsServiceResponse()

    @staticmethod
    def _keep(store: list, resources, scopes_field: str, items_field: str) -> None:
        for resource in resources:
            service = _service_name(resource.resource)
            for scope in getattr(resource, scopes_field):
                store.extend(Received(service, item) for item in getattr(scope, items_field))

    def logs_in_trace(self, trace_id: bytes, containing: str) -> list[Received]:
        """The log records of one trace whose body contains some text."""
        return [
            r
            for r in self.logs
            if r.item.trace_id == trace_id and containing in r.item.body.string_value
        ]

    def wait_for(self, condition, timeout: float = 30):
        """Poll `condition()`, which reads what has arrived, until it returns something
        truthy; return that."""

        def while_nothing_arrives():
            with self._lock:
                return condition()

        return wait_for(while_nothing_arrives, timeout, interval=0.2)
