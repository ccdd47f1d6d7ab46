"""What each piece of telemetry costs, alone (micro), and the floor it adds up to.

    make benchmark-items       (or: python -m benchmarks.telemetry_items; about 30 s)

First it counts what one form submission really makes: the four services run in this
process, with the workshop's own telemetry set-up (common/telemetry.py) and in-memory
exporters, and one submission's spans, metric measurements and log records are counted.
Then it times each item alone, in CPU microseconds, with the SDK set up as the services
set it up (batch processors, exemplars, the workshop's Views), exporting to nowhere:

- a span started and ended, with a batch span processor;
- the OTLP encoding of a span (this submission's own spans, to protobuf bytes);
- a histogram record, with exemplars (inside a sampled span) and without;
- a counter add;
- a log record through OpenTelemetry's logging handler, and its OTLP encoding;
- the Flask instrumentation, per server hop (its span and metrics included);
- the requests instrumentation, per client call (its span and metrics included).

The floor is what one submission's items cost, added up: the least CPU telemetry can
add to a submission, before any contention between threads and processes.
`make benchmark` (benchmarks/form_submission.py) compares the whole path with it.
"""

import argparse
import contextlib
import io
import json
import logging
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import requests
from flask import Flask
from opentelemetry import _logs, trace
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.instrumentation.flask import FlaskInstrumentor
from opentelemetry.instrumentation.logging.handler import LoggingHandler
from opentelemetry.instrumentation.requests import RequestsInstrumentor
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import (
    BatchLogRecordProcessor,
    InMemoryLogRecordExporter,
    LogRecordExporter,
    LogRecordExportResult,
)
from opentelemetry.sdk.metrics import (
    AlwaysOffExemplarFilter,
    MeterProvider,
    TraceBasedExemplarFilter,
)
from opentelemetry.sdk.metrics._internal.measurement_consumer import (
    SynchronousMeasurementConsumer,
)
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from werkzeug.test import EnvironBuilder

from common import telemetry as workshop_telemetry
from common.sdk_defaults import use_workshop_defaults
from harness import browser

# The items, in the order the table shows them: key, label, what one costs per.
ITEMS = {
    "span": "span start+end, batch processor",
    "span_encoding": "OTLP encoding, per span",
    "span_encoding_cached_hash": "OTLP encoding, per span, Resource hash cached (a patch)",
    "histogram_exemplar": "histogram record, with exemplar",
    "histogram": "histogram record, no exemplar",
    "counter": "counter add",
    "log": "log record, handler + batch processor",
    "log_encoding": "OTLP encoding, per log record",
    "server_hop": "Flask instrumentation, per server hop",
    "client_call": "requests instrumentation, per client call",
}
FLASK_SCOPE = "opentelemetry.instrumentation.flask"
REQUESTS_SCOPE = "opentelemetry.instrumentation.requests"
# The instrumentations' own metrics are in their per-hop and per-call cost.
INSTRUMENTATION_SCOPES = {FLASK_SCOPE, REQUESTS_SCOPE}
# About how many spans a batch processor exports at once here: a service makes 100 to
# 200 a second under the benchmark's load, and exports every 500 ms (sdk_defaults.py).
EXPORT_BATCH = 100


# --- What one submission makes -------------------------------------------------------


@dataclass(frozen=True)
class Made:
    """One of the measurements a submission made: who made it, and with what."""

    scope: str
    instrument: str  # the SDK's class: _Counter, _UpDownCounter, _Histogram


def items_per_submission(spans: Sequence, measurements: Sequence[Made], logs: int) -> Counter:
    """How many of each costed item one submission made.

    The instrumentations' spans become server hops and client calls (their metrics
    come with them); every span is encoded once; other measurements are histogram
    records (with an exemplar: they are recorded inside a sampled span) or counter adds.
    """
    counts = Counter()
    for span in spans:
        scope = span.instrumentation_scope.name
        if scope == FLASK_SCOPE and span.kind == SpanKind.SERVER:
            counts["server_hop"] += 1
        elif scope == REQUESTS_SCOPE and span.kind == SpanKind.CLIENT:
            counts["client_call"] += 1
        else:
            counts["span"] += 1
        counts["span_encoding"] += 1
    for made in measurements:
        if made.scope in INSTRUMENTATION_SCOPES:
            continue
        counts["histogram_exemplar" if made.instrument == "_Histogram" else "counter"] += 1
    counts["log"] += logs
    counts["log_encoding"] += logs
    return counts


def floor_us(counts: Counter, costs_us: dict[str, float]) -> float:
    """The floor: each item's cost times how many one submission makes, added up."""
    return sum(count * costs_us[item] for item, count in counts.items())


class CountingConsumer:
    """Counts every synchronous measurement the SDK receives, by scope and instrument
    (the in-memory reader only sees their aggregates: an up-down counter's +1 and -1
    add up to 0). Patches the SDK's measurement consumer while in use."""

    def __init__(self):
        self.made: list[Made] = []

    @contextlib.contextmanager
    def counting(self):
        original = SynchronousMeasurementConsumer.consume_measurement

        def consume(consumer, measurement):
            instrument = measurement.instrument
            self.made.append(Made(instrument.instrumentation_scope.name, type(instrument).__name__))
            original(consumer, measurement)

        SynchronousMeasurementConsumer.consume_measurement = consume
        try:
            yield self
        finally:
            SynchronousMeasurementConsumer.consume_measurement = original


@dataclass
class Submission:
    counts: Counter
    spans: list  # its spans, as exported
    logs: list  # its log records, as exported
    measurements: list[Made]


def count_one_submission(
    submit: Callable[[], object],
    span_exporter: InMemorySpanExporter,
    log_exporter: InMemoryLogRecordExporter,
) -> Submission:
    """Submit the form once (after a few submissions, so that one-off start-up work is
    left out) and collect what it made, from the in-memory exporters the services'
    telemetry set-up was given."""

    def flush() -> None:
        trace.get_tracer_provider().force_flush()
        _logs.get_logger_provider().force_flush()

    for _ in range(3):
        submit()
    flush()
    span_exporter.clear()
    log_exporter.clear()
    with CountingConsumer().counting() as consumer:
        submit()
        flush()
    spans = list(span_exporter.get_finished_spans())
    logs = list(log_exporter.get_finished_logs())
    return Submission(
        items_per_submission(spans, consumer.made, len(logs)), spans, logs, consumer.made
    )


def one_submission() -> Submission:
    """Run the four services in this process (under waitress, offline) with the
    workshop's telemetry set-up and in-memory exporters, and count one submission."""
    from common.server import create_server

    span_exporter, log_exporter = InMemorySpanExporter(), InMemoryLogRecordExporter()
    workshop_telemetry.configure_opentelemetry(
        "cost-count",
        "0",
        span_exporter=span_exporter,
        metric_reader=InMemoryMetricReader(),
        log_exporter=log_exporter,
    )
    import gateway
    import geolocator
    import iss_distance
    import webapp

    servers = []

    def serve(app: Flask) -> str:
        server = create_server(app, "127.0.0.1:0")
        threading.Thread(target=server.run, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.effective_port}"

    offline = {"OFFLINE": True}
    backends = {
        "GEOLOCATOR_URL": serve(geolocator.create_app(offline)),
        "ISS_DISTANCE_URL": serve(iss_distance.create_app(offline)),
    }
    frontend = serve(webapp.create_app({"GATEWAY_URL": serve(gateway.create_app(backends))}))

    def submit() -> None:
        # As a browser does: with no trace context, and no client span made here.
        browser.submit(frontend).raise_for_status()

    try:
        return count_one_submission(submit, span_exporter, log_exporter)
    finally:
        for server in servers:
            server.close()


# --- What each item costs ------------------------------------------------------------


class Nowhere(SpanExporter, LogRecordExporter):
    """Exports to nowhere: the batch processors still do their work."""

    def export(self, batch):
        return SpanExportResult.SUCCESS if batch and hasattr(batch[0], "context") else (
            LogRecordExportResult.SUCCESS
        )  # fmt: skip

    def shutdown(self):
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def cpu_us_per_call(function: Callable[[], object], calls: int) -> float:
    """CPU microseconds per call of `function`, this process's threads included (the
    batch processors' threads do part of the work)."""
    started = time.process_time()
    for _ in range(calls):
        function()
    return 1e6 * (time.process_time() - started) / calls


def best_of(repeats: int, sample: Callable[[], float]) -> float:
    """The least of several timings: the machine's other work only ever adds to one."""
    return min(sample() for _ in range(repeats))


def difference_us(plain: Callable, instrumented: Callable, calls: int, repeats: int) -> float:
    """What `instrumented` costs more than `plain`, per call: each timed in turn, so that
    a busy moment of the machine hits both, and the least of each taken."""
    plain_us, instrumented_us = [], []
    for _ in range(repeats):
        plain_us.append(cpu_us_per_call(plain, calls))
        instrumented_us.append(cpu_us_per_call(instrumented, calls))
    return min(instrumented_us) - min(plain_us)


def encoding_us(encode: Callable[[list], object], items: list, calls: int, repeats: int) -> float:
    """OTLP encoding per item, in batches of about EXPORT_BATCH items (the submission's
    own items, repeated) as the batch processors export them: the Resource and scope
    are encoded once a batch."""
    batch = items * max(1, EXPORT_BATCH // len(items))
    return best_of(
        repeats, lambda: cpu_us_per_call(lambda: encode(batch).SerializeToString(), calls)
    ) / len(batch)


def item_costs(submission: Submission, calls: int, repeats: int) -> dict[str, float]:
    """CPU microseconds per item, the SDK set up as the services set it up."""
    resource = workshop_telemetry.build_resource("cost-items", "0")
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(BatchSpanProcessor(Nowhere()))
    tracer = tracer_provider.get_tracer("cost-items")
    views = workshop_telemetry.VIEWS

    def meter(exemplar_filter):
        provider = MeterProvider(
            resource=resource,
            metric_readers=[InMemoryMetricReader()],
            views=views,
            exemplar_filter=exemplar_filter,
        )
        return provider, provider.get_meter("cost-items")

    meter_provider, with_exemplars = meter(TraceBasedExemplarFilter())
    _, without_exemplars = meter(AlwaysOffExemplarFilter())
    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(BatchLogRecordProcessor(Nowhere()))

    costs = {}
    attributes = {"iss.position.source": "sgp4"}

    def span():
        with tracer.start_as_current_span("iss.position") as current:
            current.set_attributes({**attributes, "iss.latitude": 1.0, "iss.longitude": 2.0})

    costs["span"] = best_of(repeats, lambda: cpu_us_per_call(span, calls))

    spans, encoding_calls = submission.spans, max(1, calls // EXPORT_BATCH)
    costs["span_encoding"] = encoding_us(encode_spans, spans, encoding_calls, repeats)
    with cached_resource_hash():
        costs["span_encoding_cached_hash"] = encoding_us(
            encode_spans, spans, encoding_calls, repeats
        )

    # Inside a sampled span, as in the ISS distance service: the trace-based filter
    # keeps an exemplar, with the span's trace and span ids.
    with tracer.start_as_current_span("request"):
        meters = {"histogram_exemplar": with_exemplars, "histogram": without_exemplars}
        for key, chosen in meters.items():
            record = chosen.create_histogram("iss.position.duration", unit="s").record
            costs[key] = best_of(
                repeats, lambda r=record: cpu_us_per_call(lambda: r(0.002, attributes), calls)
            )
        counter = with_exemplars.create_counter("iss.requests")
        costs["counter"] = best_of(
            repeats, lambda: cpu_us_per_call(lambda: counter.add(1, attributes), calls)
        )
        costs["log"] = log_record_cost(logger_provider, calls, repeats)

    costs["log_encoding"] = encoding_us(encode_logs, submission.logs, encoding_calls, repeats)

    costs["server_hop"] = server_hop_cost(tracer_provider, meter_provider, calls, repeats)
    costs["client_call"] = client_call_cost(tracer_provider, meter_provider, calls, repeats)
    tracer_provider.shutdown()
    logger_provider.shutdown()
    return costs


@contextlib.contextmanager
def cached_resource_hash():
    """A local patch, for this measurement only: hash(Resource) computed once per
    Resource. Upstream computes it with json.dumps each time an exporter groups spans."""
    original = Resource.__hash__
    cache: dict[int, int] = {}

    def cached(resource):
        key = id(resource)
        if key not in cache:
            cache[key] = original(resource)
        return cache[key]

    Resource.__hash__ = cached
    try:
        yield
    finally:
        Resource.__hash__ = original


def log_record_cost(provider: LoggerProvider, calls: int, repeats: int) -> float:
    """What OpenTelemetry's logging handler adds to one logger.info()."""
    loggers = {}
    for name, handler in (
        ("plain", logging.NullHandler()),
        ("otel", LoggingHandler(logger_provider=provider)),
    ):
        logger = loggers[name] = logging.getLogger(f"cost-items.{name}")
        logger.propagate = False  # the root logger's handlers stay out of it
        logger.setLevel(logging.INFO)
        logger.addHandler(handler)

    message = "ISS position computed with %s from a TLE %d days old"

    def info(logger):
        return partial(logger.info, message, "SGP4", 81)

    return difference_us(info(loggers["plain"]), info(loggers["otel"]), calls, repeats)


def server_hop_cost(tracer_provider, meter_provider, calls: int, repeats: int) -> float:
    """What FlaskInstrumentor adds to one request, its span and metrics included."""

    def app() -> Flask:
        flask_app = Flask("cost-items")
        flask_app.add_url_rule("/", "index", lambda: "ok")
        return flask_app

    plain, instrumented = app(), app()
    FlaskInstrumentor().instrument_app(
        instrumented, tracer_provider=tracer_provider, meter_provider=meter_provider
    )
    environ = EnvironBuilder(path="/", method="GET").get_environ()

    def request(flask_app: Flask):
        def call():
            body = flask_app(dict(environ), lambda status, headers, exc_info=None: None)
            for _ in body:
                pass
            getattr(body, "close", lambda: None)()

        return call

    try:
        return difference_us(request(plain), request(instrumented), calls, repeats)
    finally:
        FlaskInstrumentor().uninstrument_app(instrumented)


class Canned(requests.adapters.BaseAdapter):
    """Answers every request at once, without a network: only the client's work is left."""

    def send(self, request, **kwargs):
        response = requests.Response()
        response.status_code, response.request, response.url = 200, request, request.url
        response.raw = io.BytesIO(b"{}")
        return response

    def close(self):
        pass


def client_call_cost(tracer_provider, meter_provider, calls: int, repeats: int) -> float:
    """What RequestsInstrumentor adds to one outgoing call, its span and metrics included."""
    session = requests.Session()
    session.mount("http://upstream.test/", Canned())

    def call():
        return session.get("http://upstream.test/", timeout=1).content

    instrumentor = RequestsInstrumentor()
    # The workshop's set-up (counting a submission) has instrumented requests already.
    instrumentor.uninstrument()
    plain_us, instrumented_us = [], []
    for _ in range(repeats):
        plain_us.append(cpu_us_per_call(call, calls))
        instrumentor.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
        instrumented_us.append(cpu_us_per_call(call, calls))
        instrumentor.uninstrument()
    return min(instrumented_us) - min(plain_us)


# --- The table ----------------------------------------------------------------------

HEADER = ("item", "µs each", "per submission", "µs per submission", "share of the floor")


def table_rows(costs_us: dict[str, float], counts: Counter) -> list[tuple[str, ...]]:
    """One row per item, then the floor. The sums are of the costs as shown (to 0.1 µs),
    so that the table adds up as printed."""
    shown = {item: round(costs_us[item], 1) for item in ITEMS}
    floor = floor_us(counts, shown)
    rows = []
    for item, label in ITEMS.items():
        count = counts.get(item, 0)
        if count:
            cost = count * shown[item]
            share = f"{cost / floor:.0%}" if floor else "-"
            rows.append((label, f"{shown[item]:.1f}", str(count), f"{cost:.0f}", share))
        else:
            rows.append((label, f"{shown[item]:.1f}", "-", "-", "-"))
    rows.append(("floor, per submission", "", "", f"{floor:.0f}", "100%"))
    return rows


# The table in a Markdown page: from its header line to the first blank line.
PAGE_TABLE = re.compile(r"^\| item \|.*?(?=\n\n|\n$)", re.DOTALL | re.MULTILINE)
COST_PAGE = Path(__file__).resolve().parent.parent / "docs" / "09a-cost.md"


def write_into_page(table: str, page: Path = COST_PAGE) -> None:
    """Replace the page's table with this one (`--write-page`): a figure on the page is
    one this benchmark printed."""
    text = page.read_text()
    if len(PAGE_TABLE.findall(text)) != 1:
        raise ValueError(f"{page} should hold one table of the items")
    page.write_text(PAGE_TABLE.sub(lambda _: table, text))


def markdown_table(rows: Iterable[Sequence[str]]) -> str:
    """The table, as Markdown: what docs/09a-cost.md shows, and what a learner gets."""
    lines = ["| " + " | ".join(HEADER) + " |", "|---|--:|--:|--:|--:|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def measure(calls: int = 2000, repeats: int = 5) -> dict:
    """Count one submission's items, time each, and return all the figures."""
    use_workshop_defaults()
    submission = one_submission()
    costs = item_costs(submission, calls, repeats)
    return {
        "counts": dict(submission.counts),
        "spans": len(submission.spans),
        "measurements": len(submission.measurements),
        "logs": len(submission.logs),
        "costs_us": costs,
        "floor_us": floor_us(submission.counts, costs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="calls per timing")
    parser.add_argument("--repeats", type=int, default=5, help="timings per item (median)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--write-page", action="store_true", help=f"also put the table into {COST_PAGE.name}"
    )
    arguments = parser.parse_args()
    figures = measure(arguments.calls, arguments.repeats)
    if arguments.json:
        print(json.dumps(figures))
        return
    print(
        f"One form submission makes {figures['spans']} spans, {figures['measurements']} "
        f"metric measurements and {figures['logs']} log record(s).\n"
    )
    table = markdown_table(table_rows(figures["costs_us"], Counter(figures["counts"])))
    print(table)
    if arguments.write_page:
        write_into_page(table)


if __name__ == "__main__":
    main()
