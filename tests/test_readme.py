"""README.md and docs/ are the workshop: the parts of configs they show are in the
files, and their commands work.

The snippets a learner types are the checkpoints' source: workshop/checkpoints.py takes
them back out of the solution (tests/test_snippets.py), and a learner who types them
reaches the next checkpoint (tests/test_learner.py). The queries the pages show are run
against the real platform in tests/test_platform.py.
"""

import os
import re
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from common.faults import FAULTS
from common.services import SERVICES
from native.run_stack import PORTS
from tests.readme import commands, config_snippets, subsection, tables

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def appears_in(snippet: list[str], lines: list[str]) -> bool:
    """Whether the snippet's lines are a run of `lines`, indented alike."""
    for start in range(len(lines) - len(snippet) + 1):
        window = textwrap.dedent("\n".join(lines[start : start + len(snippet)]))
        if window.splitlines() == snippet:
            return True
    return False


@pytest.mark.parametrize(("path", "snippet"), config_snippets("yaml"), ids=lambda x: x[:40])
def test_every_yaml_snippet_is_a_part_of_the_file_it_names(path, snippet):
    assert path, f"no <!-- file: ... --> hint above the yaml block {snippet[:60]!r}"
    lines = [line for line in snippet.splitlines() if line.strip()]
    in_file = [line for line in (ROOT / path).read_text().splitlines() if line.strip()]
    assert appears_in(lines, in_file), f"the docs show a part of {path} that is not in it"


def test_the_readme_shows_the_alerting_rule_from_its_file():
    assert "prometheus/alerts.yml" in {path for path, _ in config_snippets("yaml")}


def split(command: str) -> tuple[dict, list[str]]:
    """`A=1 make x` -> ({"A": "1"}, ["make", "x"])."""
    words = shlex.split(command)
    env = {}
    while words and re.fullmatch(r"[A-Z_]+=\S*", words[0]):
        name, _, value = words.pop(0).partition("=")
        env[name] = value
    return env, words


def test_the_readme_shows_commands():
    assert "make test" in commands() and "make run" in commands()


@pytest.mark.parametrize("command", [c for c in commands() if split(c)[1][0] == "make"])
def test_every_make_command_is_a_target(command):
    env, words = split(command)
    targets = re.findall(r"^([a-z][a-z-]*):", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert words[1] in targets
    for argument in words[2:]:
        variable, _, value = argument.partition("=")
        if variable == "NAME":  # make fault NAME=...
            assert value in [*FAULTS, "off"], argument
    # A dry run: make knows how to do it (it runs nothing but its own checks).
    dry_run = subprocess.run(
        ["make", "-n", *words[1:]], cwd=ROOT, env={**os.environ, **env}, capture_output=True
    )
    assert dry_run.returncode == 0, dry_run.stderr
    # ... and what it would run exists: the scripts and the modules.
    planned = dry_run.stdout.decode()
    for script in re.findall(r"(\S+\.py)\b", planned):
        assert (ROOT / script).exists(), script
    for module in re.findall(r"-m (workshop\.\w+)", planned):
        assert (ROOT / module.replace(".", "/")).with_suffix(".py").exists(), module


@pytest.mark.parametrize(
    "command", [c for c in commands() if split(c)[1][:2] == ["docker", "compose"]]
)
def test_every_compose_command_is_valid(command):
    """Checked with the real Docker Compose binary; there is no engine here to run it."""
    env, words = split(command)
    words = words[2:]
    files, profiles = [], []
    while words[0] in ("-f", "--profile"):
        (files if words[0] == "-f" else profiles).extend(words[:2])
        words = words[2:]
    subcommand, arguments = words[0], words[1:]
    services = [a for a in arguments if not a.startswith("-")]
    flags = [a.split("=")[0] for a in arguments if a.startswith("-")]
    compose = [BIN / "docker-compose", *files, *profiles]
    run_env = {**os.environ, **env}

    config = subprocess.run(
        [*compose, "config", "--quiet", *services], cwd=ROOT, env=run_env, capture_output=True
    )
    assert config.returncode == 0, config.stderr
    defined = subprocess.run(
        [BIN / "docker-compose", "config", "--profiles"], cwd=ROOT, capture_output=True, text=True
    ).stdout.split()
    assert set(profiles[1::2]) <= set(defined), f"no such profile in {command}"
    usage = subprocess.run(
        [*compose, subcommand, "--help"], cwd=ROOT, capture_output=True, text=True
    )
    assert usage.returncode == 0, f"no such subcommand: {subcommand}"
    for flag in flags:
        assert re.search(rf"(^|[\s,]){re.escape(flag)}\b", usage.stdout), f"{subcommand} {flag}"


def test_the_laptop_table_measures_every_process_that_make_stack_and_make_run_start():
    """The figures are measurements (make footprint), so only the names are checked:
    a backend or service added later must be measured and added to the table."""
    rows = tables(subsection("What a laptop needs"))["process"]
    measured = {row[0] for row in rows}
    assert set(PORTS) | {service.name for service in SERVICES} <= measured
    assert "make footprint" in commands()
