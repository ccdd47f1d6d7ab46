"""A learner who types exactly what the docs show reaches the next checkpoint.

For each section with code, start from the checkpoint at its start, type the section's
Python and YAML snippets where their placement hints say (tests/learner.py), and require:

- the code of the next checkpoint (after the last section, the finished solution),
  compared after ruff has tidied the typed Python files as the checkpoint generator
  tidies its own (imports merged and sorted, unused ones removed, formatted), and blank
  lines aside;
- the section's self-check, `python -m workshop.check N`, passing against the native
  platform with the typed code running, not the tidied one, and the typed collector
  config (sections 11 and 12 change the collector, not the services).

Sections 5 to 8 have no code: tests/test_self_check.py covers their checks. Section 9
starts from the code of sections 5 to 8 and ends with the finished solution.
"""

import difflib
from pathlib import Path

import pytest

from tests.learner import LANGUAGES, Snippet, SnippetError, apply, snippets
from tests.readme import code_blocks, config_snippets
from tests.self_checks import check_env, collector_from, load, services, until_passes
from workshop.checkpoints import tidy, write_checkpoint

SECTIONS_WITH_CODE = [0, 1, 2, 3, 4, 9, 11, 12]
# What a learner does in a section besides typing, before its check can pass.
ALSO = {11: load}  # section 11's check needs the load generator's traffic


def test_every_snippet_belongs_to_a_section_with_code():
    assert {snippet.section for snippet in snippets()} == set(SECTIONS_WITH_CODE)
    # None outside the sections; the config parts that are only shown are checked
    # against their files by tests/test_readme.py.
    shown = len(config_snippets("yaml"))
    assert len(snippets()) + shown == sum(len(code_blocks(lang)) for lang in LANGUAGES)


def type_section(section: int, tree: Path) -> dict[str, list[str]]:
    """Type the section's snippets into `tree`; return which ones went into each file."""
    typed = {}
    for snippet in (s for s in snippets() if s.section == section):
        apply(snippet, tree)
        typed.setdefault(snippet.hint["file"], []).append(str(snippet))
    return typed


def code_lines(text: str, path: str) -> list[str]:
    """The file as ruff tidies a Python file, without its blank lines."""
    tidied = tidy(text, path) if path.endswith(".py") else text
    return [line.rstrip() for line in tidied.splitlines() if line.strip()]


def differences(typed: dict[str, list[str]], tree: Path, expected: Path) -> list[str]:
    """Where the typed tree differs from the expected checkpoint, as unified diffs."""
    found = []
    compared = [*expected.rglob("*.py"), *(expected / path for path in typed)]
    for path in sorted({p.relative_to(expected).as_posix() for p in compared}):
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

    with collector_from(stack, tree), services(stack, tmp_path, root=tree) as running:
        if section in ALSO:
            ALSO[section](running.urls["frontend"])
        result = until_passes(section, check_env(stack, running))
    assert result.returncode == 0, result.stdout


# --- Placing a YAML snippet -----------------------------------------------------------------

CONFIG = """\
processors:
  batch:
    timeout: 200ms
  # a comment about the next one
  memory_limiter: {}
service:
  pipelines:
    traces:
      processors: [batch]
    logs:
      processors: [batch]
"""


def typed_yaml(tmp_path: Path, code: str, **hint: str) -> str:
    (tmp_path / "config.yml").write_text(CONFIG)
    apply(Snippet(11, code, {"file": "config.yml", **hint}), tmp_path)
    return (tmp_path / "config.yml").read_text()


def test_a_yaml_snippet_goes_after_the_whole_entry_at_its_indentation(tmp_path):
    typed = typed_yaml(tmp_path, "extra:\n  on: true\n", **{"in": "processors", "after": "batch:"})

    assert "    timeout: 200ms\n  extra:\n    on: true\n  # a comment" in typed


def test_a_yaml_snippet_replaces_an_entry_of_the_mapping_its_path_names(tmp_path):
    hint = {"in": "service.pipelines.logs", "replace": "processors:"}
    typed = typed_yaml(tmp_path, "processors: [memory_limiter, batch]\n", **hint)

    assert typed.splitlines()[-3:] == [
        "      processors: [batch]",  # the traces pipeline's, untouched
        "    logs:",
        "      processors: [memory_limiter, batch]",
    ]


@pytest.mark.parametrize(
    ("hint", "message"),
    [
        ({"in": "service.pipelines", "after": "processors:"}, "0 entries in service.pipelines"),
        ({"in": "exporters", "after": "x:"}, "0 keys 'exporters'"),
        ({"at": "end"}, "'at' is for Python"),
    ],
)
def test_a_yaml_snippet_that_cannot_be_placed_says_why(tmp_path, hint, message):
    with pytest.raises(SnippetError, match=message):
        typed_yaml(tmp_path, "x: 1\n", **hint)
