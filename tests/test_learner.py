"""A learner who types exactly what the docs show reaches the next checkpoint.

For each section with code, start from the checkpoint at its start, type the section's
snippets verbatim, as workshop/snippets.py reads them (tests/learner.py), and require:

- exactly the code of the next checkpoint (after the last section, the finished
  solution), once ruff has tidied the typed Python files as the checkpoint generator
  tidies its own: the imports typed below the others merged and sorted, formatted;
- the section's self-check, `python -m workshop.check N`, passing against the native
  platform with the typed code running, not the tidied one, and the typed collector
  config (sections 11 and 12 change the collector, not the services).

Sections 5 to 8 have no code: tests/test_self_check.py covers their checks. Section 9
starts from the code of sections 5 to 8 and ends with the finished solution.
"""

import difflib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.polling import wait_for
from tests.learner import SnippetError, snippets, type_section
from tests.readme import blocks, section_pages
from tests.self_checks import check_env, collector_from, load, services, until_passes
from workshop.backends import Jaeger
from workshop.checkpoints import normal_form, tidy, write_checkpoint

# A platform test (pyproject.toml): it needs the native platform.
pytestmark = pytest.mark.platform

SECTIONS_WITH_CODE = [0, 1, 2, 3, 4, 9, 11, 12]
# What a learner does in a section besides typing, before its check can pass.
ALSO = {11: load}  # section 11's check needs the load generator's traffic
RUFF = shutil.which("ruff", path=Path(sys.executable).parent)


def test_every_code_block_of_the_sections_is_a_snippet_of_a_section_with_code():
    assert {snippet.section for snippet in snippets()} == set(SECTIONS_WITH_CODE)
    # Every diff and every Python block of the sections' pages is typed: none is left
    # out of the checkpoints by a hint that the reader does not see.
    pages = [page.read_text() for page in section_pages().values()]
    shown = sum(len(blocks(text, language)) for text in pages for language in ("diff", "python"))
    assert len(snippets()) == shown


def typed_and_expected(section: int, tmp_path: Path) -> tuple[Path, Path, dict]:
    tree = write_checkpoint(section, tmp_path / "typed")
    expected = write_checkpoint(section + 1, tmp_path / "expected")
    try:
        typed = type_section(section, tree)
    except SnippetError as error:
        pytest.fail(str(error))
    return tree, expected, typed


def differences(typed: dict[str, list[str]], tree: Path, expected: Path) -> list[str]:
    """Where the typed tree differs from the expected checkpoint, as unified diffs."""
    found = []
    compared = [*expected.rglob("*.py"), *(expected / path for path in typed)]
    for path in sorted({p.relative_to(expected).as_posix() for p in compared}):
        mine, theirs = (tree / path).read_text(), (expected / path).read_text()
        if path in typed and path.endswith(".py"):
            mine = tidy(mine, path)
        if mine != theirs:
            diff = difflib.unified_diff(
                theirs.splitlines(), mine.splitlines(), "expected", "typed", lineterm=""
            )
            snippets_here = "\n".join(typed.get(path, ["no snippet edits this file"]))
            found.append(f"{path}, after:\n{snippets_here}\n" + "\n".join(diff))
    return found


@pytest.mark.parametrize("section", SECTIONS_WITH_CODE)
def test_typing_a_section_reaches_exactly_the_next_checkpoint(tmp_path, section):
    tree, expected, typed = typed_and_expected(section, tmp_path)

    found = differences(typed, tree, expected)
    assert not found, f"section {section}:\n" + "\n\n".join(found)


@pytest.mark.parametrize("section", SECTIONS_WITH_CODE)
def test_the_typed_section_passes_its_check(stack, tmp_path, section):
    tree, _expected, _typed = typed_and_expected(section, tmp_path)

    with collector_from(stack, tree), services(stack, tmp_path, root=tree) as running:
        if section in ALSO:
            ALSO[section](running.urls["frontend"])
        result = until_passes(section, check_env(stack, running))
    assert result.returncode == 0, result.stdout
    if section in WHERE_TO_LOOK:
        WHERE_TO_LOOK[section](Jaeger(stack.urls["jaeger"]))


# --- What the docs' "Where to look" shows, once a section is typed ---------------------------


def traces_of_the_iss_spans(jaeger: Jaeger) -> list[set[str]]:
    """For each recent trace with an iss.position or iss.distance span, its span names."""
    traces = [
        {span["name"] for span in jaeger.trace(trace_id)}
        for trace_id in jaeger.search("iss-distance-service")
    ]
    return [names for names in traces if names & ISS_SPANS]


ISS_SPANS = {"iss.position", "iss.distance"}


def two_traces_of_one_span(jaeger: Jaeger) -> None:
    """Section 3: nothing spans the whole request yet, so each request makes two traces,
    one `iss.position` span and one `iss.distance` span, each the root of its own."""

    def both_arrived():
        traces = traces_of_the_iss_spans(jaeger)
        return traces if set().union(*traces) == ISS_SPANS else None

    traces = wait_for(both_arrived)
    assert traces and all(len(names) == 1 for names in traces), traces


def one_trace_for_the_request(jaeger: Jaeger) -> None:
    """Section 4: the request's server spans join them in one trace across the services."""
    joined = wait_for(
        lambda: [names for names in traces_of_the_iss_spans(jaeger) if names > ISS_SPANS]
    )
    assert joined, traces_of_the_iss_spans(jaeger)


WHERE_TO_LOOK = {3: two_traces_of_one_span, 4: one_trace_for_the_request}


# --- make status: the typed code, formatted and commented as a learner might ---------------


def as_a_learner_might_type(text: str, path: str) -> str:
    """The same code in another form: the imports in another order, comments of the
    learner's own, and (Python) lines wrapped at 60 characters."""
    if path.endswith((".yml", ".yaml")):
        return "# my copy of the config\n" + text.replace("\n\n", "\n# a note of mine\n\n")
    lines = text.splitlines()
    imports = [n for n, line in enumerate(lines) if re.match(r"(from \S+ )?import [^(]*$", line)]
    for n, line in zip(imports, reversed([lines[n] for n in imports]), strict=True):
        lines[n] = line
    commented = ["# typed from the docs, section by section"]
    for line in lines:
        if line.lstrip().startswith(("def ", "class ")):
            commented.append(line[: len(line) - len(line.lstrip())] + "# typed from the docs")
        commented.append(line)
    ruff = [RUFF, "format", "--line-length", "60", "--stdin-filename", path, "-"]
    formatted = subprocess.run(
        ruff, input="\n".join(commented) + "\n", capture_output=True, text=True
    )
    assert formatted.returncode == 0, formatted.stderr
    return formatted.stdout


@pytest.mark.parametrize("section", SECTIONS_WITH_CODE)
def test_status_recognises_the_typed_section_in_a_form_of_the_learners_own(tmp_path, section):
    tree, expected, typed = typed_and_expected(section, tmp_path)
    start = write_checkpoint(section, tmp_path / "start")

    for path in typed:
        mine = as_a_learner_might_type((tree / path).read_text(), path)
        assert mine != (expected / path).read_text()  # the form is the learner's own
        assert normal_form(mine, path) == normal_form((expected / path).read_text(), path)
        assert normal_form(mine, path) != normal_form((start / path).read_text(), path)
        # A real difference is still one.
        changed = mine + ("\nprint('typed twice')\n" if path.endswith(".py") else "extra: {}\n")
        assert normal_form(changed, path) != normal_form((expected / path).read_text(), path)
