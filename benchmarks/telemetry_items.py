"""What each piece of telemetry costs, alone (micro), and the floor it adds up to.

    make benchmark-items       (or: python -m benchmarks.telemetry_items; about 2 minutes)

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
- the requests instrumentation, per client call (its span and metrics included);
- a feature flag's evaluation event (OpenFeature's TracingHook, section 8).

The floor is what one submission's items cost, added up: the least CPU telemetry can
add to a submission, before any contention between threads and processes.

Each item is timed twice. Hot: back to back, a few thousand times, so that the CPU's
caches hold everything it needs, as no service ever has it. Cold: with other work run
before each call, off the clock, as between two requests of a service: another form
submission through the four services, and as much memory copied as the CPU's largest
cache holds (the collector's, the backends' and the load's data). The code the
instrumentations wrap (a Flask request, a requests call, a logger call, a flag
evaluation) is timed both ways too: cold, the application's own code slows down as
much as telemetry's, or more. `make benchmark` (benchmarks/form_submission.py)
compares the whole path with both floors.
"""

import argparse
import contextlib
import gc
import io
import json
import logging
import re
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import requests
from flask import Flask
from openfeature import api as openfeature
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

from common import faults
from common import telemetry as workshop_telemetry
from common.sdk_defaults import use_workshop_defaults
from harness import browser

# The items, in the order the table shows them, and their labels.
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
    "flag_evaluation": "feature flag evaluation event (OpenFeature hook)",
}
FLASK_SCOPE = "opentelemetry.instrumentation.flask"
REQUESTS_SCOPE = "opentelemetry.instrumentation.requests"
# The event OpenFeature's TracingHook adds to the current span for each evaluation of a
# fault's flag (section 8; common/telemetry.py adds the hook).
FLAG_EVALUATION_EVENT = "feature_flag.evaluation"
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
    come with them); every span is encoded once, and carries an event for each feature
    flag evaluated in it; other measurements are histogram records (with an exemplar:
    they are recorded inside a sampled span) or counter adds.
    """
    counts = Counter()
    for span in spans:
        counts["flag_evaluation"] += sum(e.name == FLAG_EVALUATION_EVENT for e in span.events)
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


@contextlib.contextmanager
def services_in_this_process() -> Iterator[
    tuple[Callable[[], None], InMemorySpanExporter, InMemoryLogRecordExporter]
]:
    """The four services in this process (under waitress, offline) with the workshop's
    telemetry set-up and in-memory exporters: yields a function that submits the form,
    and the exporters."""
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
        yield submit, span_exporter, log_exporter
    finally:
        for server in servers:
            server.close()


class GarbageCollections:
    """The time Python's cyclic garbage collector takes, from its own callbacks."""

    def __init__(self):
        self.seconds, self._started = 0.0, 0.0

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started

    @contextlib.contextmanager
    def timing(self):
        gc.callbacks.append(self)
        try:
            yield self
        finally:
            gc.callbacks.remove(self)


def collection_us_per_submission(
    submit: Callable[[], None], exporters, rounds: int = 3, submissions: int = 200
) -> dict[str, float]:
    """The garbage collector's time per submission, with everything start-up built
    collectable, and after gc.freeze() (common/tuning.py): in turn, the least of each."""
    samples = {"without gc.freeze()": [], "with gc.freeze()": []}
    for _ in range(rounds):
        for name in samples:
            if name == "with gc.freeze()":
                gc.collect()
                gc.freeze()
            with GarbageCollections().timing() as collections:
                for _ in range(submissions):
                    submit()
                    for exporter in exporters:  # as an exporter would, let them go
                        exporter.clear()
            gc.unfreeze()
            samples[name].append(1e6 * collections.seconds / submissions)
    return {name: min(values) for name, values in samples.items()}


# --- What each item costs ------------------------------------------------------------


class SpansToNowhere(SpanExporter):
    """Exports to nowhere: the batch processor still does its work."""

    def export(self, spans):
        return SpanExportResult.SUCCESS


class LogsToNowhere(LogRecordExporter):
    def export(self, batch):
        return LogRecordExportResult.SUCCESS

    def shutdown(self):
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def cpu_us_per_call(
    function: Callable[[], object], calls: int, between: Callable[[], object] | None = None
) -> float:
    """CPU microseconds per call of `function`: back to back (hot), this process's
    threads included (the batch processors' threads do part of the work); or cold, with
    `between` run before each call and left off the clock. Cold, only this thread's time
    counts (the threads that `between` woke may still be finishing their work), and the
    median call's: a call that the kernel or the garbage collector interrupted is not
    the item's cost."""
    if between is None:
        started = time.process_time()
        for _ in range(calls):
            function()
        return 1e6 * (time.process_time() - started) / calls
    used = []
    for _ in range(calls):
        between()
        started = time.thread_time_ns()
        function()
        used.append(time.thread_time_ns() - started)
    return statistics.median(used) / 1000


# A timing: one item's CPU µs per call. A pair of timings, without and with telemetry,
# for the items that are what telemetry adds to something the service does anyway.
Timing = Callable[[], float | tuple[float, float]]


def least_of_rounds(
    timings: dict[str, Timing], repeats: int, bases: dict[str, float] | None = None
) -> dict[str, float]:
    """Time every item once a round, `repeats` rounds, and keep each item's least: the
    machine's other work only ever adds to a timing, and taking the rounds in turn makes
    a busy moment hit every item alike. For a pair: the least with, less the least
    without (which goes into `bases`, if given: what the code telemetry wraps costs)."""
    samples: dict[str, list] = {key: [] for key in timings}
    for _ in range(repeats):
        for key, timing in timings.items():
            samples[key].append(timing())
    costs = {}
    for key, values in samples.items():
        if isinstance(values[0], tuple):
            costs[key] = min(v[1] for v in values) - min(v[0] for v in values)
            if bases is not None:
                bases[key] = min(v[0] for v in values)
        else:
            costs[key] = min(values)
    return costs


def item_costs(
    submission: Submission,
    calls: int,
    repeats: int,
    between: Callable[[], object] | None = None,
    bases: dict[str, float] | None = None,
) -> dict[str, float]:
    """CPU microseconds per item, the SDK set up as the services set it up: hot, or
    cold with `between` run before each call (cpu_us_per_call)."""
    resource = workshop_telemetry.build_resource("cost-items", "0")
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(BatchSpanProcessor(SpansToNowhere()))
    tracer = tracer_provider.get_tracer("cost-items")

    def meter(exemplar_filter):
        provider = MeterProvider(
            resource=resource,
            metric_readers=[InMemoryMetricReader()],
            views=workshop_telemetry.VIEWS,
            exemplar_filter=exemplar_filter,
        )
        return provider, provider.get_meter("cost-items")

    meter_provider, with_exemplars = meter(TraceBasedExemplarFilter())
    _, without_exemplars = meter(AlwaysOffExemplarFilter())
    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(BatchLogRecordProcessor(LogsToNowhere()))
    attributes = {"iss.position.source": "sgp4"}

    def span():
        with tracer.start_as_current_span("iss.position") as current:
            current.set_attributes({**attributes, "iss.latitude": 1.0, "iss.longitude": 2.0})

    def in_a_span(function: Callable[[], object]) -> Timing:
        """Timed inside a sampled span, as in the ISS distance service: the trace-based
        filter keeps an exemplar, and a log record carries the span's ids."""

        def timing():
            with tracer.start_as_current_span("request"):
                return cpu_us_per_call(function, calls, between)

        return timing

    def encoding(encode: Callable[[list], object], items: list) -> Timing:
        """Per item, in batches of about EXPORT_BATCH (the submission's own items,
        repeated), as the batch processors export them: the Resource and the scope are
        encoded once a batch."""
        batch = items * max(1, EXPORT_BATCH // len(items))
        batches = max(1, calls // len(batch))

        def encode_batch():
            return encode(batch).SerializeToString()

        def timing():
            return cpu_us_per_call(encode_batch, batches, between) / len(batch)

        return timing

    def with_cached_resource_hash(timing: Timing) -> Timing:
        def timed():
            with cached_resource_hash():
                return timing()

        return timed

    histogram = with_exemplars.create_histogram("iss.position.duration", unit="s")
    plain_histogram = without_exemplars.create_histogram("iss.position.duration", unit="s")
    counter = with_exemplars.create_counter("iss.requests")
    span_encoding = encoding(encode_spans, submission.spans)
    timings = {
        "span": lambda: cpu_us_per_call(span, calls, between),
        "span_encoding": span_encoding,
        "span_encoding_cached_hash": with_cached_resource_hash(span_encoding),
        "histogram_exemplar": in_a_span(lambda: histogram.record(0.002, attributes)),
        "histogram": in_a_span(lambda: plain_histogram.record(0.002, attributes)),
        "counter": in_a_span(lambda: counter.add(1, attributes)),
        "log": log_record_timing(logger_provider, in_a_span),
        "log_encoding": encoding(encode_logs, submission.logs),
        "server_hop": server_hop_timing(tracer_provider, meter_provider, calls, between),
        "client_call": client_call_timing(tracer_provider, meter_provider, calls, between),
        "flag_evaluation": flag_evaluation_timing(tracer, calls, between),
    }
    costs = least_of_rounds(timings, repeats, bases)
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


def log_record_timing(provider: LoggerProvider, in_a_span) -> Timing:
    """One logger.info() without and with OpenTelemetry's logging handler."""
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
    plain = in_a_span(partial(loggers["plain"].info, message, "SGP4", 81))
    otel = in_a_span(partial(loggers["otel"].info, message, "SGP4", 81))
    return lambda: (plain(), otel())


CALLERS_TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def server_hop_timing(tracer_provider, meter_provider, calls: int, between=None) -> Timing:
    """One request to a Flask app without and with FlaskInstrumentor (its span and
    metrics included)."""

    def app() -> Flask:
        flask_app = Flask("cost-items")
        flask_app.add_url_rule("/", "locate", lambda: {"latitude": 48.86, "longitude": 2.35})
        return flask_app

    plain, instrumented = app(), app()
    FlaskInstrumentor().instrument_app(
        instrumented, tracer_provider=tracer_provider, meter_provider=meter_provider
    )
    # As the gateway calls a backend: a query, the caller's trace context, a JSON answer.
    environ = EnvironBuilder(
        path="/", query_string="location=Paris", headers={"traceparent": CALLERS_TRACEPARENT}
    ).get_environ()

    def request(flask_app: Flask):
        def call():
            body = flask_app(dict(environ), lambda status, headers, exc_info=None: None)
            for _ in body:
                pass
            getattr(body, "close", lambda: None)()

        return call

    without, with_instrumentation = request(plain), request(instrumented)
    return lambda: (
        cpu_us_per_call(without, calls, between),
        cpu_us_per_call(with_instrumentation, calls, between),
    )


def flag_evaluation_timing(tracer, calls: int, between=None) -> Timing:
    """One evaluation of a fault's flag, in a span, without and with the hooks that
    common/telemetry.py added (TracingHook: the span's feature_flag.evaluation event)."""

    def evaluate():
        with tracer.start_as_current_span("request"):
            faults.is_on("iss-errors")

    def timing():
        hooks = openfeature.get_hooks()
        openfeature.clear_hooks()
        try:
            plain = cpu_us_per_call(evaluate, calls, between)
        finally:
            openfeature.add_hooks(hooks)
        return plain, cpu_us_per_call(evaluate, calls, between)

    return timing


class Canned(requests.adapters.BaseAdapter):
    """Answers every request at once, without a network: only the client's work is left."""

    def send(self, request, **kwargs):
        response = requests.Response()
        response.status_code, response.request, response.url = 200, request, request.url
        response.raw = io.BytesIO(b"{}")
        return response

    def close(self):
        pass


def client_call_timing(tracer_provider, meter_provider, calls: int, between=None) -> Timing:
    """One outgoing call without and with RequestsInstrumentor (its span and metrics
    included)."""
    session = requests.Session()
    session.mount("http://upstream.test/", Canned())

    def call():
        return session.get("http://upstream.test/", timeout=1).content

    instrumentor = RequestsInstrumentor()
    # The workshop's set-up (counting a submission) has instrumented requests already.
    instrumentor.uninstrument()

    def timing():
        plain = cpu_us_per_call(call, calls, between)
        instrumentor.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
        try:
            return plain, cpu_us_per_call(call, calls, between)
        finally:
            instrumentor.uninstrument()

    return timing


# --- The table ----------------------------------------------------------------------

HEADER = (
    "item",
    "µs each",
    "µs each, cold",
    "per submission",
    "µs per submission",
    "µs per submission, cold",
    "share of the floor",
)


def table_rows(
    costs_us: dict[str, float], cold_us: dict[str, float], counts: Counter
) -> list[tuple[str, ...]]:
    """One row per item, then the floor, hot and cold. The sums are of the costs as
    shown (to 0.1 µs), so that the table adds up as printed."""
    shown = {item: round(costs_us[item], 1) for item in ITEMS}
    shown_cold = {item: round(cold_us[item], 1) for item in ITEMS}
    floor, cold_floor = floor_us(counts, shown), floor_us(counts, shown_cold)
    rows = []
    for item, label in ITEMS.items():
        each = (f"{shown[item]:.1f}", f"{shown_cold[item]:.1f}")
        count = counts.get(item, 0)
        if count:
            cost, cold = count * shown[item], count * shown_cold[item]
            share = f"{cost / floor:.0%}" if floor else "-"
            rows.append((label, *each, str(count), f"{cost:.0f}", f"{cold:.0f}", share))
        else:
            rows.append((label, *each, "-", "-", "-", "-"))
    rows.append(("floor, per submission", "", "", "", f"{floor:.0f}", f"{cold_floor:.0f}", "100%"))
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
    lines = ["| " + " | ".join(HEADER) + " |", "|---" + "|--:" * (len(HEADER) - 1) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def largest_cache_bytes() -> int:
    """This CPU's largest cache, in bytes, as Linux describes it (32 MiB elsewhere)."""
    units = {"K": 2**10, "M": 2**20}
    sizes = []
    for size_file in Path("/sys/devices/system/cpu/cpu0/cache").glob("index*/size"):
        text = size_file.read_text().strip()
        sizes.append(int(text[:-1]) * units[text[-1]] if text[-1] in units else int(text))
    return max(sizes, default=32 * 2**20)


class OtherWork:
    """What runs on the cores between two requests of one service as deployed, and
    leaves the caches cold for the next: the rest of a submission, through the other
    services' code, and other processes (the collector, the backends, the load) with
    data of their own, here as much memory copied as the largest cache holds."""

    def __init__(self, another_submission: Callable[[], None]):
        self._another_submission = another_submission
        size = largest_cache_bytes()
        self._source, self._copy = bytearray(size), bytearray(size)

    def __call__(self) -> None:
        self._another_submission()
        self._copy[:] = self._source


def measure(calls: int = 2000, repeats: int = 5, cold_calls: int = 100) -> dict:
    """Count one submission's items, time each hot and cold, and return all the figures."""
    use_workshop_defaults()
    with services_in_this_process() as (submit, span_exporter, log_exporter):
        submission = count_one_submission(submit, span_exporter, log_exporter)
        collections = collection_us_per_submission(submit, [span_exporter, log_exporter])

        def another_submission() -> None:
            """What runs between two requests of a service: the rest of a submission."""
            submit()
            span_exporter.clear()
            log_exporter.clear()

        wrapped_hot, wrapped_cold = {}, {}
        costs = item_costs(submission, calls, repeats, bases=wrapped_hot)
        other_work = OtherWork(another_submission)
        cold_repeats = min(repeats, 3)  # each cold call costs a submission more
        cold = item_costs(submission, cold_calls, cold_repeats, other_work, wrapped_cold)
    return {
        "collections_us": collections,
        "counts": dict(submission.counts),
        "spans": len(submission.spans),
        "measurements": len(submission.measurements),
        "logs": len(submission.logs),
        "costs_us": costs,
        "floor_us": floor_us(submission.counts, costs),
        "cold_costs_us": cold,
        "cold_floor_us": floor_us(submission.counts, cold),
        # What the code that the instrumentations wrap costs alone, hot and cold.
        "wrapped_us": {item: [wrapped_hot[item], wrapped_cold[item]] for item in wrapped_hot},
    }


def collections_line(collections_us: dict[str, float]) -> str:
    """The garbage collector's time, which the floor leaves out: telemetry's objects
    make it run more often."""
    return "Garbage collection per submission (the four services in one process): " + ", ".join(
        f"{us:.0f} µs {name}" for name, us in collections_us.items()
    )


# What the instrumentations wrap, by the item that wraps it.
WRAPPED = {
    "server_hop": "a Flask request",
    "client_call": "a requests call",
    "log": "a logger.info()",
    "flag_evaluation": "a flag evaluation",
}


def what_a_submission_makes(figures: dict) -> str:
    return (
        f"One form submission makes {figures['spans']} spans, {figures['measurements']} "
        f"metric measurements, {figures['logs']} log record(s) and "
        f"{figures['counts'].get('flag_evaluation', 0)} flag evaluation events."
    )


def items_table(figures: dict) -> str:
    counts = Counter(figures["counts"])
    return markdown_table(table_rows(figures["costs_us"], figures["cold_costs_us"], counts))


def notes_below(figures: dict) -> list[str]:
    """What the benchmark prints below the table."""
    return [*cold_lines(figures), collections_line(figures["collections_us"])]


def cold_lines(figures: dict) -> list[str]:
    """The floor hot and cold, and the same for the code telemetry wraps: the caches
    slow down the application's own code as much as telemetry's."""
    hot, cold = figures["floor_us"], figures["cold_floor_us"]
    wrapped = ", ".join(
        f"{WRAPPED[item]} {hot_us:.0f} -> {cold_us:.0f} µs (x{cold_us / hot_us:.1f})"
        for item, (hot_us, cold_us) in figures["wrapped_us"].items()
    )
    return [
        f"Floor: {hot / 1000:.2f} ms hot (each item back to back), {cold / 1000:.2f} ms "
        f"cold (other work in between, as deployed): x{cold / hot:.1f}.",
        f"The code telemetry wraps, alone, hot -> cold: {wrapped}.",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="calls per timing")
    parser.add_argument("--repeats", type=int, default=5, help="timings per item (the least)")
    parser.add_argument("--cold-calls", type=int, default=100, help="calls per cold timing")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--write-page", action="store_true", help=f"also put the table into {COST_PAGE.name}"
    )
    arguments = parser.parse_args()
    figures = measure(arguments.calls, arguments.repeats, arguments.cold_calls)
    if arguments.json:
        print(json.dumps(figures))
        return
    table = items_table(figures)
    print(what_a_submission_makes(figures), "", table, "", *notes_below(figures), sep="\n")
    if arguments.write_page:
        write_into_page(table)


if __name__ == "__main__":
    main()
