"""Self-checks: has the telemetry that a section of the workshop asks for arrived?

    python -m workshop.check 1          # or: make check SECTION=1

Each section makes the services send some telemetry. Every check asks Prometheus alone,
in PromQL (or for its alerting rules), so it gives the same answer under Docker Compose
and under `make stack`:
the services' own metrics arrive there, and the collector turns spans and log records
into metrics there too (traces_spanmetrics_* and log_records_total, see
platform/otel-collector-config.yml). It prints one line per expected signal: a tick when it
arrived in the last 15 minutes, a cross and a hint when it did not, with the query it
asked, so that you can ask it too (in Grafana's Explore, or Prometheus's API). The exit
code is 0 when everything arrived, 1 otherwise.

PROMETHEUS_URL points the checks at another Prometheus; FRONTEND_PORT and
OTEL_EXPORTER_OTLP_ENDPOINT mean what they mean to `make run`. In room mode, LEARNER=ada
limits every query to the telemetry of the learner who runs `LEARNER=ada make run`, and
ROOM_URL, the room's address, points the checks at the facilitator's platform through its
read-only view (workshop/room_address.py).
"""

import argparse
import os
import socket
import sys
import textwrap
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

import requests

from common.services import service
from common.settings import DEFAULT_OTLP_ENDPOINT
from workshop import learners, room_address
from workshop.backends import Prometheus

RECENT_MINUTES = 15  # older telemetry does not count: it may be from another attempt


@dataclass(frozen=True)
class Check:
    """One signal that a section expects, how to look for it, and what to do if it is missing."""

    signal: str  # what should have arrived, in a few words
    source: str  # how to look: "up", "promql", "exemplars" or "rules"
    query: str  # for "up" a part of the platform, for "rules" an alert's name, else PromQL
    hint: str  # for when it has not arrived


@dataclass(frozen=True)
class Section:
    title: str
    checks: list[Check]
    # A lesson on the platform itself (its rules, its collector): in room mode, the
    # facilitator's platform, so its checks are not one learner's.
    on_the_platform: bool = False


def seen(selector: str) -> str:
    """PromQL for the series that match `selector` and had a sample recently."""
    return f"present_over_time({selector}[{RECENT_MINUTES}m])"


def seen_where(condition: str) -> str:
    """PromQL for a condition on series that held at some point recently (a subquery)."""
    return f"present_over_time(({condition})[{RECENT_MINUTES}m:15s])"


SERVICES = ["frontend", "gateway", "geolocator-service", "iss-distance-service"]

# --- The hints --------------------------------------------------------------------------

START_PLATFORM = (
    "Start the telemetry platform: `docker compose up -d otel-collector grafana`, or without "
    "Docker `make stack` in a terminal of its own. It is ready within seconds."
)
ROOM_PLATFORM = (
    "In room mode the platform runs on the facilitator's machine. Give the room's address "
    "that the facilitator gives out: `ROOM_URL=http://<their address>:8000 LEARNER=<your "
    "name> make check SECTION=<n>`. Without it, the facilitator sees your progress with "
    "`make room`."
)
START_APP = (
    "Start the services: `make run` in a terminal of its own (or `docker compose up "
    "--build --watch` for everything in Docker). `FRONTEND_PORT=9080 make run` for another port."
)
NO_METRICS = (
    "Submit the form at least once: a counter appears at its first add(). Metrics leave "
    "every second. Prometheus calls the counter `iss.requests` `iss_requests_total`. Still "
    "nothing? Check that the MeterProvider has a PeriodicExportingMetricReader, and that "
    "OTEL_EXPORTER_OTLP_ENDPOINT is the collector's address, with http:// in front."
)
NO_METRIC_ATTRIBUTES = (
    "No counts with these attributes: pass them to add() as a dict. Prometheus turns the "
    "attribute `iss.position.source` into the label `iss_position_source`, and "
    "`http.response.status_code` into `http_response_status_code`."
)
NO_RESOURCE = (
    "Prometheus shows the Resource as the labels of `target_info`: service.name as "
    "`service_name`. Section 0: build the Resource with Resource.create() from service.name, "
    "service.version and deployment.environment.name, and give it to the MeterProvider."
)
NO_LOGS = (
    "Logs need a LoggerProvider with a BatchLogRecordProcessor and an OTLP log exporter, "
    "and a logging handler that passes Python's log records to it. Add the handler once "
    "(a second one sends every record twice), and set the root logger's level to INFO. "
    "The collector counts the records it receives into `log_records_total`."
)
NO_INFO_LOGS = (
    "No INFO records, though the service logs one for each ISS position: the root logger's "
    "level is WARNING unless you set it, and that drops them. Set it to INFO."
)
NO_SPANS = (
    "Spans need a TracerProvider with a BatchSpanProcessor and an OTLP span exporter, set "
    "before the first span starts. Then submit the form: spans leave within seconds, and "
    "the collector counts them into `traces_spanmetrics_calls_total`."
)
NO_POSITION_SPAN = (
    "No span named `iss.position`: wrap the lookup of the ISS position in "
    'tracer.start_as_current_span("iss.position"). The name must match exactly.'
)
NO_SPAN_ATTRIBUTE = (
    "No `iss.position` span with the attribute `iss.position.source`: set it on the span, "
    "to the source that the position came from."
)
NO_DISTANCE_SPAN = 'Wrap the distance computation in tracer.start_as_current_span("iss.distance").'
NO_TRACE_IDS_IN_LOGS = (
    "A log record carries the trace id of the span that is current when it is logged, so "
    "log inside the span's `with` block. The collector counts records with a trace id "
    'under has_trace_id="true".'
)
NO_SERVER_SPANS = (
    "No server spans: instrument each service's Flask app, "
    "FlaskInstrumentor().instrument_app(app), so that every request it serves is a span."
)
NO_PROPAGATION = (
    "This service's server spans start traces of their own: the trace context does not "
    "travel. Outgoing calls must carry the W3C `traceparent` header (instrument the "
    "requests library), and each Flask app must continue the trace it receives (instrument "
    'the app). A span that continues a trace is counted with span_is_root="false".'
)
NO_HTTP_METRICS = (
    "Instrument the service's Flask app: it then records http.server.request.duration. "
    "Without OTEL_SEMCONV_STABILITY_OPT_IN=http, set before the first instrument() call, "
    "you get the old `http_server_duration_milliseconds` instead."
)
NO_EXEMPLARS = (
    "A histogram keeps an exemplar when it records inside a sampled span, so the Flask "
    "instrumentation (section 4) must be on. Prometheus keeps exemplars in memory only, and "
    "only with --enable-feature=exemplar-storage: submit the form again after a restart."
)
NO_SPAN_EXEMPLARS = (
    "The collector's span_metrics connector keeps an exemplar, a trace id, on its duration "
    "histogram for the spans it counts: section 3's spans must arrive first. Prometheus keeps "
    "exemplars in memory only: submit the form again after a restart."
)
NO_LOAD = (
    "Start the load generator: `make load`, or `docker compose --profile load up -d` with "
    "Docker. The rate is over the last minute, so give it a minute."
)
NO_ZERO_CODE = (
    "Run the services with zero-code instrumentation: `make zero-code`. It starts them under "
    "opentelemetry-instrument, which adds `telemetry.auto.version` to the Resource: "
    "Prometheus shows it as a label of `target_info`."
)
INSTRUMENTED_TWICE = (
    "Wanted: zero-code telemetry from the iss-distance-service without `iss_requests_total`, "
    "the counter you wrote by hand. With it, your own instrumentation ran under "
    "opentelemetry-instrument's and everything was set up twice (the console says "
    '"Overriding of current MeterProvider is not allowed"). `make zero-code` runs the '
    "code of checkpoint 0, which has no OpenTelemetry code, whatever your working tree holds."
)
NO_HISTOGRAM = (
    "No `iss.position.duration` histogram: create it with meter.create_histogram(..., "
    'unit="s") and record each lookup\'s duration in seconds, with the attribute '
    "`iss.position.source`. Prometheus adds the unit to the name, and a histogram's series "
    "are `iss_position_duration_seconds_bucket`, `_count` and `_sum`."
)
NO_VIEW_BUCKETS = (
    "The histogram has the SDK's default buckets (0, 5, 10, ... 10000: for milliseconds), "
    'not the View\'s (an `le="1.5"` bucket). Give the MeterProvider views=[...], with a '
    'View whose instrument_name is "iss.position.duration", exactly, and whose aggregation '
    "is ExplicitBucketHistogramAggregation(boundaries=[...]). Then restart the services."
)
NO_DROPPED_ATTRIBUTE = (
    "The View's buckets are there, but so is `iss_tle_age_days`: give the View "
    'attribute_keys={"iss.position.source"}, the attributes to keep; the others are dropped.'
)
NO_HISTOGRAM_EXEMPLARS = (
    "Record the duration inside the `iss.position` span's `with` block: a histogram keeps the "
    "trace id of the span that is current when it records, as an exemplar. Prometheus keeps "
    "exemplars in memory only: submit the form again after a restart."
)
NO_FAULT = (
    "Switch a fault on while the services run: `make fault NAME=iss-latency` (`make fault` "
    "lists the others). No restart: the services re-read faults/flags.json within a second. "
    "Submit the form a few times, then find out from the telemetry what is wrong; "
    "`make fault NAME=off` switches it off. Warnings that name no fault flag (such as "
    '"Nominatim failed" without internet) do not count.'
)

NO_ALERTING_RULES = (
    "Prometheus has not loaded the alerting rules of platform/prometheus/alerts.yml, which "
    "platform/prometheus.yml names under rule_files. Start the platform again (`make stack`, or "
    "`docker compose up -d prometheus`); `make alerts` checks both files."
)
NO_FIRING_ALERT = (
    "No alert has fired yet. Keep the load running (`make load`), switch a fault on "
    "(`make fault NAME=iss-errors`), and watch http://127.0.0.1:9090/api/v1/alerts: the "
    "alert is pending first, and fires a minute later."
)
STILL_FIRING = (
    "The alert still fires: switch the fault off (`make fault NAME=off`), "
    "keep the load running, and wait until /api/v1/alerts no longer lists it (a minute "
    "or two: the rules look at the last minute of requests)."
)
NO_TAIL_SAMPLING = (
    "The collector decides on no trace yet: add the tail_sampling processor to "
    "platform/otel-collector-config.yml and to the traces pipeline's processors, then restart the "
    "collector (Ctrl-C and `make stack`, or `docker compose restart otel-collector`). It "
    "counts its decisions into otelcol_processor_tail_sampling_global_count_traces_sampled_total."
)
NO_LOAD_LEFT_OUT = (
    "Tail sampling has kept every trace: it leaves out only some of the load generator's. "
    "Run `make load` (or `docker compose --profile load up -d`) for a minute."
)
NO_REDACTION = (
    "The place still reaches the backends: add the transform/personal_data processor to "
    "platform/otel-collector-config.yml and to the processors of the traces and the logs "
    "pipelines, then restart the collector and submit the form."
)

# --- What each section expects -----------------------------------------------------------

# The collector's own metrics: what a processor of the traces or logs pipeline handled.
TAIL_SAMPLING = "otelcol_processor_tail_sampling_global_count_traces_sampled_total"
PROCESSED = "otelcol_processor_incoming_items_total"

# The parts of the platform that every section needs.
PLATFORM = [
    Check("Prometheus is ready", "up", "prometheus", START_PLATFORM),
    Check("the collector accepts OTLP", "up", "collector", START_PLATFORM),
]

ISS = 'service_name="iss-distance-service"'
SPANS = "traces_spanmetrics_calls_total"  # every span, counted by the collector
LOGS = "log_records_total"  # every log record, counted by the collector
SERVER = 'span_kind="SPAN_KIND_SERVER"'
FIRING = 'ALERTS{alertstate="firing"}'  # one series per alert, while it fires
# A server answer that took over 1 s: the duration histogram's count above its 1 s bucket.
SLOW_SERVER_SPANS = (
    f"traces_spanmetrics_latency_count{{{SERVER}}}"
    f' - ignoring(le) traces_spanmetrics_latency_bucket{{{SERVER}, le="1"}} > 0'
)

# Set by opentelemetry-instrument on the Resource: telemetry from zero-code instrumentation.
ZERO_CODE = 'telemetry_auto_version!=""'
# A fault's own warning names its flag (common/faults.py): the attribute feature_flag.key.
FAULT_WARNING = 'severity_text="WARN", feature_flag_key!=""'

# The histogram of section 9: the unit, seconds, is part of its name in Prometheus.
POSITION_DURATION = "iss_position_duration_seconds"

SECTIONS = {
    # The Resource travels with the telemetry: section 1 checks it, on target_info.
    0: Section("The Resource", [
        *PLATFORM,
        Check("the application answers", "up", "frontend", START_APP),
    ]),
    1: Section("Metrics", [
        Check("iss_requests_total from iss-distance-service", "promql",
              seen(f"iss_requests_total{{{ISS}}}"), NO_METRICS),
        Check("... counted by iss_position_source", "promql",
              seen(f'iss_requests_total{{{ISS}, iss_position_source!=""}}'),
              NO_METRIC_ATTRIBUTES),
        Check("incoming_requests_total from iss-distance-service", "promql",
              seen(f"incoming_requests_total{{{ISS}}}"), NO_METRICS),
        Check("... counted by iss_position_source and http_response_status_code", "promql",
              seen(f'incoming_requests_total{{{ISS}, iss_position_source!="", '
                   'http_response_status_code!=""}'),
              NO_METRIC_ATTRIBUTES),
        Check("target_info shows the Resource of iss-distance-service", "promql",
              seen(f'target_info{{{ISS}, service_version!="", '
                   'deployment_environment_name!=""}'),
              NO_RESOURCE),
    ]),
    2: Section("Logs", [
        *[Check(f"log records from {name}", "promql",
                seen(f'{LOGS}{{service_name="{name}"}}'), NO_LOGS)
          for name in SERVICES],
        Check("INFO records from iss-distance-service", "promql",
              seen(f'{LOGS}{{{ISS}, severity_text="INFO"}}'), NO_INFO_LOGS),
    ]),
    3: Section("Tracing", [
        Check("spans from iss-distance-service", "promql", seen(f"{SPANS}{{{ISS}}}"), NO_SPANS),
        Check("iss.position spans", "promql",
              seen(f'{SPANS}{{{ISS}, span_name="iss.position"}}'), NO_POSITION_SPAN),
        Check("... with the attribute iss.position.source", "promql",
              seen(f'{SPANS}{{{ISS}, span_name="iss.position", iss_position_source!=""}}'),
              NO_SPAN_ATTRIBUTE),
        Check("iss.distance spans", "promql",
              seen(f'{SPANS}{{{ISS}, span_name="iss.distance"}}'), NO_DISTANCE_SPAN),
        Check("iss-distance-service logs carry a trace id", "promql",
              seen(f'{LOGS}{{{ISS}, has_trace_id="true"}}'), NO_TRACE_IDS_IN_LOGS),
    ]),
    4: Section("Distributed tracing", [
        # The frontend begins each trace; the three services behind it continue it.
        Check("the frontend's server spans begin traces", "promql",
              seen(f'{SPANS}{{service_name="frontend", {SERVER}, span_is_root="true"}}'),
              NO_SERVER_SPANS),
        *[Check(f"{name} continues the trace it is called in", "promql",
                seen(f'{SPANS}{{service_name="{name}", {SERVER}, span_is_root="false"}}'),
                NO_PROPAGATION)
          for name in SERVICES[1:]],
        *[Check(f"http_server_request_duration_seconds from {name}", "promql",
                seen(f'http_server_request_duration_seconds_count{{service_name="{name}"}}'),
                NO_HTTP_METRICS)
          for name in SERVICES],
    ]),
    5: Section("Correlation", [
        # Metric -> trace: histogram samples carry the trace id of a request they counted.
        Check("exemplars with a trace_id on http_server_request_duration_seconds", "exemplars",
              "http_server_request_duration_seconds_bucket", NO_EXEMPLARS),
        Check("exemplars with a trace_id on the collector's span metrics", "exemplars",
              "traces_spanmetrics_latency_bucket", NO_SPAN_EXEMPLARS),
        # Log <-> trace: a record carries the trace and span it was written in.
        Check("iss-distance-service logs carry a trace id", "promql",
              seen(f'{LOGS}{{{ISS}, has_trace_id="true"}}'), NO_TRACE_IDS_IN_LOGS),
    ]),
    6: Section("Dashboard and load", [
        Check("the frontend serves more than 0.2 requests/s (the load generator)", "promql",
              'sum(rate(http_server_request_duration_seconds_count{service_name="frontend"}'
              "[1m])) > 0.2",
              NO_LOAD),
    ]),
    7: Section("Zero-code instrumentation", [
        Check("telemetry from zero-code instrumentation", "promql",
              seen(f"target_info{{{ZERO_CODE}}}"), NO_ZERO_CODE),
        # Only the code of checkpoint 0 runs: no counter written by hand comes from a
        # zero-code process (job and instance name the process, on every series).
        Check("... from the application without OpenTelemetry code of its own", "promql",
              seen(f"target_info{{{ISS}, {ZERO_CODE}}}")
              + " unless on(job, instance) " + seen(f"iss_requests_total{{{ISS}}}"),
              INSTRUMENTED_TWICE),
    ]),
    8: Section("Troubleshooting", [
        # A fault shows as a server error (5xx), a slow answer, or (wrong-place) only as
        # the warning that it logs while a request is answered. It names its flag: other
        # warnings, such as the geolocator's when Nominatim cannot be reached, are no fault.
        Check("a fault: a server answers with an error or takes over 1 s, or a fault's "
              "warning is logged while answering", "promql",
              seen(f'{SPANS}{{{SERVER}, status_code="STATUS_CODE_ERROR"}}')
              + " or " + seen_where(SLOW_SERVER_SPANS)
              + " or " + seen(f'{LOGS}{{{FAULT_WARNING}, has_trace_id="true"}}'),
              NO_FAULT),
    ]),
    9: Section("Histograms and Views", [
        Check("iss_position_duration_seconds from iss-distance-service, by source", "promql",
              seen(f'{POSITION_DURATION}_count{{{ISS}, iss_position_source!=""}}'),
              NO_HISTOGRAM),
        Check("... counted into the View's buckets", "promql",
              seen(f'{POSITION_DURATION}_bucket{{{ISS}, le="1.5"}}'), NO_VIEW_BUCKETS),
        Check("... without the attribute iss.tle.age_days, which the View drops", "promql",
              seen(f'{POSITION_DURATION}_bucket{{{ISS}, le="1.5", iss_tle_age_days=""}}'),
              NO_DROPPED_ATTRIBUTE),
        Check("... with exemplars that carry a trace_id", "exemplars",
              f"{POSITION_DURATION}_bucket", NO_HISTOGRAM_EXEMPLARS),
    ]),
    10: Section("Alerting", [
        *[Check(f"Prometheus has loaded the alerting rule {name}", "rules", name,
                NO_ALERTING_RULES)
          for name in ("HighErrorRatio", "HighLatency")],
        Check("an alert fired", "promql", seen(FIRING), NO_FIRING_ALERT),
        # One fired in the last 15 minutes, and none fires now (an alert resolved
        # earlier does not hide one that still fires).
        Check("... and was resolved once the fault was off", "promql",
              f"count({seen(FIRING)}) unless count({FIRING})", STILL_FIRING),
    ], on_the_platform=True),
    11: Section("Sampling", [
        Check("the collector's tail sampling keeps traces", "promql",
              seen(f'{TAIL_SAMPLING}{{sampled="true"}}'), NO_TAIL_SAMPLING),
        Check("... and leaves some of the load generator's out", "promql",
              seen(f'{TAIL_SAMPLING}{{sampled="false"}}'),
              NO_LOAD_LEFT_OUT),
    ], on_the_platform=True),
    12: Section("Collector processing: personal data", [
        *[Check(f"transform/personal_data processes the {signal} on their way to storage",
                "promql",
                seen(f'{PROCESSED}{{processor="transform/personal_data", '
                     f'otel_signal="{signal}"}}'),
                NO_REDACTION)
          for signal in ("traces", "logs")],
    ], on_the_platform=True),
}  # fmt: skip

# --- Asking the platform -------------------------------------------------------------

LANGUAGE = {"promql": "PromQL", "exemplars": "exemplars of"}
# The page that answers 200 once each part is up. The collector has none (it speaks
# OTLP over gRPC on its port), so for it a TCP connection that opens has to do.
READY_PAGES = {"prometheus": "/-/ready", "frontend": "/"}


def platform_urls(environ=os.environ) -> dict[str, str]:
    """Where each part listens: the usual local ports, unless the environment (or the
    room's address, ROOM_URL) says otherwise."""
    environ = room_address.with_room(environ)
    frontend = service("frontend")
    return {
        "prometheus": environ.get("PROMETHEUS_URL", "http://127.0.0.1:9090"),
        "collector": environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", DEFAULT_OTLP_ENDPOINT),
        "frontend": f"http://127.0.0.1:{environ.get(frontend.port_variable, frontend.port)}",
    }


def is_up(part: str, url: str) -> bool:
    """Whether a part of the platform, or the application, answers at `url`."""
    if part == "collector":
        address = urlsplit(url)
        try:
            socket.create_connection((address.hostname, address.port or 4317), timeout=2).close()
        except OSError:
            return False
        return True
    try:
        return requests.get(url + READY_PAGES[part], timeout=2).status_code == 200
    except requests.RequestException:
        return False


def for_learner(check: Check, name: str | None) -> Check:
    """The check, asking only about one learner's telemetry (room mode), or as it is."""
    if name is None or check.source == "up":  # "up" asks about this machine, not a learner
        return check
    return replace(check, query=learners.only_theirs(check.query, name))


def arrived(check: Check, urls: dict[str, str]) -> bool:
    """Whether the signal arrived recently. Raises requests.RequestException when
    Prometheus cannot be asked, or refuses the query."""
    match check.source:
        case "up":
            return is_up(check.query, urls[check.query])
        case "promql":
            return bool(Prometheus(urls["prometheus"]).query(check.query))
        case "exemplars":
            since = RECENT_MINUTES * 60
            exemplars = Prometheus(urls["prometheus"]).exemplars(check.query, since)
            return any("trace_id" in exemplar["labels"] for exemplar in exemplars)
        case "rules":
            return check.query in Prometheus(urls["prometheus"]).alerting_rules()
    raise ValueError(f"unknown source {check.source!r}")


def asked(check: Check, urls: dict[str, str]) -> str:
    """What was asked where, so that the learner can ask it too."""
    if check.source == "rules":
        return f"GET {urls['prometheus']}/api/v1/rules?type=alert, {check.query} among the rules"
    if check.source != "up":
        return f"{LANGUAGE[check.source]} {check.query}"
    if check.query == "collector":
        return f"connect to {urls['collector']}"
    return f"GET {urls[check.query]}{READY_PAGES[check.query]}"


def why_not(error: requests.RequestException) -> str:
    """The reason a backend could not be asked, in one line."""
    if error.response is not None:  # the backend answered, but with an error
        return f"{error.response.status_code} {error.response.text.strip()[:300]}"
    return type(error).__name__  # ConnectionError, ReadTimeout, ...


# --- Reporting ---------------------------------------------------------------------------


INDENT = " " * 6  # hints and queries, under the line of their check


class Report:
    """Prints one line per check, and the hint under each one that failed."""

    def __init__(self, urls: dict[str, str], out=sys.stdout):
        self.urls = urls
        self.out = out
        self.passed, self.failed = marks(out)
        self.hints_shown: set[str] = set()
        self.failures = 0

    def run(self, checks: list[Check]) -> bool:
        """Run every one of the checks, print what they find; True when all passed."""
        results = [self.run_one(check) for check in checks]  # all of them, not up to a failure
        return all(results)

    def run_one(self, check: Check) -> bool:
        try:
            ok, hint = arrived(check, self.urls), check.hint
        except requests.RequestException as error:
            ok, hint = False, f"Could not ask Prometheus: {why_not(error)}"
        self.print(f"  {self.passed if ok else self.failed} {check.signal}")
        if not ok:
            self.failures += 1
            # Several checks can share a hint (one for each service): give it once.
            said = hint if hint not in self.hints_shown else "Same hint as above."
            self.hints_shown.add(hint)
            self.print(textwrap.fill(said, 90, initial_indent=INDENT, subsequent_indent=INDENT))
            self.print(INDENT + asked(check, self.urls))  # unwrapped, to copy and paste
        return ok

    def print(self, text: str) -> None:
        print(text, file=self.out)


def marks(out) -> tuple[str, str]:
    """✓ and ✗, or OK and MISSING where the output cannot show them."""
    try:
        "✓✗".encode(out.encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        return "OK", "MISSING"
    return "✓", "✗"


def check_section(
    number: int, urls: dict[str, str], out=sys.stdout, learner: str | None = None
) -> bool:
    """Check one section, print the report; True when everything arrived.

    With a learner's name (room mode), only that learner's telemetry counts.
    """
    section = SECTIONS[number]
    report = Report(urls, out)
    # First the platform: without it, nothing else can arrive.
    asks_prometheus = any(check.source != "up" for check in section.checks)
    platform = PLATFORM if asks_prometheus else []
    window = f" (telemetry of the last {RECENT_MINUTES} minutes)" if asks_prometheus else ""
    if section.on_the_platform:
        learner = None  # the whole platform's, whoever asks
    whose = f", for {learner}" if learner and asks_prometheus else ""
    report.print(f"Section {number}, {section.title}{whose}{window}:")
    if not report.run(platform):
        report.print("The section's other checks need the platform: start it first.")
        if learner:
            report.print(textwrap.fill(ROOM_PLATFORM, 90))
        return False
    all_arrived = report.run([for_learner(check, learner) for check in section.checks])
    total = len(platform) + len(section.checks)
    if all_arrived:
        report.print(f"All {total} checks passed.")
    else:
        report.print(f"{report.failures} of {total} checks failed: see the hints above.")
    return all_arrived


def main(arguments: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m workshop.check",
        description=__doc__,
        epilog="sections:\n" + "\n".join(f"  {n:>2}  {s.title}" for n, s in SECTIONS.items()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("section", type=int, choices=SECTIONS, help="the section to check")
    options = parser.parse_args(arguments)
    try:
        learner = learners.learner()
        urls = platform_urls()
    except (learners.LearnerNameError, room_address.RoomURLError) as error:
        print(error, file=sys.stderr)
        return 2
    return 0 if check_section(options.section, urls, learner=learner) else 1


if __name__ == "__main__":
    sys.exit(main())
