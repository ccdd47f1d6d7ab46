"""The docs' snippets, read, typed and taken back out, on small made-up pages and on the
real docs: the one source of the checkpoints.

tests/test_checkpoints.py runs the real checkpoints; tests/test_learner.py types every
section's snippets forward and reaches the next checkpoint.
"""

from textwrap import dedent

import pytest

from workshop.checkpoints import (
    ROOT,
    SECTIONS,
    CheckpointError,
    checkpoint_of,
    edited_files,
    read,
    tidy,
)
from workshop.snippets import Snippet, SnippetError, apply, snippets, take_back

FENCE = "```"


def page(*blocks: tuple[str, str, str], section: int = 3) -> dict[str, str]:
    """A section's page, docs/03-x.md, with these (hint, language, body) blocks."""
    text = f"# Section {section}: x\n\n"
    for hint, language, body in blocks:
        text += f"Some words.\n\n<!-- {hint} -->\n{FENCE}{language}\n{body}{FENCE}\n\n"
    return {f"docs/{section:02}-x.md": text}


def one(hint: str, language: str, body: str, section: int = 3) -> Snippet:
    """The snippet of a block whose body is indented in this file, as dedent() takes it."""
    [snippet] = snippets(page((hint, language, dedent(body)), section=section))
    return snippet


SOURCE = dedent("""\
    import logging


    def distance(a, b):
        logger.info("asked")
        km = compute(a, b)
        return km


    def other():
        km = compute(1, 2)
        return km
""")

SPAN = one(
    "file: app.py",
    "diff",
    """\
     def distance(a, b):
         ...
         logger.info("asked")
    -    km = compute(a, b)
    +    with tracer.start_as_current_span("distance"):
    +        km = compute(a, b)
         return km
    """,
)


def test_a_diff_is_typed_in_place_and_replaces_its_minus_lines():
    typed = apply(SPAN, SOURCE)

    assert typed == SOURCE.replace(
        "    km = compute(a, b)\n",
        '    with tracer.start_as_current_span("distance"):\n        km = compute(a, b)\n',
    )
    assert "def other():\n    km = compute(1, 2)\n" in typed  # the same line elsewhere


def test_taking_a_diff_back_gives_the_code_before_it():
    assert take_back(SPAN, apply(SPAN, SOURCE)) == SOURCE


def test_a_snippet_knows_its_section_file_and_place_in_the_docs():
    assert (SPAN.section, SPAN.file, SPAN.page) == (3, "app.py", "docs/03-x.md:6")


def test_yaml_is_typed_at_the_indentation_the_docs_show():
    config = "processors:\n  batch: {}\nservice:\n  pipelines: {}\n"
    snippet = one(
        "file: config.yml",
        "diff",
        """\
         processors:
           batch: {}
        +  tail_sampling:
        +    decision_wait: 20s
         service:
        """,
    )
    assert apply(snippet, config) == (
        "processors:\n  batch: {}\n  tail_sampling:\n    decision_wait: 20s\n"
        "service:\n  pipelines: {}\n"
    )


def test_an_import_block_goes_below_the_imports_and_is_left_to_ruff_to_take_back():
    snippet = one("file: app.py, at: imports", "python", "from opentelemetry import trace\n")

    assert apply(snippet, SOURCE).startswith("import logging\nfrom opentelemetry import trace\n")
    assert take_back(snippet, SOURCE) == SOURCE


@pytest.mark.parametrize(
    ("hint", "language", "body", "message"),
    [
        ("file: app.py", "diff", "x = 1\n+y = 2\n", "line 1 of the diff starts with 'x'"),
        ("file: app.py", "diff", "+y = 2\n", "every part of a diff shows a line already"),
        ("file: app.py", "diff", " x = 1\n ...\n+y = 2\n", "every part of a diff shows"),
        ("file: app.py", "diff", " x = 1\n", "a diff with nothing to add or remove"),
        ("at: imports", "python", "import os\n", "the hint above a snippet is file:"),
        ("file: app.py, at: imports", "python", "x = 1\n", "an `at: imports` block holds"),
        ('file: app.py, after: "x"', "diff", " x\n+y\n", "the hint above a snippet is"),
    ],
)
def test_a_snippet_that_cannot_be_read_says_where_it_is(hint, language, body, message):
    with pytest.raises(SnippetError, match=f"^docs/03-x.md:6: {message}"):
        snippets(page((hint, language, body)))


def test_a_snippet_whose_lines_are_not_in_the_file_says_which_and_where():
    moved = SOURCE.replace('logger.info("asked")', 'logger.info("asked for a distance")')
    message = "docs/03-x.md:6: section 3's snippet for app.py: the lines before the change"
    with pytest.raises(SnippetError, match=f"^{message} are found at 0 places"):
        apply(SPAN, moved)
    with pytest.raises(SnippetError, match="the changed lines are found at 0 places"):
        take_back(SPAN, moved)


def test_a_snippet_found_at_two_places_is_refused():
    twice = one("file: app.py", "diff", "     km = compute(1, 2)\n+    log()\n")
    with pytest.raises(SnippetError, match="found at 2 places"):
        apply(twice, SOURCE.replace("compute(a, b)", "compute(1, 2)"))


# --- The real docs: the source of every checkpoint ------------------------------------------


def solution() -> dict[str, str]:
    return {path: read(ROOT / path) for path in edited_files(snippets())}


def test_every_snippet_of_the_docs_is_taken_back_out_of_the_solution():
    files = solution()
    checkpoint_of(files, 0)  # raises on a snippet that does not match
    for snippet in snippets():
        if not snippet.imports:
            # Its changed lines are in the code at the end of its section, not before.
            end = checkpoint_of(files, snippet.section + 1)[snippet.file]
            start = checkpoint_of(files, snippet.section)[snippet.file]
            assert end != start, snippet


def test_a_snippet_that_no_longer_matches_the_solution_fails_with_its_file_and_section():
    files = solution()
    files["common/telemetry.py"] = files["common/telemetry.py"].replace(
        "    RequestsInstrumentor().instrument()\n",
        "    RequestsInstrumentor().instrument(tracer_provider=None)\n",
    )
    with pytest.raises(CheckpointError) as error:
        checkpoint_of(files, 0)
    assert "docs/04-distributed-tracing.md:" in str(error.value)
    assert "section 4's snippet for common/telemetry.py" in str(error.value)
    assert "does the snippet still match the solution?" in str(error.value)


def test_a_snippet_that_leaves_the_code_broken_when_taken_back_is_refused():
    body = """\
     def current_trace_id() -> str | None:
    +    \"\"\"The trace id of the request being handled, as Grafana and Tempo show it.\"\"\"
    +    context = trace.get_current_span().get_span_context()
    +    return trace.format_trace_id(context.trace_id) if context.is_valid else None
    """
    emptied = one("file: common/telemetry.py", "diff", body, section=12)
    with pytest.raises(CheckpointError, match="^docs/12-x.md:6: .* leaves common/telemetry.py"):
        checkpoint_of(solution(), 0, [*snippets(), emptied])


def test_an_import_the_section_start_already_has_is_refused():
    twice = one("file: common/telemetry.py, at: imports", "python", "import logging\n")
    with pytest.raises(CheckpointError, match=r"\('logging', ''\)\] imported already"):
        checkpoint_of(solution(), 0, [*snippets(), twice])


def test_an_import_the_section_does_not_use_is_refused():
    unused = one("file: common/telemetry.py, at: imports", "python", "import json\n")
    with pytest.raises(CheckpointError, match=r"\('json', ''\)\] not imported by the code"):
        checkpoint_of(solution(), 0, [*snippets(), unused])


def test_sections_without_code_share_the_code_of_the_section_before():
    files = solution()
    assert checkpoint_of(files, 5) == checkpoint_of(files, 9)
    assert checkpoint_of(files, 10) == checkpoint_of(files, 11)
    assert checkpoint_of(files, max(SECTIONS) + 1) == files


# --- Unused imports and formatting, by ruff ------------------------------------------------


def test_imports_that_are_no_longer_used_are_removed_and_the_rest_sorted():
    source = (
        "from common.http import x\nimport os\nimport logging\n\nlogger = logging.getLogger()\nx\n"
    )
    assert tidy(source, "app/module.py") == (
        "import logging\n\nfrom common.http import x\n\nlogger = logging.getLogger()\nx\n"
    )


def test_unused_imports_go_from_a_packages_init_too():
    assert tidy("import os\nimport sys\n\nsys.exit()\n", "app/__init__.py") == (
        "import sys\n\nsys.exit()\n"
    )


def test_the_result_is_formatted_as_ruff_formats():
    assert tidy("x = {'a':1}\n\n\n\n\ny = 2\n", "app/module.py") == 'x = {"a": 1}\n\n\ny = 2\n'
