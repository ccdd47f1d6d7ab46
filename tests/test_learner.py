"""A learner who types exactly what the README shows reaches the next checkpoint.

For each section with code, start from the checkpoint at its start, type the section's
Python snippets where their placement hints say (tests/learner.py), and require:

- the code of the next checkpoint, compared after ruff has tidied the typed files as the
  checkpoint generator tidies its own (imports merged and sorted, unused ones removed,
  formatted), and blank lines aside;
- the section's self-check, `python -m workshop.check N`, passing against the native
  platform with the typed code running, not the tidied one.

Sections 5 to 8 have no code: tests/test_self_check.py covers their checks. Section 9
starts from the code of sections 5 to 8 and ends with the finished solution.
"""

import difflib
from pathlib import Path

import pytest

from tests.learner import SnippetError, apply, snippets
from tests.readme import code_blocks
from tests.self_checks import check_env, services, until_passes
from workshop.checkpoints import tidy, write_checkpoint

SECTIONS_WITH_CODE = [*range(5), 9]


def test_every_python_snippet_belongs_to_a_section_with_code():
    assert {snippet.section for snippet in snippets()} == set(SECTIONS_WITH_CODE)
    assert len(snippets()) == len(code_blocks("python"))  # none outside the sections


def type_section(section: int, tree: Path) -> dict[str, list[str]]:
    """Type the section's snippets into `tree`; return which ones went into each file."""
    typed = {}
    for snippet in (s for s in snippets() if s.section == section):
        apply(snippet, tree)
        typed.setdefault(snippet.hint["file"], []).append(str(snippet))
    return typed


def code_lines(text: str, path: str) -> list[str]:
    """The file as ruff tidies it, without its blank lines."""
    return [line for line in tidy(text, path).splitlines() if line.strip()]


def differences(typed: dict[str, list[str]], tree: Path, expected: Path) -> list[str]:
    """Where the typed tree differs from the expected checkpoint, as unified diffs."""
    found = []
    for path in sorted(p.relative_to(expected).as_posix() for p in expected.rglob("*.py")):
        mine, theirs = (tree / path).read_text(), (expected / path).read_text()
        if mine != theirs and code_lines(mine, path) != code_lines(theirs, path):
            diff = difflib.unified_diff(
                code_lines(theirs, path), code_lines(mine, path), "expected", "typed", lineterm=""
            )
            snippets_here = "\n".join(typed.get(path, ["no snippet edits this file"]))
            found.append(f"{path}, after:\n{snippets_here}\n" + "\n".join(diff))
    return found


@pytest.mark.parametrize("section", SECTIONS_WITH_CODE)
def test_typing_a_section_reaches_the_next_checkpoint_and_passes_its_check(
    stack, tmp_path, section
):
    tree = write_checkpoint(section, tmp_path / "typed")
    expected = write_checkpoint(section + 1, tmp_path / "expected")
    try:
        typed = type_section(section, tree)
    except SnippetError as error:
        pytest.fail(str(error))

    found = differences(typed, tree, expected)
    assert not found, f"section {section}:\n" + "\n\n".join(found)

    with services(stack, tmp_path, root=tree) as running:
        result = until_passes(section, check_env(stack, running))
    assert result.returncode == 0, result.stdout
