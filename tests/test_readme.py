"""README.md is the workshop: its snippets are the solution code, its commands work.

The queries it shows are run against the real platform in tests/test_platform.py.
"""

import os
import re
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from common.faults import KNOWN as KNOWN_FAULTS
from tests.readme import code_blocks, commands
from workshop.checkpoints import SECTIONS, checkpoint_source

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def solution_lines(path: Path) -> list[str]:
    """A source file as the finished code reads: without markers or "before" lines.

    The start of the last section is the finished solution.
    """
    return checkpoint_source(path.read_text(), SECTIONS[-1], str(path)).splitlines()


def python_sources() -> list[Path]:
    tracked = subprocess.run(
        ["git", "ls-files", "*.py"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    return [ROOT / name for name in tracked]


def appears_in(snippet: list[str], lines: list[str]) -> bool:
    """Whether the snippet's lines are a run of `lines`, indented alike."""
    for start in range(len(lines) - len(snippet) + 1):
        window = textwrap.dedent("\n".join(lines[start : start + len(snippet)]))
        if window.splitlines() == snippet:
            return True
    return False


@pytest.mark.parametrize("snippet", code_blocks("python"), ids=lambda s: s.splitlines()[0][:50])
def test_every_python_snippet_is_in_the_solution_code(snippet):
    lines = textwrap.dedent(snippet).splitlines()
    assert any(appears_in(lines, solution_lines(path)) for path in python_sources()), (
        "this README snippet is not in the code any more:\n" + snippet
    )


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
    for variable, value in env.items():
        if variable == "FAULTS":
            assert set(value.split(",")) <= KNOWN_FAULTS
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
    profiles = []
    while words[0] == "--profile":
        profiles += words[:2]
        words = words[2:]
    subcommand, arguments = words[0], words[1:]
    services = [a for a in arguments if not a.startswith("-")]
    flags = [a.split("=")[0] for a in arguments if a.startswith("-")]
    compose = [BIN / "docker-compose", *profiles]
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
    if "FAULTS" in env:
        assert set(env["FAULTS"].split(",")) <= KNOWN_FAULTS
