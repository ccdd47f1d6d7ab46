"""OpenTelemetry for every service: who is sending (the Resource), and a provider and
an OTLP exporter for each signal. Each service calls ``setup_telemetry(app, name,
version)`` once, in its application factory; the standard ``OTEL_*`` variables do the
rest (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, ...).
"""

import logging

from flask import Flask
from openfeature import api as openfeature
from openfeature.contrib.hook.opentelemetry import TracingHook
from opentelemetry import metrics, trace
from opentelemetry._logs import set_logger_provider
from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.flask import FlaskInstrumentor
from opentelemetry.instrumentation.logging import LoggingInstrumentor
from opentelemetry.instrumentation.requests import RequestsInstrumentor
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor, LogRecordExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.metrics.view import ExplicitBucketHistogramAggregation, View
from opentelemetry.sdk.resources import OTELResourceDetector, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.semconv.attributes.deployment_attributes import DEPLOYMENT_ENVIRONMENT_NAME
from opentelemetry.semconv.attributes.service_attributes import SERVICE_NAME, SERVICE_VERSION

from common.console import CONSOLE_LOG_FORMAT, keep_sdk_messages_on_the_console
from common.sdk_defaults import telemetry_disabled, use_workshop_defaults
from common.services import HEALTH_PATH
from common.shutdown import EXPORT_TIMEOUT_SECONDS, exit_cleanly_on_sigterm

logger = logging.getLogger(__name__)

# The SDK's default buckets (0, 5, 10, 25, ... 10000) are made for milliseconds. These
# suit the ISS position lookup, in seconds: 1 ms offline to a few hundred ms online, the
# API's 2 s timeout, 1.5 s more with the iss-latency fault. attribute_keys keeps the
# attributes it names and drops the others, before they make series.
VIEWS = [
    View(
        instrument_name="iss.position.duration",
        aggregation=ExplicitBucketHistogramAggregation(
            boundaries=[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 1.5, 2, 2.5, 5]
        ),
        attribute_keys={"iss.position.source"},
    ),
]


def setup_telemetry(app: Flask, service_name: str, service_version: str) -> None:
    """Send this service's traces, metrics and logs to the collector."""
    if telemetry_disabled():
        logging.basicConfig(level=logging.INFO)
        return
    configure_opentelemetry(service_name, service_version)
    # Instrument this app object explicitly: FlaskInstrumentor().instrument() patches the
    # Flask class instead, and silently misses apps whose class was imported earlier.
    FlaskInstrumentor().instrument_app(app, excluded_urls=HEALTH_PATH)


_configured = False


def configure_opentelemetry(
    service_name: str,
    service_version: str,
    *,
    span_exporter: SpanExporter | None = None,
    metric_reader: MetricReader | None = None,
    log_exporter: LogRecordExporter | None = None,
) -> None:
    """Install the process-wide providers. They can be set only once per process, so a
    second call does nothing. Tests pass in-memory exporters."""
    global _configured
    if _configured:
        return
    _configured = True
    # Export within a second, with the stable HTTP conventions (common/sdk_defaults.py).
    use_workshop_defaults()

    # Who is sending: every span, metric and log record carries this Resource.
    resource = build_resource(service_name, service_version)

    # Metrics: a reader that exports them every OTEL_METRIC_EXPORT_INTERVAL ms.
    reader = metric_reader or PeriodicExportingMetricReader(
        OTLPMetricExporter(timeout=EXPORT_TIMEOUT_SECONDS)
    )
    # Views reshape what instruments record, here where the SDK is set up.
    provider = MeterProvider(resource=resource, metric_readers=[reader], views=VIEWS)
    metrics.set_meter_provider(provider)

    # Logs: a provider, and a handler that sends Python logging records to it (once: a
    # second handler would export every record twice). Records logged inside a span
    # carry its trace and span ids, and the console format shows them too. INFO, because
    # the root logger's default drops it.
    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(
        BatchLogRecordProcessor(log_exporter or OTLPLogExporter(timeout=EXPORT_TIMEOUT_SECONDS))
    )
    set_logger_provider(logger_provider)
    LoggingInstrumentor().instrument(
        set_logging_format=True, logging_format=CONSOLE_LOG_FORMAT, log_level=logging.INFO
    )

    # Traces, exported in batches from a background thread: a slow or unreachable
    # collector never delays a request.
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(
        BatchSpanProcessor(span_exporter or OTLPSpanExporter(timeout=EXPORT_TIMEOUT_SECONDS))
    )
    trace.set_tracer_provider(tracer_provider)
    # Each evaluation of a feature flag (the faults of section 8) becomes an event on the
    # current span, named feature_flag.evaluation, with the flag's key and value.
    openfeature.add_hooks([TracingHook()])

    # Outgoing HTTP calls get client spans and carry the W3C traceparent header.
    RequestsInstrumentor().instrument()

    # The SDK's complaints stay on the console; a stopped service flushes its telemetry.
    keep_sdk_messages_on_the_console()
    exit_cleanly_on_sigterm()
    logger.info("OpenTelemetry is set up for %s", dict(resource.attributes))


def build_resource(service_name: str, service_version: str) -> Resource:
    """Describe this process. OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win.

    Resource.create() merges those variables and the telemetry.sdk.* attributes, but
    attributes passed to it in code override the environment, so pass only the
    defaults that the environment leaves unset.
    """
    defaults = {
        SERVICE_NAME: service_name,
        SERVICE_VERSION: service_version,
        DEPLOYMENT_ENVIRONMENT_NAME: "local",
    }
    from_environment = OTELResourceDetector().detect().attributes
    return Resource.create({k: v for k, v in defaults.items() if k not in from_environment})


def current_trace_id() -> str | None:
    """The trace id of the request being handled, as Grafana and Tempo show it."""
    context = trace.get_current_span().get_span_context()
    return trace.format_trace_id(context.trace_id) if context.is_valid else None
