"""OpenTelemetry set-up shared by every service of the workshop.

Each service calls ``setup_telemetry(app, name, version)`` once, in its application
factory. Everything else is configured by the standard ``OTEL_*`` environment variables:

    OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4317   where the collector listens (gRPC)
    OTEL_SERVICE_NAME=my-name                          overrides the name given in code
    OTEL_RESOURCE_ATTRIBUTES=deployment.environment.name=laptop
    OTEL_SDK_DISABLED=true                             switches telemetry off
"""

import atexit
import logging
import os
import signal
import sys
import threading

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

from common.log_summary import SummariseRepeats

# Health checks run every few seconds; tracing them would only bury the real requests.
HEALTH_PATH = "/healthz"

# Give up on an export after 3 s rather than the exporter's default 10 s. On the way out a
# service flushes three signals one after the other, and Docker kills a container that
# takes more than 10 s to stop: with the collector down, 3 x 10 s would be too long.
EXPORT_TIMEOUT_SECONDS = 3
# A stopped service flushes what it holds for at most this long, then exits anyway.
SHUTDOWN_DEADLINE_SECONDS = 4

# How soon telemetry leaves a service: within a second, so that a learner sees a request
# as soon as it is answered. The SDK's defaults suit production, where fewer and larger
# exports cost less: spans every 5 s, log records every 1 s, metrics every 60 s.
# A variable set in the environment wins.
EXPORT_DELAYS_MS = {
    "OTEL_BSP_SCHEDULE_DELAY": "500",  # spans
    "OTEL_BLRP_SCHEDULE_DELAY": "500",  # log records
    "OTEL_METRIC_EXPORT_INTERVAL": "1000",  # metrics
}

# The console's log lines, once logs go through OpenTelemetry (section 2): with the ids
# of the trace and span they were written in.
CONSOLE_LOG_FORMAT = (
    "%(asctime)s %(levelname)s [%(name)s] [trace_id=%(otelTraceID)s span_id=%(otelSpanID)s]"
    " %(message)s"
)

logger = logging.getLogger(__name__)

# workshop: section 9 >>>
# The SDK's default buckets, 0, 5, 10, 25, ... 10000, are made for milliseconds: in
# seconds, every lookup of the ISS position would fall into the first. These suit its
# range: from 1 ms offline to a few hundred ms online, the API's 2 s timeout, and 1.5 s
# more with the iss-latency fault. attribute_keys keeps the attributes it names and
# drops the others, before they make series.
VIEWS = [
    View(
        instrument_name="iss.position.duration",
        aggregation=ExplicitBucketHistogramAggregation(
            boundaries=[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 1.5, 2, 2.5, 5]
        ),
        attribute_keys={"iss.position.source"},
    ),
]
# workshop: section 9 <<<


def setup_telemetry(app: Flask, service_name: str, service_version: str) -> None:
    """Send this service's traces, metrics and logs to the collector."""
    # workshop: section 0 >>>
    if telemetry_disabled():
        logging.basicConfig(level=logging.INFO)
        return
    configure_opentelemetry(service_name, service_version)
    # workshop: section 0 ===
    # logging.basicConfig(level=logging.INFO)
    # workshop: section 0 <<<
    # workshop: section 4 >>>
    # Instrument this app object explicitly: FlaskInstrumentor().instrument() patches the
    # Flask class instead, and silently misses apps whose class was imported earlier.
    FlaskInstrumentor().instrument_app(app, excluded_urls=HEALTH_PATH)
    # workshop: section 4 <<<


# workshop: section 0 >>>
_configured = False


def configure_opentelemetry(
    service_name: str,
    service_version: str,
    *,
    span_exporter: SpanExporter | None = None,
    metric_reader: MetricReader | None = None,
    log_exporter: LogRecordExporter | None = None,
) -> None:
    """Install the process-wide providers. Tests pass in-memory exporters.

    A process has one set of global providers and they can be set only once, so a
    second call does nothing.
    """
    global _configured
    if _configured:
        return
    _configured = True

    # Ask the instrumentations for the stable HTTP conventions (http.server.request.duration
    # in seconds). Every instrumentor reads this once, at the first instrument() call of
    # any of them (the logging one included), so it must be set before all of them.
    os.environ.setdefault("OTEL_SEMCONV_STABILITY_OPT_IN", "http")
    # Export within a second (see EXPORT_DELAYS_MS); the environment still wins.
    for variable, milliseconds in EXPORT_DELAYS_MS.items():
        os.environ.setdefault(variable, milliseconds)

    # Who is sending: every span, metric and log record carries this Resource.
    resource = build_resource(service_name, service_version)

    # workshop: section 1 >>>
    # Metrics: a reader that exports them every OTEL_METRIC_EXPORT_INTERVAL ms.
    reader = metric_reader or PeriodicExportingMetricReader(
        OTLPMetricExporter(timeout=EXPORT_TIMEOUT_SECONDS)
    )
    # workshop: section 9 >>>
    # Views reshape what instruments record, here where the SDK is set up.
    provider = MeterProvider(resource=resource, metric_readers=[reader], views=VIEWS)
    metrics.set_meter_provider(provider)
    # workshop: section 9 ===
    # metrics.set_meter_provider(MeterProvider(resource=resource, metric_readers=[reader]))
    # workshop: section 9 <<<
    # workshop: section 1 <<<

    # workshop: section 2 >>>
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
    # The SDK's own complaints ("failed to export to ...") go to the console only: sent
    # through a failing exporter they would come back as more complaints. Its retries
    # are routine; report only what it gives up on. With no collector it gives up on
    # every batch: show the first failure, then one a minute with a count.
    sdk_console = logging.StreamHandler()
    sdk_console.addFilter(SummariseRepeats())
    sdk_logger = logging.getLogger("opentelemetry")
    sdk_logger.propagate = False
    sdk_logger.addHandler(sdk_console)
    sdk_logger.setLevel(logging.ERROR)
    # workshop: section 2 ===
    # logging.basicConfig(level=logging.INFO)
    # workshop: section 2 <<<

    # workshop: section 3 >>>
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
    # workshop: section 3 <<<

    # workshop: section 4 >>>
    # Outgoing HTTP calls get client spans and carry the W3C traceparent header.
    RequestsInstrumentor().instrument()
    # workshop: section 4 <<<

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


# workshop: section 0 <<<
# workshop: section 4 >>>
def current_trace_id() -> str | None:
    """The trace id of the request being handled, as Grafana and Tempo show it."""
    context = trace.get_current_span().get_span_context()
    return trace.format_trace_id(context.trace_id) if context.is_valid else None


# workshop: section 4 <<<


def telemetry_disabled() -> bool:
    return os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true"


def exit_cleanly_on_sigterm() -> None:
    """Flush buffered telemetry when the process is stopped, within a deadline.

    The providers flush in atexit hooks, but Python's default SIGTERM handling ends the
    process without running atexit. Turn SIGTERM into a normal exit instead. (This also
    lets a server running as PID 1 in a container stop at once.) A server that installed
    its own handler already exits cleanly, so leave that one alone.
    """
    in_main_thread = threading.current_thread() is threading.main_thread()
    if in_main_thread and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
    # atexit runs its hooks last in, first out: this one starts before the providers flush.
    atexit.register(_start_the_flush_deadline)


_exiting = False


def _exit_on_sigterm(signum, _frame) -> None:
    # Once is enough: a SIGTERM that comes while the process is already on its way out
    # (after a Ctrl-C, say) must not interrupt the flush.
    if not _exiting:
        sys.exit(128 + signum)


def _start_the_flush_deadline() -> None:
    # A reachable collector takes the last batches in well under a second. An unreachable
    # one would keep each batch retrying, batch after batch: give up after 5 s.
    global _exiting
    _exiting = True
    deadline = threading.Timer(SHUTDOWN_DEADLINE_SECONDS, _give_up_flushing)
    deadline.daemon = True
    deadline.start()


def _give_up_flushing() -> None:
    print(f"Telemetry not flushed after {SHUTDOWN_DEADLINE_SECONDS} s; exiting.", file=sys.stderr)
    os._exit(1)
