"""The GitHub Actions workflow: actionlint finds nothing wrong in it, and it runs CI's
one definition, `.ci/run` (which runs `make test`), with nothing weaker in its place."""

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from native import build_backends

ROOT = build_backends.REPO
WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"


@pytest.fixture(scope="module")
def actionlint() -> Path:
    """Built from its Go module on first use and cached, like the backends."""
    return build_backends.build(build_backends.tools()["actionlint"])


@pytest.mark.platform  # actionlint, built from its Go module
def test_actionlint_is_the_pinned_release(actionlint):
    version = subprocess.run([actionlint, "-version"], capture_output=True, text=True).stdout
    assert version.splitlines()[0] == build_backends.read_env_file()["ACTIONLINT_VERSION"]


@pytest.mark.platform  # actionlint, built from its Go module
def test_actionlint_finds_no_problem_in_the_workflows(actionlint):
    # With no arguments it checks every file in .github/workflows.
    linted = subprocess.run([actionlint, "-no-color"], cwd=ROOT, capture_output=True, text=True)
    assert linted.returncode == 0, linted.stdout + linted.stderr


@pytest.mark.platform  # actionlint, built from its Go module
def test_actionlint_reports_a_broken_workflow(actionlint, tmp_path):
    """So that its silence above means something: an unknown key, a bad expression."""
    broken = WORKFLOW.read_text().replace("timeout-minutes:", "timeout-minute:")
    broken = broken.replace("${{ github.ref }}", "${{ github.reff }}")
    (tmp_path / "broken.yml").write_text(broken)
    linted = subprocess.run(
        [actionlint, "-no-color", tmp_path / "broken.yml"], capture_output=True, text=True
    )
    assert linted.returncode == 1
    assert 'unexpected key "timeout-minute" for "job" section' in linted.stdout
    assert 'property "reff" is not defined' in linted.stdout


def test_the_workflow_runs_ci_run_as_its_last_step_unconditionally():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    [job] = workflow["jobs"].values()
    runs = [step["run"] for step in job["steps"] if "run" in step]
    assert runs == ["bash .ci/run"]
    last = job["steps"][-1]
    assert last == {"run": "bash .ci/run"}  # no `if:`, no `continue-on-error`
    assert "continue-on-error" not in job and "if" not in job
    assert workflow["permissions"] == {"contents": "read"}
    assert 0 < job["timeout-minutes"] <= 90  # CI's own limit here (a run of .ci/run)


def test_ci_run_ends_with_make_test_and_make_test_runs_the_whole_suite():
    commands = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line]
    assert commands[-1] == "make test"
    recipe = re.search(r"^test:.*\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(), re.M)[1]
    assert recipe.split()[-3:] == ["$(VENV_PYTHON)", "-m", "pytest"]


def test_every_action_is_pinned_to_a_commit_with_its_release_named():
    uses = re.findall(r"uses: (\S+)@(\S+) # (v\S+)$", WORKFLOW.read_text(), re.M)
    assert len(uses) == WORKFLOW.read_text().count("uses:")
    for action, commit, release in uses:
        assert re.fullmatch(r"[0-9a-f]{40}", commit), action
        assert re.fullmatch(r"v\d+\.\d+\.\d+", release), action
