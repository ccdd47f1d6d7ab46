"""Every checkpoint runs, and emits exactly the telemetry of the sections before it.

workshop/checkpoints.py writes each checkpoint from the solution and the docs' snippets.
Here each one is written to a folder of its own, and its four services run from there
as real processes, exporting to a real OTLP endpoint. After one form submission they
are stopped, which flushes whatever they had buffered: what has not arrived by then
was never emitted.

The checkpoints that differ are the starts of sections 0 to 5, and the start and end of
section 9: sections 5 to 8 add no code, and section 9 adds a histogram and a View to
the code of section 5.
"""

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import yaml

from common.services import SERVICES
from harness.browser import free_ports, submit, trace_id_of
from native.run_services import start_services, stop
from tests.otlp_receiver import OtlpReceiver, Received
from workshop.checkpoints import ROOT, SECTIONS, write_checkpoint

ISS = "iss-distance-service"
ALL_SERVICES = {service.name for service in SERVICES}
RUFF = shutil.which("ruff", path=Path(sys.executable).parent)

# What the sections add, as (service, name).
CUSTOM_METRICS = {(ISS, "iss.requests"), (ISS, "incoming.requests")}  # section 1
CUSTOM_SPANS = {(ISS, "iss.position"), (ISS, "iss.distance")}  # section 3
HTTP_DURATION = {(service, "http.server.request.duration") for service in ALL_SERVICES}  # 4
POSITION_DURATION = (ISS, "iss.position.duration")  # section 9


@dataclass
class Run:
    """What one form submission to a checkpoint's services answered and emitted."""

    page: requests.Response
    spans: list[Received]
    metrics: list[Received]
    logs: list[Received]

    def shows_a_trace_id(self) -> bool:
        return 'id="trace-id"' in self.page.text


def run_checkpoint(section: int, tmp_path: Path) -> Run:
    """Write the start of `section`, run its services, submit the form once, stop them."""
    tree = write_checkpoint(section, tmp_path / "checkpoint")
    receiver = OtlpReceiver()
    receiver.start()
    env = {
        "OFFLINE": "true",
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        "OTEL_METRIC_EXPORT_INTERVAL": "1000",
        "OTEL_BSP_SCHEDULE_DELAY": "200",
    }
    try:
        with start_services(env, free_ports(), tmp_path, root=tree) as running:
            page = submit(running.urls["frontend"])
            stop(running.processes.values())  # SIGTERM: each service flushes its telemetry
    finally:
        receiver.stop()
    assert page.status_code == 200
    assert 'id="distance"' in page.text
    return Run(page, receiver.spans, receiver.metrics, receiver.logs)


def names(received: list[Received]) -> set[tuple[str, str]]:
    return {(r.service, r.item.name) for r in received}


def logged(run: Run, text: str) -> list[Received]:
    return [r for r in run.logs if text in r.item.body.string_value]


def flags_evaluated(span) -> set[str]:
    """The feature flags (the faults of section 8) whose evaluation a span records."""
    return {
        attribute.value.string_value
        for event in span.events
        if event.name == "feature_flag.evaluation"
        for attribute in event.attributes
        if attribute.key == "feature_flag.key"
    }


@pytest.mark.parametrize("section", SECTIONS)
def test_every_checkpoint_passes_ruff_and_its_configs_stay_yaml(section, tmp_path):
    tree = write_checkpoint(section, tmp_path)
    for command in (["check", "--quiet"], ["format", "--check", "--quiet"]):
        result = subprocess.run([RUFF, *command, "."], cwd=tree, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout
    for path in [*tree.rglob("*.yml"), *tree.rglob("*.yaml")]:
        if "node_modules" not in path.parts:
            # A config's checkpoint is still valid YAML. Parsed, not loaded: Compose's own
            # tags (`!override` in docker-compose.room.yml) mean nothing to PyYAML.
            yaml.compose(path.read_text(), Loader=yaml.SafeLoader)


def test_the_sections_without_code_of_their_own_all_start_alike(tmp_path):
    # A block is kept from its section on, so if 5 and 9 start alike, so do 6, 7 and 8.
    fifth, ninth = (write_checkpoint(section, tmp_path / str(section)) for section in (5, 9))
    assert files_in(fifth) == files_in(ninth)


def files_in(tree: Path) -> dict[str, bytes]:
    files = (path for path in tree.rglob("*") if path.is_file())
    return {path.relative_to(tree).as_posix(): path.read_bytes() for path in files}


def test_the_start_of_section_0_is_the_application_without_telemetry(tmp_path):
    run = run_checkpoint(0, tmp_path)

    assert run.spans == run.metrics == run.logs == []
    assert not run.shows_a_trace_id()
    # Not a line of OpenTelemetry in the services' code: the learner writes it all.
    tree = tmp_path / "checkpoint"
    packages = [tree / "common"] + [tree / s.directory / s.package for s in SERVICES]
    code = [path for package in packages for path in package.rglob("*.py")]
    imports = re.compile(r"^\s*(from|import) opentelemetry\b", re.MULTILINE)
    assert code and [path.name for path in code if imports.search(path.read_text())] == []


@pytest.mark.platform  # the services of a checkpoint, as processes
def test_after_section_0_there_is_a_resource_but_nothing_to_send_yet(tmp_path):
    run = run_checkpoint(1, tmp_path)

    assert run.spans == run.metrics == run.logs == []
    assert not run.shows_a_trace_id()


@pytest.mark.platform  # the services of a checkpoint, as processes
def test_after_section_1_the_iss_service_sends_its_metrics(tmp_path):
    run = run_checkpoint(2, tmp_path)

    assert names(run.metrics) == CUSTOM_METRICS
    assert run.spans == run.logs == []
    assert not run.shows_a_trace_id()


@pytest.mark.platform  # the services of a checkpoint, as processes
def test_after_section_2_the_services_send_their_logs_too(tmp_path):
    run = run_checkpoint(3, tmp_path)

    assert names(run.metrics) == CUSTOM_METRICS
    assert {r.service for r in run.logs} == ALL_SERVICES  # waitress says "Serving on ..."
    position_logs = logged(run, "ISS position computed with SGP4")
    assert {r.service for r in position_logs} == {ISS}
    assert all(r.item.trace_id == b"" for r in run.logs)  # no spans yet, so no trace ids
    assert run.spans == []
    assert not run.shows_a_trace_id()


@pytest.mark.platform  # the services of a checkpoint, as processes
def test_after_section_3_the_iss_service_sends_its_own_spans(tmp_path):
    run = run_checkpoint(4, tmp_path)

    assert names(run.spans) == CUSTOM_SPANS  # no SERVER or CLIENT spans yet
    assert names(run.metrics) == CUSTOM_METRICS
    # The position is logged inside the iss.position span, so it carries its trace id.
    [position] = [r.item for r in run.spans if r.item.name == "iss.position"]
    [position_log] = logged(run, "ISS position computed with SGP4")
    assert (position_log.item.trace_id, position_log.item.span_id) == (
        position.trace_id,
        position.span_id,
    )
    # Section 3 also records the evaluations of the fault flags on the current span.
    assert flags_evaluated(position) == {"iss-latency", "iss-errors"}
    # Without the HTTP instrumentation the trace stays inside the ISS service.
    assert not run.shows_a_trace_id()


@pytest.mark.platform  # the services of a checkpoint, as processes
def test_after_section_4_one_trace_crosses_the_four_services(tmp_path):
    run = run_checkpoint(5, tmp_path)  # the code of sections 5 to 8 too: they add none

    trace_id = bytes.fromhex(trace_id_of(run.page))
    in_trace = [r for r in run.spans if r.item.trace_id == trace_id]
    assert {r.service for r in in_trace} == ALL_SERVICES
    assert names(in_trace) >= CUSTOM_SPANS
    assert {r.service for r in in_trace if r.item.kind == r.item.SPAN_KIND_SERVER} == ALL_SERVICES
    assert names(run.metrics) >= CUSTOM_METRICS | HTTP_DURATION
    assert POSITION_DURATION not in names(run.metrics)  # section 9's histogram
    [position_log] = logged(run, "ISS position computed with SGP4")
    assert position_log.item.trace_id == trace_id
    # The geolocator evaluates its fault flags in its server span.
    [geolocator] = [
        r.item
        for r in in_trace
        if r.service == "geolocator-service" and r.item.kind == r.item.SPAN_KIND_SERVER
    ]
    assert flags_evaluated(geolocator) == {"slow-geocoder", "wrong-place"}


@pytest.mark.platform  # the services of a checkpoint, as processes
def test_after_section_9_the_position_lookup_is_timed_into_the_views_buckets(tmp_path):
    run = run_checkpoint(10, tmp_path)  # the end of the workshop: the finished solution

    assert names(run.metrics) >= CUSTOM_METRICS | HTTP_DURATION | {POSITION_DURATION}
    *_, duration = [r.item for r in run.metrics if (r.service, r.item.name) == POSITION_DURATION]
    assert duration.unit == "s"
    [point] = duration.histogram.data_points  # offline, one source
    assert {(a.key, a.value.string_value) for a in point.attributes} == {
        ("iss.position.source", "sgp4")
    }
    assert 1.5 in point.explicit_bounds  # the View's buckets, not the SDK's 0, 5, 10, ...
    # The exemplar leads to the request's trace, and keeps the attribute the View dropped.
    [exemplar] = point.exemplars
    assert exemplar.trace_id == bytes.fromhex(trace_id_of(run.page))
    assert [a.key for a in exemplar.filtered_attributes] == ["iss.tle.age_days"]


# --- The command a learner runs: checkout, solution, status ------------------------------

GREETING = '''\
"""A made-up service with work for sections 1 and 2."""

import json
import logging

logger = logging.getLogger(__name__)


def greet(name):
    logger.info("greeting %s", name)
    return json.dumps({"greeting": f"Hello, {name}!"})
'''
CONFIG = "processors:\n  redact: {}\n  batch: {}   # kept as it is: YAML is not formatted by ruff\n"

# Each section's page, with the snippets that write the solution above.
PAGES = {
    "docs/01-logging.md": """\
# Section 1: logging

<!-- file: app/greeting.py -->
```diff
 def greet(name):
+    logger.info("greeting %s", name)
     return f"Hello, {name}!"
```
""",
    "docs/02-json.md": """\
# Section 2: JSON

<!-- file: app/greeting.py, at: imports -->
```python
import json
```

<!-- file: app/greeting.py -->
```diff
     logger.info("greeting %s", name)
-    return f"Hello, {name}!"
+    return json.dumps({"greeting": f"Hello, {name}!"})
```

<!-- file: app/config.yml -->
```diff
 processors:
-  noop: {}
+  redact: {}
   batch: {}   # kept as it is: YAML is not formatted by ruff
```
""",
}

# stash and commit need a name, which a fresh machine may not have configured.
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Learner",
    "GIT_AUTHOR_EMAIL": "learner@example.com",
    "GIT_COMMITTER_NAME": "Learner",
    "GIT_COMMITTER_EMAIL": "learner@example.com",
}


@pytest.fixture
def learner_repo(tmp_path) -> Path:
    """A small git repository with the checkpoint command, a solution and its docs."""
    (tmp_path / "workshop").mkdir()
    (tmp_path / "docs").mkdir()
    names = ("workshop/__init__.py", "workshop/checkpoints.py", "workshop/snippets.py")
    for name in (*names, "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "app").mkdir()
    (tmp_path / "app/greeting.py").write_text(GREETING)
    (tmp_path / "app/config.yml").write_text(CONFIG)
    for name, text in PAGES.items():
        (tmp_path / name).write_text(text)
    for command in (["init", "--quiet"], ["add", "."], ["commit", "--quiet", "-m", "Solution"]):
        git(tmp_path, *command)
    return tmp_path


def git(repo: Path, *arguments: str) -> str:
    return run(repo, "git", *arguments)


def workshop(repo: Path, *arguments: str) -> str:
    """`python -m workshop.checkpoints ...`, run as make runs it: from the root."""
    return run(repo, sys.executable, "-m", "workshop.checkpoints", *arguments)


def run(repo: Path, *command: str) -> str:
    env = {**os.environ, **GIT_IDENTITY}
    result = subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_checkout_puts_the_working_tree_at_the_start_of_a_section(learner_repo):
    greeting = learner_repo / "app/greeting.py"
    assert "finished solution" in workshop(learner_repo, "status")

    output = workshop(learner_repo, "checkout", "1")

    assert "now at the start of section 1" in output
    assert "import json" not in greeting.read_text()  # no longer used
    assert 'return f"Hello, {name}!"' in greeting.read_text()
    assert "logger.info" not in greeting.read_text()
    # Section 0 has no code here: its start is the same as section 1's.
    assert "start of sections 0 and 1 (the same code)" in workshop(learner_repo, "status")
    workshop(learner_repo, "checkout", "2")
    assert "start of section 2." in workshop(learner_repo, "status")
    assert "logger.info" in greeting.read_text()
    workshop(learner_repo, "checkout", "3")
    # The scratch repository's code changes up to section 3: every later start is the
    # finished solution.
    assert "holds the finished solution" in workshop(learner_repo, "status")
    assert git(learner_repo, "stash", "list") == ""  # nothing of the learner's to save


def test_a_learners_own_work_is_stashed_and_the_printed_recipe_brings_it_back(learner_repo):
    greeting = learner_repo / "app/greeting.py"
    notes = learner_repo / "notes.txt"  # a file of the learner's own, never touched
    notes.write_text("section 1: counters\n")
    workshop(learner_repo, "checkout", "1")
    first = greeting.read_text().replace("def greet(name):", "def greet(name):\n    pass")
    greeting.write_text(first)
    assert "your own changes" in workshop(learner_repo, "status")

    output = workshop(learner_repo, "checkout", "2")

    assert "workshop: my work before checkout 2" in git(learner_repo, "stash", "list")
    assert "logger.info" in greeting.read_text()
    recipe = re.search(
        r"To get your changes back: make solution, then (git stash apply \w+)", output
    )
    # More work, saved by a second stash on top of the first before the learner recovers.
    greeting.write_text(greeting.read_text() + "# more\n")
    workshop(learner_repo, "solution")
    assert greeting.read_text() == GREETING
    assert len(git(learner_repo, "stash", "list").splitlines()) == 2

    git(learner_repo, *recipe[1].split()[1:])

    assert greeting.read_text() == first
    assert notes.read_text() == "section 1: counters\n"


def test_a_yaml_config_is_checked_out_too_and_left_as_written(learner_repo):
    workshop(learner_repo, "checkout", "2")

    assert (learner_repo / "app/config.yml").read_text() == CONFIG.replace("redact", "noop")


def test_checkout_reads_the_snippets_of_the_last_commit(learner_repo):
    # A page edited since: the checkpoints stay those of the commit, as the files do.
    page = learner_repo / "docs/01-logging.md"
    page.write_text(page.read_text().replace("greeting %s", "hello %s"))

    workshop(learner_repo, "checkout", "1")

    assert "logger.info" not in (learner_repo / "app/greeting.py").read_text()


# --- make status recognises code that does what a checkpoint's does ------------------------

TYPED_SECTION_1 = '''\
"""A made-up service with work for sections 1 and 2."""
import logging


logger = logging.getLogger( __name__ )

# my own note: this is where section 1 goes
def greet(name):
    logger.info('greeting %s', name)  # typed by me
    return f'Hello, {name}!'
'''


def test_status_recognises_typed_code_formatted_and_commented_differently(learner_repo):
    workshop(learner_repo, "checkout", "1")
    (learner_repo / "app/greeting.py").write_text(TYPED_SECTION_1)

    status = workshop(learner_repo, "status")

    assert "the code at the start of section 2, formatting, comments" in status
    assert "section 1 is complete" in status


def test_status_recognises_the_solution_with_imports_in_another_order(learner_repo):
    greeting = learner_repo / "app/greeting.py"
    greeting.write_text(GREETING.replace("import json\nimport logging", "import logging, json"))
    config = learner_repo / "app/config.yml"
    config.write_text("# mine\nprocessors:\n    redact: {}\n    batch: {}\n")

    assert "finished solution, formatting" in workshop(learner_repo, "status")
    assert "every section is complete" in workshop(learner_repo, "status")


def test_status_still_reports_a_real_difference(learner_repo):
    workshop(learner_repo, "checkout", "1")
    greeting = learner_repo / "app/greeting.py"
    greeting.write_text(TYPED_SECTION_1.replace("'greeting %s'", "'greetings %s'"))

    assert "matches no checkpoint" in workshop(learner_repo, "status")
