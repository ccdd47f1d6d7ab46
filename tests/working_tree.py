"""A learner's working tree: a clone of the repository's last commit, for a test to change.

The workshop's commands act on the tree they run in, so a test that puts the code at a
section's start (`make checkout`), or types snippets into it, does so in a clone, never
in the repository it runs from.
"""

import os
import subprocess
import sys
from pathlib import Path

from tests.learner import type_section
from workshop.checkpoints import ROOT, SECTIONS

STATES = ["solution", "checkout 7", "typed"]  # what a learner's working tree may hold


def clone(destination: Path) -> Path:
    """A clone of the repository's last commit (sharing its objects: quick)."""
    subprocess.run(["git", "clone", "--quiet", "--shared", str(ROOT), str(destination)], check=True)
    return destination


def run_in(tree: Path, *arguments: str, **env: str) -> str:
    """`python ARGUMENTS` in `tree`, with this virtualenv's Python; its output."""
    result = subprocess.run(
        [sys.executable, *arguments],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree), **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def in_state(tree: Path, state: str) -> Path:
    """Put `tree` in one of STATES: the finished solution as committed, the start of
    section 7 (`make checkout SECTION=7`), or checkpoint 0 with every snippet of the
    docs typed in by the learner simulator (tests/learner.py)."""
    if state == "checkout 7":
        run_in(tree, "-m", "workshop.checkpoints", "checkout", "7")
    elif state == "typed":
        run_in(tree, "-m", "workshop.checkpoints", "checkout", "0")
        for section in SECTIONS:
            type_section(section, tree)
    return tree


def zero_code_tree(tree: Path, cache: Path) -> Path:
    """The tree that `make zero-code` writes and runs, when run in `tree`."""
    code = "from native.run_services import write_zero_code_tree; print(write_zero_code_tree())"
    return Path(run_in(tree, "-c", code, XDG_CACHE_HOME=str(cache)).strip())
