"""Levers tried by benchmarks/levers.py that the workshop's code does not adopt,
applied to a service process at start-up (Python imports sitecustomize before anything
else). Each is switched on by an environment variable; with none set this does nothing.

- COST_SHARED_CHANNEL=1: the three OTLP/gRPC exporters share one channel.
- COST_OTLP_HTTP=1: OTLP/HTTP (protobuf) exporters instead of gRPC ones.
- COST_CACHED_RESOURCE_HASH=1: hash(Resource) computed once (upstream computes it with
  json.dumps at every export, for every span's group).
- COST_SWITCH_INTERVAL=<seconds>: sys.setswitchinterval.
- COST_WAITRESS_THREADS=<n>: waitress request threads (common/server.py says 4).
"""

import os
import sys


def _shared_channel() -> None:
    from opentelemetry.exporter.otlp.proto.grpc import exporter

    channels = {}
    original = exporter.OTLPExporterMixin._initialize_channel_and_stub

    def initialize(self):
        key = (self._endpoint, self._insecure)
        if key not in channels:
            original(self)
            channels[key] = self._channel
            # The first exporter to shut down must not close it under the others.
            channels[key].close = lambda: None
        self._channel = channels[key]
        self._client = self._stub(self._channel)

    exporter.OTLPExporterMixin._initialize_channel_and_stub = initialize


def _otlp_http() -> None:
    import opentelemetry.exporter.otlp.proto.grpc._log_exporter as grpc_logs
    import opentelemetry.exporter.otlp.proto.grpc.metric_exporter as grpc_metrics
    import opentelemetry.exporter.otlp.proto.grpc.trace_exporter as grpc_traces
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    grpc_logs.OTLPLogExporter = OTLPLogExporter
    grpc_metrics.OTLPMetricExporter = OTLPMetricExporter
    grpc_traces.OTLPSpanExporter = OTLPSpanExporter


def _cached_resource_hash() -> None:
    from opentelemetry.sdk.resources import Resource

    original = Resource.__hash__

    def cached_hash(self):
        try:
            return self.__dict__["_cost_hash"]
        except KeyError:
            value = self.__dict__["_cost_hash"] = original(self)
            return value

    Resource.__hash__ = cached_hash


def _waitress_threads(count: int) -> None:
    import waitress

    original = waitress.create_server

    def create_server(application, **kwargs):
        return original(application, **{**kwargs, "threads": count})

    waitress.create_server = create_server


if os.environ.get("COST_SHARED_CHANNEL"):
    _shared_channel()
if os.environ.get("COST_OTLP_HTTP"):
    _otlp_http()
if os.environ.get("COST_CACHED_RESOURCE_HASH"):
    _cached_resource_hash()
if os.environ.get("COST_SWITCH_INTERVAL"):
    sys.setswitchinterval(float(os.environ["COST_SWITCH_INTERVAL"]))
if os.environ.get("COST_WAITRESS_THREADS"):
    _waitress_threads(int(os.environ["COST_WAITRESS_THREADS"]))
