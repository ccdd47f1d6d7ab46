"""The alerting rules: checked and unit-tested by promtool, as `make alerts` does it.

promtool is Prometheus's own tool, built from the same Go module and version as the
native Prometheus (native/build_backends.py). `promtool check config` validates
platform/prometheus.yml and the rule files it names; `promtool test rules` feeds made-up series
to the rules and compares the alerts that fire with those platform/prometheus/alerts.test.yml
expects. Whether the rules fire on real telemetry is tests/test_alerting.py's question.
"""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from native import build_backends
from native.run_stack import ROOT
from tests.test_containers import compose_config

CONFIG = ROOT / "platform/prometheus.yml"
RULES = ROOT / "platform" / "prometheus" / "alerts.yml"
RULES_TESTS = ROOT / "platform" / "prometheus" / "alerts.test.yml"


@pytest.fixture(scope="module")
def promtool() -> str:
    return str(build_backends.build(build_backends.backends()["promtool"]))


def run(promtool: str, *arguments: Path | str) -> subprocess.CompletedProcess:
    return subprocess.run([promtool, *map(str, arguments)], capture_output=True, text=True)


@pytest.mark.platform  # promtool, built from its Go module
def test_prometheus_yml_and_the_rules_it_loads_are_valid(promtool):
    result = run(promtool, "check", "config", CONFIG)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 2 rules found" in result.stdout  # the rule file was found and read


@pytest.mark.platform  # promtool, built from its Go module
def test_the_rules_pass_their_unit_tests(promtool):
    result = run(promtool, "test", "rules", RULES_TESTS)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


@pytest.fixture
def copy_of_the_rules(tmp_path) -> Path:
    """The rules and their unit tests, in a folder where a test may break them."""
    for path in (RULES, RULES_TESTS):
        shutil.copy(path, tmp_path)
    return tmp_path


@pytest.mark.platform  # promtool, built from its Go module
@pytest.mark.parametrize(
    ("change", "failing_alert"),
    [
        (("> 0.05", "> 0.5"), "HighErrorRatio"),  # a threshold too high to notice iss-errors
        (("for: 1m", "for: 5m"), "HighErrorRatio"),  # too slow for the workshop
        (("> 1\n", "> 3\n"), "HighLatency"),  # a threshold above iss-latency's 1.5 s
    ],
    ids=["error threshold", "for", "latency threshold"],
)
def test_a_rule_changed_for_the_worse_fails_its_unit_tests(
    promtool, copy_of_the_rules, change, failing_alert
):
    rules = copy_of_the_rules / RULES.name
    text = rules.read_text()
    assert change[0] in text
    rules.write_text(text.replace(change[0], change[1], 1))

    result = run(promtool, "test", "rules", copy_of_the_rules / RULES_TESTS.name)

    assert result.returncode == 1
    assert f"alertname: {failing_alert}" in result.stderr  # what failed, and why


@pytest.mark.platform  # promtool, built from its Go module
def test_a_rule_that_is_no_promql_is_refused(promtool, copy_of_the_rules):
    rules = copy_of_the_rules / RULES.name
    text = rules.read_text()
    grouping = "sum by (le, service_namespace, service_name)"
    assert grouping in text
    rules.write_text(text.replace(grouping, "sum by (le", 1))

    result = run(promtool, "check", "rules", rules)

    assert result.returncode == 1
    assert "parse error" in result.stderr


def test_docker_mounts_each_rule_file_where_prometheus_yml_names_it():
    """rule_files are relative to prometheus.yml: natively the repository's
    platform/prometheus/, in the container a folder of the same name beside
    /etc/prometheus/prometheus.yml."""
    prometheus = compose_config("docker-compose.yml")["services"]["prometheus"]
    mounts = {volume["target"]: volume["source"] for volume in prometheus["volumes"]}
    config = Path(mounts["/etc/prometheus/prometheus.yml"])
    rule_files = yaml.safe_load(CONFIG.read_text())["rule_files"]

    assert rule_files == ["prometheus/alerts.yml"]
    for rule_file in rule_files:
        # The folder is mounted, with the rules' unit tests: promtool runs them in there.
        folder = Path(rule_file).parent
        assert Path(mounts[f"/etc/prometheus/{folder}"]) == config.parent / folder
