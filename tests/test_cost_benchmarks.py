"""The cost benchmarks' own logic: what one submission is counted as, the floor, the
pairing of runs, and the table that docs/09a-cost.md shows."""

import gc
import time
from collections import Counter
from types import SimpleNamespace

import pytest
from opentelemetry.trace import SpanKind

import gateway
import geolocator
import iss_distance
import webapp
from benchmarks import telemetry_items
from benchmarks.form_submission import round_orders, spread, summarise, verdict
from benchmarks.profile_services import Figures, threads, where_telemetrys_cpu_goes
from benchmarks.submissions import Run
from benchmarks.telemetry_items import (
    COST_PAGE,
    FLAG_EVALUATION_EVENT,
    FLASK_SCOPE,
    ITEMS,
    PAGE_TABLE,
    REQUESTS_SCOPE,
    Made,
    count_one_submission,
    floor_us,
    items_per_submission,
    markdown_table,
    table_rows,
    write_into_page,
)
from common.tuning import TUNING_VARIABLE, tune_after_start_up


def span(scope: str, kind: SpanKind, events: tuple[str, ...] = ()):
    return SimpleNamespace(
        instrumentation_scope=SimpleNamespace(name=scope),
        kind=kind,
        events=[SimpleNamespace(name=name) for name in events],
    )


def test_spans_measurements_and_logs_become_the_costed_items():
    spans = [
        *[span(FLASK_SCOPE, SpanKind.SERVER, (FLAG_EVALUATION_EVENT,))] * 2,
        *[span(FLASK_SCOPE, SpanKind.SERVER)] * 2,
        *[span(REQUESTS_SCOPE, SpanKind.CLIENT)] * 3,
        # A span's other events are part of the span.
        span("iss_distance", SpanKind.INTERNAL, (FLAG_EVALUATION_EVENT, "exception")),
        span("iss_distance", SpanKind.INTERNAL),
    ]
    measurements = [
        Made(FLASK_SCOPE, "_Histogram"),  # in the hop's cost
        Made(FLASK_SCOPE, "_UpDownCounter"),
        Made(REQUESTS_SCOPE, "_Histogram"),  # in the call's cost
        Made("iss_distance", "_Histogram"),
        Made("iss_distance", "_Counter"),
        Made("iss_distance", "_Counter"),
    ]
    counts = items_per_submission(spans, measurements, logs=1)
    assert counts == Counter(
        server_hop=4,
        client_call=3,
        span=2,
        span_encoding=9,  # every span is encoded, the instrumentations' too
        histogram_exemplar=1,
        counter=2,
        log=1,
        log_encoding=1,
        flag_evaluation=3,
    )


def test_a_server_span_from_elsewhere_is_a_plain_span_not_a_hop():
    """The decoy: a SERVER span that no Flask instrumentation made costs a span."""
    counts = items_per_submission([span("my.code", SpanKind.SERVER)], [], logs=0)
    assert counts == Counter(span=1, span_encoding=1)


def test_the_floor_is_each_item_times_its_count():
    costs = dict.fromkeys(ITEMS, 1000.0) | {"server_hop": 200.0, "span_encoding": 30.0}
    assert floor_us(Counter(server_hop=4, span_encoding=9), costs) == 4 * 200 + 9 * 30
    assert floor_us(Counter(), costs) == 0


def test_one_real_submission_is_counted_from_what_the_services_export(
    serve_with_waitress, telemetry
):
    """The services in this process under waitress (which logs no request, as in
    production), with the test's in-memory exporters (conftest.py): the frontend's test
    client stands in for the browser."""

    def serve(app) -> str:
        host, port = serve_with_waitress(app)
        return f"http://{host}:{port}"

    backends = {
        "GEOLOCATOR_URL": serve(geolocator.create_app({"OFFLINE": True})),
        "ISS_DISTANCE_URL": serve(iss_distance.create_app({"OFFLINE": True})),
    }
    frontend = webapp.create_app({"GATEWAY_URL": serve(gateway.create_app(backends))})
    client = frontend.test_client()

    def submit():
        assert client.post("/", data={"location": "Paris"}).status_code == 200

    submission = count_one_submission(submit, telemetry.span_exporter, telemetry.log_exporter)
    # frontend, gateway, geolocator, ISS distance; the three calls between them; the
    # ISS distance service's own iss.position and iss.distance spans; one log record.
    assert submission.counts["server_hop"] == 4
    assert submission.counts["client_call"] == 3
    assert submission.counts["span"] == 2
    assert submission.counts["log"] == 1
    # The faults' flags (common/faults.py): slow-geocoder and wrong-place in the
    # geolocator, iss-latency and iss-errors in the ISS distance service.
    assert submission.counts["flag_evaluation"] == 4
    # Histograms for every hop and call; the active requests' +1 and -1, each counted.
    scopes = Counter(made.scope for made in submission.measurements)
    assert scopes[FLASK_SCOPE] == 4 * 3
    assert scopes[REQUESTS_SCOPE] == 3
    assert submission.counts["histogram_exemplar"] + submission.counts["counter"] >= 2


def round_of(cpu_ms: float, rps: float) -> Run:
    return Run(rps=rps, p50=10, p99=20, cpu_ms=cpu_ms, system_ms=1, switches=30, stop=1)


def test_each_run_is_compared_with_the_same_round_without_telemetry():
    runs = {
        "off": [round_of(10, 100), round_of(12, 80)],
        "on": [round_of(13, 70), round_of(16, 60)],
    }
    summary = summarise(runs, off="off")
    assert list(summary) == ["on"]
    assert summary["on"].cpu_ms == [3, 4]  # not 13 - 11 (the mean of the off runs)
    assert summary["on"].throughput == [0.7, 0.75]


def test_the_rounds_rotate_so_that_no_scenario_is_always_first():
    orders = round_orders(["a", "b", "c"], 4)
    assert orders == [["a", "b", "c"], ["b", "c", "a"], ["c", "a", "b"], ["a", "b", "c"]]


def test_the_spread_shows_the_median_and_the_extremes():
    assert spread([3.0, 1.0, 2.0]) == "2.00 (1.00-3.00)"


# --- The table in the docs -------------------------------------------------------------


def documented_table(text: str) -> str:
    tables = PAGE_TABLE.findall(text)
    assert len(tables) == 1, "the page shows one table of the items"
    return tables[0]


def reproduce(table: str) -> str:
    """The table the current benchmark prints for the figures this table shows."""
    costs, cold_costs, counts = {}, {}, Counter()
    by_label = {label: item for item, label in ITEMS.items()}
    for line in table.splitlines()[2:]:
        label, each, cold, count, *_ = (cell.strip() for cell in line.strip("|").split("|"))
        if label in by_label:
            costs[by_label[label]] = float(each)
            cold_costs[by_label[label]] = float(cold)
            counts[by_label[label]] = 0 if count == "-" else int(count)
    assert set(costs) == set(ITEMS), "the page's rows are the benchmark's items"
    return markdown_table(table_rows(costs, cold_costs, counts))


def test_the_pages_table_is_what_the_benchmark_prints():
    table = documented_table(COST_PAGE.read_text())
    assert table == reproduce(table)


def test_a_table_typed_by_hand_or_from_an_older_benchmark_is_refused():
    """The decoys: a floor added up by hand, and a row the benchmark no longer prints."""
    table = documented_table(COST_PAGE.read_text())
    floor_line = table.splitlines()[-1]
    typed = table.replace(floor_line, "| floor, per submission |  |  |  | 1700 | 3000 | 100% |")
    assert typed != reproduce(typed)
    older = table.replace(ITEMS["counter"], "counter increment")
    with pytest.raises(AssertionError, match="rows are the benchmark's items"):
        reproduce(older)


def test_writing_the_page_replaces_its_table_and_nothing_else(tmp_path):
    page = tmp_path / "cost.md"
    before, after = "# Cost\n\nRun it.\n\n", "\n\n**Read it.**\n"
    page.write_text(before + "| item | old |\n|---|--:|\n| span | 1 |" + after)
    costs = dict.fromkeys(ITEMS, 2.0)
    table = markdown_table(table_rows(costs, costs, Counter(span=1)))
    write_into_page(table, page)
    assert page.read_text() == before + table + after
    page.write_text("no table here\n")
    with pytest.raises(ValueError, match="one table"):
        write_into_page(table, page)


def test_the_table_is_the_one_the_benchmark_prints_to_a_learner(capsys, monkeypatch):
    """main() prints markdown_table(): the page's table format is the terminal's."""
    figures = {
        "counts": {"span": 2, "flag_evaluation": 4},
        "spans": 9,
        "measurements": 18,
        "logs": 1,
        "costs_us": dict.fromkeys(ITEMS, 10.0),
        "cold_costs_us": dict.fromkeys(ITEMS, 25.0),
        "collections_us": {"without gc.freeze()": 300.0, "with gc.freeze()": 150.0},
        "floor_us": 20.0,
        "cold_floor_us": 50.0,
        "wrapped_us": {"server_hop": [40.0, 200.0]},
    }
    monkeypatch.setattr(telemetry_items, "measure", lambda calls, repeats, cold: figures)
    monkeypatch.setattr("sys.argv", ["telemetry_items"])
    telemetry_items.main()
    printed = capsys.readouterr().out
    costs, cold_costs = figures["costs_us"], figures["cold_costs_us"]
    counts = Counter(span=2, flag_evaluation=4)
    assert markdown_table(table_rows(costs, cold_costs, counts)) in printed
    assert "1 log record(s) and 4 flag evaluation events" in printed
    assert "Floor: 0.02 ms hot (each item back to back), 0.05 ms cold" in printed
    assert "a Flask request 40 -> 200 µs (x5.0)" in printed


# --- The tuning that `make benchmark` compares ------------------------------------------


@pytest.fixture
def unfrozen():
    gc.unfreeze()
    yield
    gc.unfreeze()  # the rest of the tests run as before


def test_tuning_freezes_what_start_up_built(unfrozen, monkeypatch):
    monkeypatch.delenv(TUNING_VARIABLE, raising=False)
    tune_after_start_up()
    assert gc.get_freeze_count() > 0


def test_tuning_off_leaves_the_process_as_it_was(unfrozen, monkeypatch):
    monkeypatch.setenv(TUNING_VARIABLE, "off")
    tune_after_start_up()
    assert gc.get_freeze_count() == 0


def test_each_item_keeps_its_least_timing_and_a_pair_its_least_difference():
    calls = []
    plain_then_with = iter([(10.0, 30.0), (8.0, 31.0), (12.0, 26.0)])
    single = iter([5.0, 3.0, 4.0])

    def pair():
        calls.append("pair")
        return next(plain_then_with)

    def alone():
        calls.append("alone")
        return next(single)

    costs = telemetry_items.least_of_rounds({"pair": pair, "alone": alone}, repeats=3)
    assert costs == {"pair": 26.0 - 8.0, "alone": 3.0}
    # Round by round, every item in turn: a busy moment hits each alike.
    assert calls == ["pair", "alone"] * 3


# --- Hot and cold ----------------------------------------------------------------------


def burn(seconds: float) -> None:
    deadline = time.thread_time() + seconds
    while time.thread_time() < deadline:
        pass


def test_cold_timing_leaves_the_work_in_between_off_the_clock():
    between_calls = []

    def between():
        between_calls.append(1)
        burn(0.01)

    cold = telemetry_items.cpu_us_per_call(lambda: burn(0.001), 5, between)
    assert len(between_calls) == 5  # before every call
    # Each call's own millisecond; 11 ms if the work in between were counted.
    assert 900 < cold < 3000


def test_the_work_in_between_runs_a_submission_and_fills_the_largest_cache():
    submissions = []
    other_work = telemetry_items.OtherWork(lambda: submissions.append(1))
    other_work()
    assert submissions == [1]
    assert len(other_work._copy) == telemetry_items.largest_cache_bytes() >= 2**20


def test_the_verdict_splits_telemetrys_cpu_into_the_cold_floor_and_the_rest():
    text = verdict(goal_ms=2.5, cold_floor_ms=3.1, after_ms=5.0)
    assert "Of telemetry's 5.00 ms, 3.10 ms is the floor's own items" in text
    assert "(above the goal by itself)" in text
    assert "the other 1.90 ms" in text
    assert "above the goal" not in verdict(goal_ms=2.5, cold_floor_ms=2.0, after_ms=5.0)
    # The decoy: one noisy round below the cold floor, which no split explains.
    below = verdict(goal_ms=2.6, cold_floor_ms=3.5, after_ms=2.2)
    assert "2.20 ms is less than the floor's own items with the caches cold (3.50 ms)" in below
    assert "the runs' noise" in below and "the other" not in below


def test_the_profile_splits_telemetrys_cpu_into_its_code_the_applications_and_the_rest():
    on = Figures(services_ms=10.8, python_ms=7.3, telemetry_ms=2.3)
    off = Figures(services_ms=6.5, python_ms=3.3, telemetry_ms=0.05)
    lines = where_telemetrys_cpu_goes(on, off)
    assert lines[0].endswith("the services' CPU +4.30 ms")
    assert "Python holding the GIL: +4.00 ms" in lines[1]
    assert "telemetry's own code: 2.25 ms" in lines[2]
    assert "application's own code, slower beside it: 3.25 -> 5.00 ms, +1.75 ms" in lines[3]
    assert "gRPC's own threads): +0.30 ms" in lines[4]
    # The decoy: the application's code as fast as without telemetry shows no slowdown.
    unchanged = Figures(services_ms=8.55, python_ms=5.55, telemetry_ms=2.3)
    assert "3.25 -> 3.25 ms, +0.00 ms" in where_telemetrys_cpu_goes(unchanged, off)[3]


def test_the_profiles_reader_leaves_out_a_line_that_is_no_stack(tmp_path):
    (tmp_path / "gateway.txt").write_text(
        "thread (12): waitress-1;handle (app.py:3) 7\n"
        "Error: process 4242 has gone away\n"  # the decoy: int("away") was a crash
        "thread (13): waitress-2;handle (app.py:3) 2\n"
    )
    assert threads(tmp_path) == (9, Counter(waitress=9))
